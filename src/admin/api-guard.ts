import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { fieldOf, type SchemaError } from '../runtime/json-schema.ts';
import { tokenMatches } from './token.ts';

/** The admin API's one error shape: `{error: {code, message}}`. */
export const adminError = (reply: FastifyReply, status: number, code: string, message: string) =>
  reply.code(status).send({ error: { code, message } });

/**
 * What every `/admin/api` scope shares: the operator token on every request, answers never
 * cached, and errors in the admin API's shape (an internal error never shows its message).
 */
export function guardAdminApi(app: FastifyInstance, token: string): void {
  app.addHook('onRequest', async (req, reply) => {
    const m = /^Bearer\s+(\S+)$/i.exec(req.headers.authorization ?? '');
    if (!m || !tokenMatches(m[1]!, token)) {
      reply.header('www-authenticate', 'Bearer realm="switchyard-admin"');
      return adminError(reply, 401, 'unauthorized', 'an operator token is required (Authorization: Bearer ...)');
    }
  });
  app.addHook('onSend', async (_req, reply) => { reply.header('cache-control', 'no-store'); });
  app.setErrorHandler(adminErrorHandler);
}

/** Unreadable requests and schema refusals as `bad_request` naming the field; anything else an `internal` error, its message logged only. */
export async function adminErrorHandler(err: Error & { statusCode?: number; validation?: SchemaError[] }, req: FastifyRequest, reply: FastifyReply) {
  const first = err.validation?.[0];
  if (first) return adminError(reply, 400, 'bad_request', `${fieldOf(first)} ${first.message ?? 'is invalid'}`);
  const status = err.statusCode && err.statusCode < 500 ? err.statusCode : 500;
  if (status === 500) req.log.error({ err: String(err) }, 'admin failure');
  return adminError(reply, status, status === 500 ? 'internal' : 'bad_request', status === 500 ? 'internal error' : `the request could not be read: ${err.message}`);
}
