import type { FastifyInstance } from 'fastify';
import type { LedgerService } from '../ledger/service.ts';
import { adminError, guardAdminApi } from './api-guard.ts';
import { adminSchemas } from './schemas.ts';

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
  const error = adminError;

  guardAdminApi(app, deps.token);

  app.get('/ledger/balances', { schema: adminSchemas.balances }, async (req, reply) => {
    const merchantId = (req.query as Record<string, unknown>).merchantId;
    if (typeof merchantId !== 'string' || merchantId === '') return error(reply, 400, 'merchant_required', 'merchantId is required');
    return { merchantId, balances: (await ledger.balances(merchantId)).map(({ merchantId: _, ...b }) => b) };
  });

  app.get('/ledger/payments/:paymentId', { schema: adminSchemas.postings }, async (req) => {
    const { paymentId } = req.params as { paymentId: string };
    // A payment without postings (declined, pending, unknown id) has an empty history, not an error:
    // the ledger does not know which payments exist.
    return { paymentId, postings: await ledger.paymentPostings(paymentId) };
  });
}
