import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import type { Logger } from '../runtime/logger.ts';
import { registerOppRoutes, type OppDeps } from '../dialects/opp/routes.ts';
import { registerAdminRoutes, type AdminDeps } from '../admin/routes.ts';

export interface ServerDeps {
  logger: Logger;
  opp: OppDeps;
  admin: AdminDeps;
}

/** The HTTP surface: each dialect in its own encapsulated scope with its own error shapes. */
export async function buildServer(deps: ServerDeps): Promise<FastifyInstance> {
  const app = Fastify({
    loggerInstance: deps.logger as FastifyBaseLogger,
    bodyLimit: 64 * 1024,
    genReqId: () => crypto.randomUUID(),
    return503OnClosing: true,
  });
  app.get('/health', async () => ({ status: 'ok' }));
  await app.register(async (scope) => registerOppRoutes(scope, deps.opp), { prefix: '/v1' });
  await app.register(async (scope) => registerAdminRoutes(scope, deps.admin), { prefix: '/admin/api' });
  return app;
}
