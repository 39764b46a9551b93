import type { IncomingMessage, ServerResponse } from 'node:http';
import { bearerTokenOf, secretMatches } from '../runtime/bearer.ts';
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import { refusalEnvelope } from '../dialects/opp/envelope.ts';
import { errorBody } from '../dialects/executions/errors.ts';
import type { Logger } from '../runtime/logger.ts';
import type { Metrics } from '../runtime/metrics.ts';
import { requestIdFrom, runForRequest } from '../runtime/request-context.ts';
import { traceFrom } from '../runtime/trace.ts';
import { registerHealthRoutes, type Readiness } from './health.ts';
import { isStoreUnavailable } from '../storage/unavailable.ts';
import type { HttpTimeouts } from '../config.ts';
import { registerOppRoutes, type OppDeps } from '../dialects/opp/routes.ts';
import { registerExecutionsRoutes, type ExecutionsDeps } from '../dialects/executions/routes.ts';
import { registerConsumerWaitRoute } from '../dialects/executions/consumer-wait.ts';
import { registerAdminRoutes, type AdminDeps } from '../admin/routes.ts';
import { registerWebhookAdminRoutes, type WebhookAdminDeps } from '../admin/webhook-routes.ts';
import { registerLedgerAdminRoutes, type LedgerAdminDeps } from '../admin/ledger-routes.ts';
import { registerHostedChallengeRoutes } from '../threeds/routes.ts';
import { registerPspNotificationRoutes, type PspNotificationDeps } from './psp-notifications.ts';
import type { ThreeDsService } from '../threeds/service.ts';
import { escapeHtml } from '../threeds/page.ts';
import type { Throttle } from '../throttle/service.ts';
import type { Clock } from '../runtime/clock.ts';
import { registerHostedSdkRoutes, type HostedSdkDeps } from '../hosted/routes.ts';
import { registerDashboardRoutes } from '../dashboard/routes.ts';
import type { DashboardDeps } from '../dashboard/deps.ts';
import { registerPaymentAdminRoutes, type PaymentAdminDeps } from '../admin/payment-routes.ts';
import { jsonAnswer, object, str, textAnswer, validatorCompiler } from '../runtime/json-schema.ts';
import { routeCatalog } from './openapi.ts';
import { registerDocsRoutes } from './docs-routes.ts';

export interface ServerDeps {
  logger: Logger;
  timeouts: HttpTimeouts;
  opp: OppDeps;
  executions?: ExecutionsDeps;
  admin?: AdminDeps;
  webhookAdmin?: WebhookAdminDeps;
  ledgerAdmin?: LedgerAdminDeps;
  /** The payment search of `/admin/api/payments`. */
  paymentAdmin?: PaymentAdminDeps;
  /** The operator dashboard at `/dashboard`. */
  dashboard?: DashboardDeps;
  hosted: { threeds: ThreeDsService; clock: Clock; throttle: Throttle };
  /** Each PSP account's inbound endpoint for the PSP's own notifications. */
  pspNotifications?: PspNotificationDeps;
  sdk?: HostedSdkDeps;
  readiness: Readiness;
  /** `/metrics`, open unless a bearer token is set (docs/metrics.md). */
  metrics?: { metrics: Metrics; token: string | undefined };
  /** The version the OpenAPI documents carry. */
  version?: string;
  /** Where each change asked of the operator APIs (`/admin/...`) is written: the audit log. */
  adminAudit?: (entry: AdminAuditEntry) => Promise<void>;
}

/** One request to change something through the operator APIs, as the audit log keeps it. */
export interface AdminAuditEntry {
  /** `admin_api.` and the method and route pattern (`POST /admin/api/webhooks/endpoints/:id/rotate`). */
  readonly action: string;
  /** The route's parameters (the endpoint, event or account it names). */
  readonly subject: string | undefined;
  readonly merchantId: string | undefined;
  readonly outcome: 'ok' | 'refused' | 'failed';
  readonly status: number;
  readonly ip: string;
}

const readOnlyMethods = new Set(['GET', 'HEAD', 'OPTIONS']);

function decodedPath(url: string): string {
  const path = url.split('?')[0]!;
  try { return decodeURIComponent(path); } catch { return path; }
}

/** What a refusal made before any route ran says, in each surface's words. */
interface EdgeRefusal {
  readonly status: number;
  /** The `/v1` result code. */
  readonly code: string;
  /** The executions dialect's error code. */
  readonly executionsCode: Parameters<typeof errorBody>[0];
  /** The admin API's error code. */
  readonly adminCode: string;
  readonly message: string;
  /** The `/v1` parameter at fault (`request` when none is). */
  readonly field?: string;
}

/**
 * A refusal made before any route could answer (a URL the router cannot read, a request too large
 * or too slow for Node's parser, a request arriving while the gateway drains), as the surface its
 * path belongs to answers its own: the `/v1` result envelope, the admin API's `{error}`, a page for
 * the shopper's and the operator's browsers, else the executions dialect's `errors[]`. Never the
 * framework's own body, which no client of either dialect can read. The path is not echoed: it is
 * whatever the client sent, card numbers included.
 */
function edgeRefusal(deps: ServerDeps, path: string, requestId: string, r: EdgeRefusal): { contentType: string; body: string; headers: Readonly<Record<string, string>> } {
  if (path === '/v1' || path.startsWith('/v1/')) {
    return { contentType: 'application/json;charset=UTF-8', body: JSON.stringify(refusalEnvelope(r.code, [{ name: r.field ?? 'request', value: null, message: r.message }], deps.opp.buildNumber, deps.opp.clock.now())), headers: noSniff };
  }
  if (path.startsWith('/admin/')) return { contentType: 'application/json; charset=utf-8', body: JSON.stringify({ error: { code: r.adminCode, message: r.message } }), headers: noSniff };
  if (path.startsWith('/hosted/') || path.startsWith('/dashboard/') || path === '/dashboard') {
    return { contentType: 'text/html; charset=utf-8', body: `<!doctype html><html lang="en"><meta charset="utf-8"><title>Switchyard</title><p>${escapeHtml(r.message)}</p></html>`, headers: refusalPageHeaders };
  }
  return { contentType: 'application/json; charset=utf-8', body: JSON.stringify(errorBody(r.executionsCode, r.message, requestId)), headers: noSniff };
}

const noSniff: Readonly<Record<string, string>> = { 'x-content-type-options': 'nosniff' };
/**
 * A refusal page of the shopper's or the operator's surface keeps the rules of their other pages:
 * nothing loads or runs, no page frames it, no form posts from it. Without them it could be framed
 * on any site, as no other page of those surfaces can.
 */
const refusalPageHeaders: Readonly<Record<string, string>> = {
  ...noSniff,
  'content-security-policy': "default-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
  'x-frame-options': 'DENY',
  'referrer-policy': 'no-referrer',
};

function sendEdgeRefusal(deps: ServerDeps, req: FastifyRequest, reply: FastifyReply, r: EdgeRefusal) {
  const { contentType, body, headers } = edgeRefusal(deps, (req.raw.url ?? '/').split('?')[0]!, req.id, r);
  return reply.code(r.status).header('x-request-id', req.id).header('cache-control', 'no-store').headers(headers).header('content-type', contentType).send(body);
}

/**
 * A URL the router cannot even decode (malformed percent-encoding). No hook runs for it, so its log
 * line and its count are written here: the request id its answer carries is found in the log, and
 * the answer is counted (as `unmatched`) with every other.
 */
function answerUnreadableUrl(deps: ServerDeps, err: Error & { code?: string }, req: FastifyRequest, reply: FastifyReply) {
  const message = `The path ${err.code === 'FST_ERR_BAD_URL' ? 'is not a valid URL (malformed percent-encoding)' : 'is not a valid URL'}`;
  req.log.info({ req, statusCode: 400 }, 'request refused: its URL cannot be read');
  deps.metrics?.metrics.httpRequest('unmatched', req.method, 400, 0);
  return sendEdgeRefusal(deps, req, reply, { status: 400, code: '200.300.404', executionsCode: 'request.malformed', adminCode: 'bad_request', message, field: 'path' });
}

/** Node's parser refused the request before Fastify saw it: its status, by the parser's reason. */
const clientErrorStatus = (code: string | undefined) =>
  code === 'HPE_HEADER_OVERFLOW' ? 431 : code === 'ERR_HTTP_REQUEST_TIMEOUT' ? 408 : 400;
const clientErrorMessage: Readonly<Record<number, string>> = {
  431: 'The request\'s URL or headers are too large',
  408: 'The request did not arrive in time',
  400: 'The request is not valid HTTP',
};
/** The methods a refused request's count is labelled with; any other is `other` (a label per junk word would grow without bound). */
const httpMethods: ReadonlySet<string> = new Set(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS']);
const statusText: Readonly<Record<number, string>> = { 400: 'Bad Request', 408: 'Request Timeout', 431: 'Request Header Fields Too Large' };

/**
 * Fastify's request lines, but "incoming request" is written by the `onRequest` hook instead, once
 * the request's context (its id and trace) is entered, so it carries the trace as the rest do.
 */
class RequestLines extends LogController {
  override incomingRequest(): void {}
}

/** The HTTP surface: each dialect in its own encapsulated scope with its own error shapes. */
export async function buildServer(deps: ServerDeps): Promise<FastifyInstance> {
  const { requestTimeoutMs, headersTimeoutMs, keepAliveTimeoutMs } = deps.timeouts;
  const limits = [requestTimeoutMs, headersTimeoutMs].filter((ms) => ms > 0);
  const app = Fastify({
    loggerInstance: deps.logger as FastifyBaseLogger,
    bodyLimit: 64 * 1024,
    // A request still arriving after these limits gets a 408 and its socket is closed.
    requestTimeout: requestTimeoutMs,
    keepAliveTimeout: keepAliveTimeoutMs,
    http: {
      requestTimeout: requestTimeoutMs,
      headersTimeout: headersTimeoutMs,
      // Node looks for expired requests on this interval (30 s by default, which would let a
      // trickling socket live well past a short limit).
      ...(limits.length > 0 ? { connectionsCheckingInterval: Math.max(50, Math.min(5_000, Math.floor(Math.min(...limits) / 4))) } : {}),
    },
    // The caller's X-Request-Id when it is a safe token, else a new one (src/runtime/request-context.ts).
    genReqId: (req) => requestIdFrom(req.headers['x-request-id']),
    logController: new RequestLines({ requestIdLogLabel: 'requestId' }),
    // Refused by the hook below instead, in each surface's own shape.
    return503OnClosing: false,
    // Node's parser refused the request (a URL past its header limit, a body that never came, bytes
    // that are not HTTP): answered in the surface's shape, with a request id, then closed.
    clientErrorHandler: (err, socket) => {
      if (!socket.writable) { socket.destroy(); return; }
      // Bytes after a request read whole (a client counting Content-Length in characters, not
      // bytes; pipelined junk) while that request is still being answered: it, and every request
      // read whole after it, is answered in turn as Node answers them; what followed is not, and
      // the socket closes once idle (the keep-alive timeout). Written now, the refusal came before
      // the answer of a payment that was made: the merchant read "nothing done" and paid again. (Its
      // parser refuses every later chunk too, each passing here again: nothing is added each time.)
      const answering = (socket as unknown as { _httpMessage?: ServerResponse & { req?: IncomingMessage } })._httpMessage;
      if (answering && !answering.writableEnded && answering.req?.complete) return;
      const status = clientErrorStatus(err.code);
      // Node hands the bytes it read (typed otherwise by Fastify's declarations).
      const raw = (err as unknown as { rawPacket?: unknown }).rawPacket;
      const line = Buffer.isBuffer(raw) ? raw.subarray(0, 8192).toString('latin1').split('\r\n', 1)[0]! : '';
      // A request whose headers were read (its body late) is known by the response Node made for it.
      const pendingReq = (socket as unknown as { _httpMessage?: { req?: { url?: string; method?: string } } })._httpMessage?.req;
      const pending = pendingReq?.url;
      const path = (/^[A-Z]+ (\S+)/.exec(line)?.[1] ?? pending ?? '/').split('?')[0]!;
      const requestId = requestIdFrom(undefined);
      const { contentType, body, headers } = edgeRefusal(deps, path, requestId, {
        status, code: '200.300.404', executionsCode: 'request.malformed', adminCode: 'bad_request', message: clientErrorMessage[status]!,
      });
      // Fastify never saw it: its line (the path only, scrubbed as every line is) and its count are written here.
      deps.logger.info({ requestId, statusCode: status, path, reason: err.code }, 'request refused before it was read');
      const method = /^([A-Z]{1,16}) /.exec(line)?.[1] ?? pendingReq?.method;
      deps.metrics?.metrics.httpRequest('unmatched', method !== undefined && httpMethods.has(method) ? method : 'other', status, 0);
      const more = Object.entries(headers).map(([name, value]) => `${name}: ${value}\r\n`).join('');
      socket.end(`HTTP/1.1 ${status} ${statusText[status]}\r\nContent-Type: ${contentType}\r\nContent-Length: ${Buffer.byteLength(body)}\r\n`
        + `X-Request-Id: ${requestId}\r\nCache-Control: no-store\r\n${more}Connection: close\r\n\r\n${body}`);
    },
    // Above any URL Node accepts (its 16 KiB header limit): an over-long id reaches its route and
    // is refused there like any other unknown id, in the dialect's own shape and code.
    routerOptions: { maxParamLength: 16 * 1024 },
    frameworkErrors: (err, req, reply) => answerUnreadableUrl(deps, err, req, reply),
  });
  // Every route registered from here on, by whichever plugin, is listed for the OpenAPI documents
  // and the completeness test; routes declare their schemas, validated by the one shared Ajv.
  const catalog = routeCatalog(app);
  app.decorate('routeCatalog', catalog);
  app.setValidatorCompiler(validatorCompiler);
  // Response schemas document answers; they never filter them (a field the schema does not list
  // still reaches the client, as before schemas were declared).
  app.setSerializerCompiler(() => (data) => JSON.stringify(data));
  // Every answer names its request; the work done for it (service log lines included) runs in its context.
  app.addHook('onRequest', (req, reply, done) => {
    reply.header('x-request-id', req.id);
    // A caller's W3C traceparent is joined (else a trace starts here): log lines, PSP calls and webhooks carry it on.
    runForRequest(req.id, () => {
      req.log.info({ req }, 'incoming request');
      done();
    }, traceFrom(req.headers.traceparent));
  });

  // Shutting down, a request that comes in on a connection still open is not started (it might
  // outlive the drain); told in its surface's shape, so a client retries it elsewhere. The probes
  // still answer: /ready says draining.
  app.addHook('onRequest', async (req, reply) => {
    if (!deps.readiness.draining()) return;
    const path = (req.raw.url ?? '/').split('?')[0]!;
    if (path === '/health' || path === '/ready' || path === '/metrics') return;
    reply.header('connection', 'close');
    return sendEdgeRefusal(deps, req, reply, {
      status: 503, code: '900.100.100', executionsCode: 'service.unavailable', adminCode: 'unavailable', message: 'The gateway is shutting down: send the request again',
    });
  });

  // Shutting down, each answer closes its connection: a keep-alive connection busy when the close
  // began would otherwise stay open, idle, for the keep-alive timeout, and hold the exit as long.
  app.addHook('onSend', async (_req, reply, payload) => {
    if (deps.readiness.draining()) reply.header('connection', 'close');
    return payload;
  });
  // A fault on a route without a handler of its own (the hosted pages, the SDK's, docs, health):
  // answered in its surface's shape and never with the error's message (it may name the database's
  // address), a store that cannot serve it now 503 with Retry-After as the dialects answer it.
  app.setErrorHandler(async (err: Error & { statusCode?: number }, req, reply) => {
    if (err.statusCode && err.statusCode < 500) {
      return sendEdgeRefusal(deps, req, reply, { status: err.statusCode, code: '200.300.404', executionsCode: 'request.malformed', adminCode: 'bad_request', message: 'The request could not be read' });
    }
    if (isStoreUnavailable(err)) {
      req.log.warn({ err: String(err) }, 'request refused: the store is unavailable');
      reply.header('retry-after', '1');
      return sendEdgeRefusal(deps, req, reply, { status: 503, code: '900.100.100', executionsCode: 'service.unavailable', adminCode: 'unavailable', message: 'The gateway could not reach its database in time: send the request again' });
    }
    // The stack goes to the log (the answer never carries it): a fault here is a bug to find.
    req.log.error({ err: { message: err.message, stack: err.stack } }, 'request failed');
    return sendEdgeRefusal(deps, req, reply, { status: 500, code: '999.999.999', executionsCode: 'internal', adminCode: 'internal', message: 'An internal error occurred' });
  });
  registerHealthRoutes(app, deps.readiness);
  if (deps.metrics) registerMetrics(app, deps.metrics);
  await app.register(async (scope) => registerOppRoutes(scope, deps.opp), { prefix: '/v1' });
  const executions = deps.executions;
  if (executions) await app.register(async (scope) => registerExecutionsRoutes(scope, executions));
  // The shopper's interstitial behind `links.consumerWait`: holds up to 5 s per request, then reloads every 2 s.
  if (executions) {
    await app.register(async (scope) => registerConsumerWaitRoute(scope, {
      executions: executions.executions, merchants: executions.merchants, holdMs: Math.min(executions.longPollMs, 5_000), refreshSeconds: 2,
    }));
  }
  const adminAudit = deps.adminAudit;
  // Every change asked of the operator APIs, allowed or not, is one audit row: who (the operator
  // token, or none), what (the route), on what (its parameters), how it ended. Never the body: it
  // may hold a PSP's credentials.
  if (adminAudit) {
    app.addHook('onResponse', async (req, reply) => {
      if (readOnlyMethods.has(req.method)) return;
      // Judged by the route the router matched (it reads the path decoded: `/%61dmin/...` is an
      // admin route too), or for a path no route took, by that path decoded.
      const route = req.routeOptions.url;
      if (!(route ?? decodedPath(req.url)).startsWith('/admin/')) return;
      const params = (req.params ?? {}) as Record<string, unknown>;
      const named = Object.values(params).filter((v): v is string => typeof v === 'string');
      const status = reply.statusCode;
      await adminAudit({
        action: `admin_api.${req.method} ${req.routeOptions.url ?? 'unmatched'}`,
        subject: named.length > 0 ? named.join(' ') : undefined,
        merchantId: typeof params.merchantId === 'string' && /^[0-9a-f]{32}$/.test(params.merchantId) ? params.merchantId : undefined,
        outcome: status >= 500 ? 'failed' : status >= 400 ? 'refused' : 'ok',
        status, ip: req.ip,
      }).catch((err: unknown) => req.log.error({ err: String(err) }, 'admin API audit entry not written'));
    });
  }
  const admin = deps.admin;
  // The webhook operator API first: its own scope under /admin/api, with its own error shapes.
  const webhookAdmin = deps.webhookAdmin;
  if (webhookAdmin) await app.register(async (scope) => registerWebhookAdminRoutes(scope, webhookAdmin), { prefix: '/admin/api' });
  const ledgerAdmin = deps.ledgerAdmin;
  if (ledgerAdmin) await app.register(async (scope) => registerLedgerAdminRoutes(scope, ledgerAdmin), { prefix: '/admin/api' });
  const paymentAdmin = deps.paymentAdmin;
  if (paymentAdmin) await app.register(async (scope) => registerPaymentAdminRoutes(scope, paymentAdmin), { prefix: '/admin/api' });
  if (admin) await app.register(async (scope) => registerAdminRoutes(scope, admin), { prefix: '/admin' });
  const dashboard = deps.dashboard;
  if (dashboard) await app.register(async (scope) => registerDashboardRoutes(scope, dashboard), { prefix: '/dashboard' });
  await app.register(async (scope) => registerHostedChallengeRoutes(scope, deps.hosted));
  const pspNotifications = deps.pspNotifications;
  if (pspNotifications) await app.register(async (scope) => registerPspNotificationRoutes(scope, pspNotifications));
  const sdk = deps.sdk;
  if (sdk) await app.register(async (scope) => registerHostedSdkRoutes(scope, sdk));
  await app.register(async (scope) => registerDocsRoutes(scope, { catalog, version: deps.version ?? '0.0.0' }));
  return app;
}

/**
 * Counts every answer by its route pattern (`/v1/payments/:id`, never the URL itself: ids and
 * whatever a client typed must not become labels), and serves the text format at `/metrics`.
 */
function registerMetrics(app: FastifyInstance, deps: { metrics: Metrics; token: string | undefined }) {
  const { metrics, token } = deps;
  app.addHook('onResponse', (req, reply, done) => {
    metrics.httpRequest(req.routeOptions.url ?? 'unmatched', req.method, reply.statusCode, reply.elapsedTime / 1000);
    done();
  });
  app.get('/metrics', {
    schema: {
      summary: 'Prometheus metrics (text format)', tags: ['operations'], ...(token !== undefined ? { security: ['metrics'] } : {}),
      response: { 200: textAnswer('The metrics.', 'text/plain'), 401: jsonAnswer('A bearer token is required (SWITCHYARD_METRICS_TOKEN).', object({ error: object({ code: str(), message: str() }) })) },
    },
  }, async (req, reply) => {
    reply.header('cache-control', 'no-store');
    if (token !== undefined) {
      const presented = bearerTokenOf(req.headers.authorization);
      if (presented === undefined || !secretMatches(presented, token)) {
        return reply.code(401).header('www-authenticate', 'Bearer').send({ error: { code: 'unauthorized', message: 'a bearer token is required (SWITCHYARD_METRICS_TOKEN)' } });
      }
    }
    const { contentType, body } = await metrics.scrape();
    return reply.header('content-type', contentType).send(body);
  });
}
