import { jsonAnswer, object, str } from '../runtime/json-schema.ts';
import type { FastifyInstance } from 'fastify';

/** One thing the gateway needs before it can take traffic; it throws (or rejects) when it is not there. */
export type ReadinessCheck = () => Promise<void> | void;

export interface Readiness {
  /** Named checks, run in parallel on every `/ready`. */
  readonly checks: Readonly<Record<string, ReadinessCheck>>;
  /** True once shutdown has begun: the node finishes what it has but wants no new traffic. */
  draining(): boolean;
}

/** A check that hangs (a store that accepts connections but never answers) counts as failed. */
const checkTimeoutMs = 2_000;

async function run(check: ReadinessCheck): Promise<string | undefined> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<string>((resolve) => { timer = setTimeout(resolve, checkTimeoutMs, `no answer within ${checkTimeoutMs} ms`); });
  try {
    return await Promise.race([Promise.resolve().then(check).then(() => undefined), timeout]);
  } catch (err) {
    return err instanceof Error ? err.message : String(err);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * `/health` is liveness: the process answers (restart it when it does not). `/ready` is readiness:
 * it says 503 while the store, its schema or the key ring is missing, and while draining at
 * shutdown, so a load balancer stops sending traffic before the listener closes.
 */
const readyBody = object({ status: str('ready, not ready or draining.'), checks: object({}, [], { additionalProperties: { enum: ['ok', 'failing'] } }) }, ['status', 'checks']);
const readySchema = {
  summary: 'Readiness: the store, its migrations and the key ring', tags: ['operations'],
  response: { 200: jsonAnswer('Ready for traffic.', readyBody), 503: jsonAnswer('Not ready, or draining at shutdown (why is in the log).', readyBody) },
};

export function registerHealthRoutes(app: FastifyInstance, readiness: Readiness): void {
  app.get('/health', { schema: { summary: 'Liveness: the process answers', tags: ['operations'], response: { 200: jsonAnswer('Alive.', object({ status: { const: 'ok' } }, ['status'])) } } }, async (_req, reply) => {
    reply.header('cache-control', 'no-store');
    return { status: 'ok' };
  });
  app.get('/ready', { schema: readySchema }, async (req, reply) => {
    reply.header('cache-control', 'no-store');
    if (readiness.draining()) return reply.code(503).send({ status: 'draining', checks: {} });
    const names = Object.keys(readiness.checks);
    const failures = await Promise.all(names.map((name) => run(readiness.checks[name]!)));
    const checks = Object.fromEntries(names.map((name, i) => [name, failures[i] === undefined ? 'ok' : 'failing']));
    const ready = failures.every((f) => f === undefined);
    // Why goes to the operator's log only: the endpoint is unauthenticated, and a driver's message
    // may name hosts and users.
    if (!ready) req.log.warn({ failing: Object.fromEntries(names.flatMap((name, i) => failures[i] === undefined ? [] : [[name, failures[i]]])) }, 'not ready');
    return reply.code(ready ? 200 : 503).send({ status: ready ? 'ready' : 'not ready', checks });
  });
}
