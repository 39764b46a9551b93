import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { WebhookService } from '../webhooks/service.ts';
import type { WebhookError } from '../webhooks/errors.ts';
import { isDeliveryStatus } from '../webhooks/model.ts';
import { adminError, guardAdminApi } from './api-guard.ts';
import { adminSchemas } from './schemas.ts';
import { readInstant } from '../runtime/instant.ts';
import { decodeCursor, encodeCursor } from '../search/model.ts';

export interface WebhookAdminDeps {
  webhooks: WebhookService;
  /** Whether a merchant of this id exists: a filter naming none is refused, not answered empty. */
  merchantExists(id: string): Promise<boolean>;
  /** The operator token every request must bear. */
  token: string;
}

const statusOf: Partial<Record<WebhookError['code'], number>> = {
  merchant_not_found: 404, entity_not_found: 404, endpoint_not_found: 404, event_not_found: 404,
};

type Body = Record<string, unknown>;
const str = (v: unknown): string | undefined => (typeof v === 'string' && v !== '' ? v : undefined);

/**
 * The operator's webhook API (register with prefix `/admin/api`): endpoints, the delivery log and
 * redelivery. Every route needs `Authorization: Bearer <operator token>`; errors are
 * `{error: {code, message}}`.
 */
export async function registerWebhookAdminRoutes(app: FastifyInstance, deps: WebhookAdminDeps): Promise<void> {
  const { webhooks } = deps;
  const error = adminError;
  const failed = (reply: FastifyReply, e: WebhookError) => error(reply, statusOf[e.code] ?? 400, e.code, e.message);

  guardAdminApi(app, deps.token);

  const body = (req: FastifyRequest): Body => (req.body && typeof req.body === 'object' ? req.body as Body : {});
  const query = (req: FastifyRequest) => req.query as Record<string, string | undefined>;
  function time(reply: FastifyReply, v: unknown, name: string): number | undefined | null {
    if (v === undefined || v === '') return undefined;
    const t = typeof v === 'string' ? readInstant(v) : undefined;
    if (t === undefined) { void error(reply, 400, 'bad_request', `${name} must be an ISO 8601 date or time (2026-01-01, 2026-01-01T00:00:00Z), naming a real day`); return null; }
    return t;
  }

  /**
   * The merchant a filter names, when it names one that does not exist: refused (404), as the ledger's
   * lists and the CLI refuse it, rather than answered as a merchant with nothing (a typo read as "none").
   */
  const unknownMerchant = async (reply: FastifyReply, id: string | undefined) => {
    if (id === undefined || await deps.merchantExists(id)) return false;
    await error(reply, 404, 'merchant_not_found', `no merchant ${id}`);
    return true;
  };

  app.get('/webhooks/endpoints', { schema: adminSchemas.endpoints }, async (req, reply) => {
    const merchantId = str(query(req).merchantId);
    if (await unknownMerchant(reply, merchantId)) return reply;
    return { endpoints: await webhooks.listEndpoints(merchantId) };
  });

  app.post('/webhooks/endpoints', { schema: adminSchemas.addEndpoint }, async (req, reply) => {
    const b = body(req);
    const types = b.types === undefined ? [] : Array.isArray(b.types) && b.types.every((t) => typeof t === 'string') ? b.types as string[] : null;
    if (types === null) return error(reply, 400, 'invalid_types', 'types must be an array of strings');
    const r = await webhooks.addEndpoint({
      merchantId: str(b.merchantId) ?? '', dialect: str(b.dialect) ?? '', url: str(b.url) ?? '', entityId: str(b.entityId), types,
    });
    return r.ok ? reply.code(201).send(r.value) : failed(reply, r.error);
  });

  app.get<{ Params: { id: string } }>('/webhooks/endpoints/:id', { schema: adminSchemas.endpoint }, async (req, reply) => {
    const e = await webhooks.endpoint(req.params.id);
    return e ?? error(reply, 404, 'endpoint_not_found', `no endpoint ${req.params.id}`);
  });

  app.post<{ Params: { id: string } }>('/webhooks/endpoints/:id/rotate', { schema: adminSchemas.rotate }, async (req, reply) => {
    const hours = body(req).overlapHours ?? 24;
    if (typeof hours !== 'number') return error(reply, 400, 'invalid_argument', 'overlapHours must be a number');
    const r = await webhooks.rotateSecret(req.params.id, hours * 3_600_000);
    return r.ok ? r.value : failed(reply, r.error);
  });

  for (const [action, status] of [['disable', 'disabled'], ['enable', 'active']] as const) {
    app.post<{ Params: { id: string } }>(`/webhooks/endpoints/:id/${action}`, { schema: adminSchemas[action] }, async (req, reply) => {
      const r = await webhooks.setStatus(req.params.id, status);
      return r.ok ? r.value : failed(reply, r.error);
    });
  }

  app.post<{ Params: { id: string } }>('/webhooks/endpoints/:id/test', { schema: adminSchemas.test }, async (req, reply) => {
    const r = await webhooks.sendTest(req.params.id);
    return r.ok ? reply.code(202).send(r.value) : failed(reply, r.error);
  });

  app.get('/webhooks/deliveries', { schema: adminSchemas.deliveries }, async (req, reply) => {
    const q = query(req);
    if (await unknownMerchant(reply, str(q.merchantId))) return reply;
    const since = time(reply, q.since, 'since');
    if (since === null) return reply;
    if (q.status !== undefined && !isDeliveryStatus(q.status)) return error(reply, 400, 'bad_request', 'status must be pending, delivered or failed');
    const limit = q.limit === undefined ? 100 : /^[0-9]{1,4}$/.test(q.limit) ? Number(q.limit) : NaN;
    if (!(limit >= 1 && limit <= 1000)) return error(reply, 400, 'bad_request', 'limit must be an integer from 1 to 1000');
    // Pages, newest first: a log longer than one page is read to its end by following `next`.
    const before = q.cursor === undefined ? undefined : decodeCursor(q.cursor) ?? null;
    if (before === null) return error(reply, 400, 'bad_request', 'cursor must be the next of a previous page');
    const found = await webhooks.deliveries({
      merchantId: str(q.merchantId), endpointId: str(q.endpointId), eventId: str(q.eventId),
      ...(q.status !== undefined && isDeliveryStatus(q.status) ? { status: q.status } : {}), ...(since !== undefined ? { since } : {}),
      ...(before ? { before } : {}), limit: limit + 1,
    });
    const page = found.slice(0, limit);
    const last = page.at(-1);
    return { deliveries: page, ...(found.length > limit && last ? { next: encodeCursor({ createdAt: Date.parse(last.createdAt), id: last.deliveryId }) } : {}) };
  });

  app.get<{ Params: { eventId: string } }>('/webhooks/events/:eventId', { schema: adminSchemas.event }, async (req, reply) => {
    const deliveries = await webhooks.event(req.params.eventId);
    return deliveries.length > 0 ? { eventId: req.params.eventId, deliveries } : error(reply, 404, 'event_not_found', `no delivery of event ${req.params.eventId}`);
  });

  app.post<{ Params: { eventId: string } }>('/webhooks/events/:eventId/redeliver', { schema: adminSchemas.redeliverEvent }, async (req, reply) => {
    const r = await webhooks.redeliverEvent(req.params.eventId, str(body(req).endpointId));
    return r.ok ? r.value : failed(reply, r.error);
  });

  app.post('/webhooks/redeliver', { schema: adminSchemas.redeliver }, async (req, reply) => {
    const b = body(req);
    const since = time(reply, b.since, 'since');
    if (since === null) return reply;
    if (since === undefined) return error(reply, 400, 'bad_request', 'since is required (ISO 8601)');
    const endpointId = str(b.endpointId);
    if (endpointId !== undefined && !await webhooks.endpoint(endpointId)) return error(reply, 404, 'endpoint_not_found', `no endpoint ${endpointId}`);
    if (await unknownMerchant(reply, str(b.merchantId))) return reply;
    return webhooks.redeliverFailedSince(since, { endpointId, merchantId: str(b.merchantId) });
  });
}
