import type { FastifyInstance, FastifyReply } from 'fastify';
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
  app.setErrorHandler(async (err: Error & { statusCode?: number }, _req, reply) => {
    const status = err.statusCode && err.statusCode < 500 ? err.statusCode : 500;
    return adminError(reply, status, status === 500 ? 'internal' : 'bad_request', status === 500 ? 'internal error' : err.message);
  });
}
