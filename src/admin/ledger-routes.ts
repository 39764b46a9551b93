import type { FastifyInstance, FastifyReply } from 'fastify';
import type { LedgerService } from '../ledger/service.ts';
import { tokenMatches } from './token.ts';

export interface LedgerAdminDeps {
  ledger: LedgerService;
  /** The operator token every request must bear. */
  token: string;
}

/**
 * The operator's ledger API (register with prefix `/admin/api`): balances per account and
 * currency, and a payment's postings. Every route needs `Authorization: Bearer <operator token>`;
 * errors are `{error: {code, message}}`.
 */
export async function registerLedgerAdminRoutes(app: FastifyInstance, deps: LedgerAdminDeps): Promise<void> {
  const { ledger } = deps;
  const error = (reply: FastifyReply, status: number, code: string, message: string) => reply.code(status).send({ error: { code, message } });

  app.addHook('onRequest', async (req, reply) => {
    const m = /^Bearer\s+(\S+)$/i.exec(req.headers.authorization ?? '');
    if (!m || !tokenMatches(m[1]!, deps.token)) {
      reply.header('www-authenticate', 'Bearer realm="switchyard-admin"');
      return error(reply, 401, 'unauthorized', 'an operator token is required (Authorization: Bearer ...)');
    }
  });
  app.addHook('onSend', async (_req, reply) => { reply.header('cache-control', 'no-store'); });
  app.setErrorHandler(async (err: Error & { statusCode?: number }, _req, reply) => {
    const status = err.statusCode && err.statusCode < 500 ? err.statusCode : 500;
    return error(reply, status, status === 500 ? 'internal' : 'bad_request', status === 500 ? 'internal error' : err.message);
  });

  app.get('/ledger/balances', async (req, reply) => {
    const merchantId = (req.query as Record<string, unknown>).merchantId;
    if (typeof merchantId !== 'string' || merchantId === '') return error(reply, 400, 'merchant_required', 'merchantId is required');
    return { merchantId, balances: (await ledger.balances(merchantId)).map(({ merchantId: _, ...b }) => b) };
  });

  app.get('/ledger/payments/:paymentId', async (req) => {
    const { paymentId } = req.params as { paymentId: string };
    // A payment without postings (declined, pending, unknown id) has an empty history, not an error:
    // the ledger does not know which payments exist.
    return { paymentId, postings: await ledger.paymentPostings(paymentId) };
  });
}
