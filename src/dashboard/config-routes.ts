import type { FastifyInstance } from 'fastify';
import type { DashboardDeps } from './deps.ts';

export async function registerConfigRoutes(_app: FastifyInstance, _deps: DashboardDeps): Promise<void> {}
