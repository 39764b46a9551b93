import { bearerTokenOf } from '../../runtime/bearer.ts';
import { Readable } from 'node:stream';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Merchant } from '../../merchants/model.ts';
import type { MerchantService } from '../../merchants/service.ts';
import type { AccessTokens } from '../../merchants/tokens.ts';
import type { ExecutionService, ExecResult, ActionAck } from '../../executions/service.ts';
import type { ExecutionRecord } from '../../executions/model.ts';
import { actionMetaLimitBytes, executionStatuses, isExecutionStatus, type ActionMeta } from '../../executions/model.ts';
import { IdempotencyClaimLost, type Idempotency } from '../../idempotency/service.ts';
import { cardOfJwe } from './encrypted-card.ts';
import type { IdempotencyClaim } from '../../idempotency/store.ts';
import type { InstrumentService } from '../../vault/instruments.ts';
import { isWorkflowCode, workflowCodes } from '../../workflows/model.ts';
import { errorBody, errorStatus, executionErrorCodes, notAllowedDetail, type ErrorCode } from './errors.ts';
import type { NotAllowed } from '../../executions/errors.ts';
import type { Tx } from '../../storage/unit-of-work.ts';
import { isStoreUnavailable } from '../../storage/unavailable.ts';
import { compile, type JsonSchema, type SchemaError } from '../../runtime/json-schema.ts';
import {
  ParamError, paramErrorOf, booleanAt, maxJsonDepth, nestedDeeperThan, cardAt, moneyAt, objectAt, returnInfoAt, screenCardData, stringAt, uuidPattern, waitWhileOf, withoutSecurityCode, type Json,
} from './parse.ts';
import { consumerWaitPath } from './consumer-wait.ts';
import { executionPath, renderExecution, renderInstrument } from './render.ts';
import { registerBrowserRoutes, type BrowserDeps } from './browser.ts';
import { executionsSchemas } from './schemas.ts';
import type { Clock } from '../../runtime/clock.ts';
import type { CardDataScreen } from '../../vault/free-text.ts';
import { hasControlCharacter } from '../../runtime/control-characters.ts';
import { scrubPans } from '../../runtime/scrub.ts';
import { characterCount, clipText, utf8Text } from '../../runtime/utf8.ts';
import { encodedBodyRefusal } from '../../runtime/content-encoding.ts';

export interface ExecutionsDeps {
  merchants: MerchantService;
  tokens: AccessTokens;
  executions: ExecutionService;
  instruments: InstrumentService;
  idempotency: Idempotency;
  /** Longest a `waitWhile` long-poll is held (decision 2). */
  longPollMs: number;
  /** Base URL of links the shopper's browser follows; else taken from the request. */
  publicUrl: string | undefined;
  /** Browser tokenization (client/init and the endpoints it links to). */
  browser?: BrowserDeps & { clock: Clock };
  /** Card numbers typed into other fields: refused or masked before anything is read. */
  cardData: CardDataScreen;
}

const refusalReasons = ['BetterPrice', 'CustomerDontNeed', 'DamagedProduct', 'Duplicate', 'FraudulentProduct', 'LateDelivery',
  'NoReason', 'ProductMismatchDescription', 'WrongProduct', 'WrongProductSpecification'];

declare module 'fastify' {
  interface FastifyRequest {
    merchant?: Merchant;
    /** The idempotency key this write holds (proceeding under it), as claimed. */
    idempotencyClaim?: IdempotencyClaim;
    /** The answer was stored with the change it acknowledges (one commit): nothing left to store. */
    idempotencyRecorded?: boolean;
  }
  interface FastifyContextConfig {
    /** A route whose kept answer is not replayed as kept: the body a replay sends, made from it. */
    replayWith?: (req: FastifyRequest, reply: FastifyReply, stored: string) => Promise<string>;
  }
}

/** An action request's own `meta`, kept as the action's (its webhooks' `actionMeta`): an object of a bounded size. */
function actionMetaOf(body: Json): { meta?: ActionMeta } {
  const meta = objectAt(body.meta, 'meta', false);
  if (meta === undefined) return {};
  if (Buffer.byteLength(JSON.stringify(meta)) > actionMetaLimitBytes) throw new ParamError('meta', `must be at most ${actionMetaLimitBytes / 1024} KiB of JSON`);
  return { meta };
}

/** The executions dialect: `/auth/token`, `/merchant/...` and `/payment/instruments` (JSON, Bearer tokens, `errors[]`). */
/** The query parameters the executions list reads. */
const listQueryKeys: ReadonlySet<string> = new Set(['limit', 'cursor', 'filter[lastStatus]', 'filter[merchantReference]', 'filter[holderReference]', 'filter[workspaceId]']);

export async function registerExecutionsRoutes(app: FastifyInstance, deps: ExecutionsDeps): Promise<void> {
  const { merchants, tokens, executions, instruments, idempotency } = deps;

  const refuse = (reply: FastifyReply, code: ErrorCode, detail: string) => {
    const body = errorBody(code, detail, reply.request.id);
    // A merchant who quotes the error's id finds this line (its request id finds the rest).
    reply.request.log.info({ errorId: body.errors[0]!.id, code }, 'request refused');
    return reply.code(errorStatus[code]).header('cache-control', 'no-store').send(body);
  };
  const baseOf = (req: FastifyRequest) => `${req.protocol}://${req.host}`;
  /** Where an execution's links point: the gateway's public URL when set, in every answer alike (GET, list, create, actions). */
  const linkBase = (req: FastifyRequest) => deps.publicUrl ?? baseOf(req);

  // Every answer of this dialect is private to one merchant and may carry card or credential data
  // (masked cards, tokens, instruments): no browser or proxy cache may keep any of them.
  app.addHook('onRequest', async (_req, reply) => { reply.header('cache-control', 'no-store'); });
  // Before authentication, idempotency and every handler: what they see (and what the idempotency
  // record keeps) is the body with card numbers masked; a list filter is masked the same way, so
  // it finds what was stored.
  app.addHook('preValidation', async (req) => {
    if (req.body !== undefined && req.body !== null && typeof req.body === 'object') req.body = screenCardData(req.body, deps.cardData);
    const query = req.query as Record<string, unknown> | undefined;
    if (query && typeof query === 'object') {
      for (const [k, v] of Object.entries(query)) if (k.startsWith('filter[') && typeof v === 'string') query[k] = deps.cardData.mask(v);
    }
  });

  // Requests are validated against the routes' schemas (schemas.ts) once the bearer token (before
  // the body is read) and the idempotency key (after) are checked; an absent body is left to
  // the handler, which knows whether its route needs one.
  app.setValidatorCompiler(({ schema, httpPart }) => {
    return (data: unknown) => {
      if (httpPart === 'body' && (data === null || data === undefined)) return true;
      const validate = compile(schema as JsonSchema);
      if (validate(data)) return true;
      return { error: Object.assign(new Error('request does not match its schema'), { validation: validate.errors ?? [] }) };
    };
  });

  // Bodies are JSON whatever the label (the browser SDK sends JSON as text/plain).
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'buffer', bodyLimit: 64 * 1024 }, (req, body, done) => {
    // The token endpoint reads nothing of its body, and answers in OAuth's shape: a body it cannot
    // parse (a form labelled JSON, as some HTTP wrappers send) must not turn into this API's errors[].
    if (req.url?.startsWith('/auth/token/')) return done(null, undefined);
    // Compressed bodies are not taken: read as they came, a gzip body would be "not UTF-8", and one
    // labelled gzip that is not would be taken as plain text.
    const encoded = encodedBodyRefusal(req.headers['content-encoding']);
    if (encoded !== undefined) {
      const err = new ParamError('Content-Encoding', encoded) as ParamError & { statusCode: number };
      err.statusCode = 400;
      return done(err, undefined);
    }
    const text = utf8Text(body as Buffer);
    // Bytes that are not UTF-8 would read as U+FFFD: two holder references sent that way (a Latin-1
    // `é` and `è`) would be one holder, sharing its cards.
    if (text === undefined) {
      const err = new ParamError('body', 'is not UTF-8 text') as ParamError & { statusCode: number };
      err.statusCode = 400;
      return done(err, undefined);
    }
    if (text.trim() === '') return done(null, undefined);
    // A form body (what OAuth client libraries send) is the token endpoint's alone, which reads
    // nothing of it. Read here, a form of string fields passed a route's schema, and one field given
    // twice was read last-wins: an execution was created under a reference the merchant may not have meant.
    if (/^application\/x-www-form-urlencoded\b/i.test(req.headers['content-type'] ?? '') && !/^\s*[[{]/.test(text)) {
      const err = new ParamError('body', 'is form-encoded: this API takes JSON (a form body only at the token endpoint)') as ParamError & { statusCode: number };
      err.statusCode = 400;
      return done(err, undefined);
    }
    // A \uD800-style escape can leave half a character in a string, which the stores keep as U+FFFD:
    // two references differing only there would be one (two holders sharing cards). Looked for only
    // when the text holds such an escape (raw text decoded from UTF-8 never holds half a character).
    const halves = /\\u[dD][89a-fA-F]/.test(text);
    let broken: string | undefined;
    let parsed: unknown;
    try {
      parsed = JSON.parse(text, (k, v) => {
        if (k === '__proto__' || k === 'constructor' || k === 'prototype') return undefined;
        if (halves && broken === undefined && (!k.isWellFormed() || (typeof v === 'string' && !v.isWellFormed()))) broken = k.toWellFormed() || 'body';
        return v;
      });
    } catch {
      const err = new ParamError('body', 'is not valid JSON') as ParamError & { statusCode: number };
      err.statusCode = 400;
      return done(err, undefined);
    }
    if (broken !== undefined) {
      const err = new ParamError(broken, 'must be valid Unicode text (it holds half of a surrogate pair)') as ParamError & { statusCode: number };
      err.statusCode = 400;
      return done(err, undefined);
    }
    // Every later reading of the body (the card-data screen, the schemas) walks it by recursion: a
    // body nested thousands deep, small enough to pass the size limit, would overflow the stack.
    if (nestedDeeperThan(parsed, maxJsonDepth)) {
      const err = new ParamError('body', `is nested too deeply (at most ${maxJsonDepth} levels)`) as ParamError & { statusCode: number };
      err.statusCode = 400;
      return done(err, undefined);
    }
    done(null, parsed);
  });

  app.setErrorHandler(async (err: Error & { statusCode?: number; code?: string; validation?: SchemaError[]; validationContext?: string }, req, reply) => {
    const first = err.validation?.[0];
    if (first) err = paramErrorOf(first, err.validationContext);
    if (err instanceof ParamError) {
      if (err.message.startsWith('body:')) return refuse(reply, 'request.malformed', err.message);
      return refuse(reply, err.missing ? 'request.param.missing' : 'request.param.invalid', err.message);
    }
    if (err.code === 'FST_ERR_CTP_BODY_TOO_LARGE') return refuse(reply, 'request.entity-too-large', 'The request body is too large');
    if (err.statusCode && err.statusCode < 500) return refuse(reply, 'request.malformed', 'The request could not be read');
    if (err instanceof IdempotencyClaimLost) {
      return refuse(reply, 'request.conflict', 'A later request with this x-idempotency-key took it over while this one was stalled; that request\'s answer stands and this one changed nothing');
    }
    // Freed for a retry; a store that cannot free it now (the reason the request failed, often) leaves
    // the claim to be taken over after its time, and this answer must still be this dialect's own.
    if (req.idempotencyClaim) await idempotency.release(req.idempotencyClaim).catch((e: unknown) => req.log.warn({ err: String(e) }, 'the idempotency key could not be freed now'));
    if (isStoreUnavailable(err)) {
      // The database could not serve it now: a unit of work that failed so kept nothing, and the
      // request may go again under its idempotency key (released above), which replays what did commit.
      req.log.warn({ err: String(err) }, 'request refused: the store is unavailable');
      reply.header('retry-after', '1');
      return refuse(reply, 'service.unavailable', 'The gateway could not reach its database in time: send the request again');
    }
    req.log.error({ err: String(err) }, 'executions dialect failure');
    return refuse(reply, 'internal', 'An internal error occurred');
  });
  // A path this dialect serves, asked with a method it does not: 405 with the methods it takes.
  let patterns: { method: string; pattern: RegExp }[] | undefined;
  const methodsOf = (path: string) => {
    patterns ??= app.routeCatalog.routes()
      .filter((r) => r.surface === 'executions' && r.method !== 'OPTIONS' && r.method !== 'HEAD')
      .map((r) => ({ method: r.method, pattern: new RegExp(`^${r.url.replace(/[.+?^${}()|[\]\\]/g, '\\$&').replace(/:[A-Za-z0-9_]+/g, '[^/]+').replace(/\*$/, '.*')}$`) }));
    return [...new Set(patterns.filter((p) => p.pattern.test(path)).map((p) => p.method))];
  };
  app.setNotFoundHandler(async (req, reply) => {
    // Matched as the router matches: each segment decoded (an encoded slash stays inside its segment).
    const path = req.url.split('?')[0]!.split('/').map((s) => { try { return decodeURIComponent(s); } catch { return s; } }).join('/');
    const allowed = methodsOf(path);
    if (allowed.length > 0 && !allowed.includes(req.method)) {
      return refuse(reply.header('allow', allowed.join(', ')), 'request.method-not-allowed', `${req.method} is not allowed on this resource; it takes ${allowed.join(', ')}`);
    }
    return refuse(reply, 'request.not-found', 'No such resource');
  });

  // The stored answer of an idempotent write is written before the client gets it; a 5xx frees the key.
  app.addHook('onSend', async (req, reply, payload) => {
    const claim = req.idempotencyClaim;
    if (!claim || reply.getHeader('idempotent-replayed') || req.idempotencyRecorded) return payload;
    if (reply.statusCode >= 500) await idempotency.release(claim);
    else await idempotency.complete(claim, reply.statusCode, String(payload));
    return payload;
  });

  app.post<{ Params: { clientId: string } }>('/auth/token/:clientId', {
    schema: executionsSchemas.token,
    // Nothing of the body is read (credentials come in headers), however large or malformed: it is
    // drained unread, so the answer is always in OAuth's shape.
    preParsing: async (req, _reply, payload) => {
      payload.resume();
      req.headers['content-length'] = '0';
      delete req.headers['transfer-encoding'];
      return Readable.from([]);
    },
  }, async (req, reply) => {
    const apiKey = req.headers['x-api-key'];
    const merchant = typeof apiKey === 'string' && apiKey.length > 0 && apiKey.length <= 256
      ? await merchants.byClientCredentials(req.params.clientId, apiKey) : undefined;
    reply.header('cache-control', 'no-store');
    if (!merchant) {
      return reply.code(401).send({ error: 'invalid_client', error_description: 'Unknown client id or API key' });
    }
    return reply.code(200).send(await tokens.issue(merchant.id, merchant.tokenGeneration));
  });

  /** Bearer token first (a 401 never consumes an idempotency key), then the key on writes. */
  async function guard(req: FastifyRequest, reply: FastifyReply) {
    if (!req.merchant) {
      await authenticate(req, reply);
      if (reply.sent) return reply;
    }
    return admit(req, reply);
  }

  /**
   * The bearer token, read from the headers alone: an unauthenticated caller learns nothing of how
   * its body is read (refused 401 before a 400 for a body that is not JSON).
   */
  async function authenticate(req: FastifyRequest, reply: FastifyReply) {
    const presented = bearerTokenOf(req.headers.authorization);
    const check = presented !== undefined ? await tokens.verify(presented) : undefined;
    const found = check?.ok ? await merchants.byId(check.merchantId) : undefined;
    // A token issued before the merchant's API key was rotated is refused like any invalid one.
    const merchant = found && check?.ok && check.generation === found.tokenGeneration ? found : undefined;
    if (!merchant) {
      reply.header('www-authenticate', `Bearer realm="switchyard", error="invalid_token"`);
      const detail = presented === undefined ? 'An Authorization: Bearer access token is required'
        : check && !check.ok && check.reason === 'expired' ? 'The access token has expired' : 'The access token is invalid';
      return refuse(reply, 'request.unauthorized', detail);
    }
    req.merchant = merchant;
  }

  /** The idempotency key of a write, once its body is read (an authenticated request only). */
  async function admit(req: FastifyRequest, reply: FastifyReply) {
    const merchant = req.merchant;
    if (!merchant) return;
    // Ids in the path are found whatever their case (they are made in lower case), and a retry
    // naming one in upper case is the same request under its idempotency key.
    const path = req.params as Record<string, string> | undefined;
    for (const [k, v] of Object.entries(path ?? {})) if (uuidPattern.test(v)) path![k] = v.toLowerCase();
    // A read (HEAD is answered by the GET route: an uptime probe, a check that an execution exists).
    if (req.method === 'GET' || req.method === 'HEAD') return;
    const key = req.headers['x-idempotency-key'];
    if (key === undefined || key === '') return refuse(reply, 'request.header.missing', 'x-idempotency-key is required on writes');
    if (typeof key !== 'string' || !uuidPattern.test(key)) return refuse(reply, 'request.header.invalid', 'x-idempotency-key must be a UUID');
    // Stored for the key's lifetime: path values that are not ids (a card number put there) masked.
    const operation = deps.cardData.mask(`${req.method} ${req.routeOptions.url} ${JSON.stringify(req.params)}`);
    const admission = await idempotency.admit(merchant.id, key.toLowerCase(), operation, withoutSecurityCode(req.body ?? null));
    if (admission.kind === 'conflict') {
      return refuse(reply, 'request.conflict', admission.reason === 'mismatch'
        ? 'x-idempotency-key was used for a different request' : 'A request with this x-idempotency-key is still in progress');
    }
    if (admission.kind === 'replay') {
      const replayWith = req.routeOptions.config.replayWith;
      const body = replayWith && admission.status < 300 ? await replayWith(req, reply, admission.body) : admission.body;
      return reply.code(admission.status).header('idempotent-replayed', 'true').header('content-type', 'application/json; charset=utf-8').send(body);
    }
    req.idempotencyClaim = admission.claim;
  }

  const workflowOf = (code: string) => {
    if (!isWorkflowCode(code)) throw Object.assign(new Error('no workflow'), { workflow: code });
    return code;
  };
  const sendError = (reply: FastifyReply, r: { error: keyof typeof executionErrorCodes; why?: NotAllowed }) => {
    const [code, detail] = executionErrorCodes[r.error];
    return refuse(reply, code, r.why ? notAllowedDetail(r.why) : detail);
  };
  const ack = (reply: FastifyReply, req: FastifyRequest, r: ExecResult<ActionAck>, status: number) => {
    if (!r.ok) return sendError(reply, r);
    return reply.code(status).send(ackBody(req, r.value));
  };
  /**
   * An action's answer stored under its idempotency key in the unit of work that records the action
   * (one commit): a crash or an error after that commit leaves the key answered, so a retry gets
   * this answer instead of acting a second time (a second capture or refund).
   */
  function acknowledged(req: FastifyRequest, status: number) {
    let stored: string | undefined;
    const claim = req.idempotencyClaim;
    return {
      input: claim ? { acknowledge: async (tx: Tx, a: ActionAck) => { stored = JSON.stringify(ackBody(req, a)); await idempotency.completeIn(tx, claim, status, stored); } } : {},
      reply(reply: FastifyReply, r: ExecResult<ActionAck>) {
        if (!r.ok || stored === undefined) return ack(reply, req, r, status);
        req.idempotencyRecorded = true;
        return reply.code(status).header('content-type', 'application/json; charset=utf-8').send(stored);
      },
    };
  }

  /**
   * A created resource's answer, stored under the request's idempotency key in the unit of work that
   * creates it: a crash between the commit and the answer leaves the answer for the retry to replay,
   * where the key left in flight was taken over after five minutes and the resource made again.
   */
  function answeredIn(req: FastifyRequest, reply: FastifyReply, status: number) {
    const claim = req.idempotencyClaim;
    let stored: string | undefined;
    reply.code(status);
    return {
      // Answers are serialized as plain JSON (http/server.ts), so this is the body the client gets.
      acknowledge: claim ? async (tx: Tx, body: unknown) => { const text = JSON.stringify(body); stored = text; await idempotency.completeIn(tx, claim, status, text); } : undefined,
      send(body: unknown) {
        if (stored === undefined) return reply.send(body);
        req.idempotencyRecorded = true;
        return reply.header('content-type', 'application/json; charset=utf-8').send(stored);
      },
    };
  }

  /** The acknowledgment of an action request (reference: `{name, actionId, executedAt, links}`). */
  const ackBody = (req: FastifyRequest, a: ActionAck) => {
    const { execution: e, action } = a;
    const self = linkBase(req) + executionPath(e);
    return ({
      name: action.name, actionId: action.id, executedAt: new Date(action.requestedAt).toISOString(),
      ...(action.reason ? { reason: action.reason } : {}), ...(action.reasonDescription ? { reasonDescription: action.reasonDescription } : {}),
      links: {
        execution: self,
        ...(action.name === 'authorize' ? { consumerWait: linkBase(req) + consumerWaitPath(e.id) } : {}),
        ...(action.name === 'capture' ? { refund: `${self}/refund` } : {}),
      },
    });
  };
  const reasonOf = (body: Json) => {
    const reason = stringAt(body, 'reason', { max: 64 });
    if (reason !== undefined && !refusalReasons.includes(reason)) throw new ParamError('reason', `must be one of ${refusalReasons.join(', ')}`);
    const reasonDescription = stringAt(body, 'reasonDescription', { max: 500 });
    return { ...(reason ? { reason } : {}), ...(reasonDescription ? { reasonDescription } : {}), ...actionMetaOf(body) };
  };

  if (deps.browser) {
    const { clock, ...browser } = deps.browser;
    await registerBrowserRoutes(app, browser, {
      merchants, tokens, executions, instruments, idempotency, guard, authenticate, refuse, clock, publicBase: (req) => deps.publicUrl ?? baseOf(req), cardData: deps.cardData, answeredIn,
    });
  }

  await app.register(async (scope) => {
    scope.addHook('onRequest', authenticate);
    scope.addHook('preValidation', admit);

    scope.post<{ Params: { code: string } }>('/merchant/workflows/:code/executions', { schema: executionsSchemas.create }, async (req, reply) => {
      if (!isWorkflowCode(req.params.code)) return refuse(reply, 'request.not-found', `No such workflow (this gateway runs ${workflowCodes.join(', ')})`);
      const merchant = req.merchant!;
      const body = objectAt(req.body ?? {}, 'body', true)!;
      const workspaceId = stringAt(body, 'workspaceId', { max: 64 }) ?? merchant.workspaceId;
      if (workspaceId !== merchant.workspaceId) return refuse(reply, 'request.param.invalid', 'workspaceId: not a workspace of this client');
      const meta = objectAt(body.meta, 'meta', false) ?? {};
      const merchantReference = stringAt(body, 'merchantReference');
      const holderReference = stringAt(body, 'holderReference');
      if (body.initialActions !== undefined) return refuse(reply, 'request.param.invalid', 'initialActions: not supported; call authorize after create');
      const answer = answeredIn(req, reply, 201);
      const rendered = (e: ExecutionRecord) => renderExecution({ execution: e, attempts: [], totals: undefined }, linkBase(req));
      const e = await executions.create(merchant, workflowOf(req.params.code), {
        workspaceId, meta, ...(merchantReference ? { merchantReference } : {}), ...(holderReference ? { holderReference } : {}),
      }, answer.acknowledge && ((tx, created) => answer.acknowledge!(tx, rendered(created))));
      return answer.send(rendered(e));
    });

    scope.get<{ Params: { code: string }; Querystring: Record<string, string> }>('/merchant/workflows/:code/executions', { schema: executionsSchemas.list }, async (req, reply) => {
      if (!isWorkflowCode(req.params.code)) return refuse(reply, 'request.not-found', `No such workflow (this gateway runs ${workflowCodes.join(', ')})`);
      const q = req.query;
      const str = (k: string) => {
        const v = q[k];
        if (v !== undefined && (typeof v !== 'string' || characterCount(v) > 255)) throw new ParamError(k, 'must be given once, at most 255 characters');
        if (v !== undefined && hasControlCharacter(v)) throw new ParamError(k, 'must not contain control characters');
        return v;
      };
      // A misspelt filter (filter[merchantRefrence]) ignored would answer every execution, and a
      // client taking the first result would take another order's: refused by name instead.
      const unknown = Object.keys(q).find((k) => !listQueryKeys.has(k));
      if (unknown !== undefined) throw new ParamError(scrubPans(clipText(unknown, 64)).replace(/\p{Cc}/gu, '\uFFFD'), `is not a parameter of this list (${[...listQueryKeys].join(', ')})`);
      const lastStatus = str('filter[lastStatus]');
      // The execution's `status`, not a history entry's code (`authorizeSuccessful`): the refusal
      // lists what it takes, so a client filtering by codes learns the vocabulary from it.
      if (lastStatus !== undefined && !isExecutionStatus(lastStatus)) throw new ParamError('filter[lastStatus]', `is not an execution status (the values of status: ${executionStatuses.join(', ')})`);
      const limitText = str('limit') ?? '20';
      if (!/^[0-9]{1,3}$/.test(limitText) || Number(limitText) < 1 || Number(limitText) > 100) throw new ParamError('limit', 'must be 1 to 100');
      const cursor = str('cursor');
      let before: { createdAt: number; id: string } | undefined;
      if (cursor !== undefined) {
        const m = /^([0-9]{1,15})\.([0-9a-f-]{36})$/.exec(Buffer.from(cursor, 'base64url').toString('utf8'));
        if (!m) throw new ParamError('cursor', 'is not a cursor this API returned');
        before = { createdAt: Number(m[1]), id: m[2]! };
      }
      const limit = Number(limitText);
      const merchantReference = str('filter[merchantReference]');
      const holderReference = str('filter[holderReference]');
      const workspaceId = str('filter[workspaceId]');
      // The list shows each execution as GET does, attempts and totals included.
      const rows = await executions.listViews({
        merchantId: req.merchant!.id, workflowCode: req.params.code, limit: limit + 1,
        ...(merchantReference !== undefined ? { merchantReference } : {}), ...(holderReference !== undefined ? { holderReference } : {}),
        ...(workspaceId !== undefined ? { workspaceId } : {}), ...(lastStatus !== undefined ? { lastStatus } : {}),
        ...(before ? { before } : {}),
      });
      const page = rows.slice(0, limit);
      const last = page.at(-1)?.execution;
      const next = rows.length > limit && last ? Buffer.from(`${last.createdAt}.${last.id}`).toString('base64url') : null;
      const base = linkBase(req);
      // The request's own URL, its filters as they were read (a card number in one masked).
      const self = base + deps.cardData.mask(req.url);
      const url = new URL(self);
      if (next) url.searchParams.set('cursor', next);
      return reply.send({
        results: page.map((v) => renderExecution(v, base)),
        nextCursor: next,
        links: { self, ...(next ? { next: url.href } : {}) },
      });
    });

    scope.get<{ Params: { code: string; id: string }; Querystring: Record<string, string> }>('/merchant/workflows/:code/executions/:id', { schema: executionsSchemas.get }, async (req, reply) => {
      const { code, id } = req.params;
      const merchant = req.merchant!;
      // A long-poll asked under another name (`waitWhile=…`, `waitWhile[status][]=…`) is refused
      // by name: ignored, it was answered at once, and its client polled again without a pause.
      const misspelt = Object.keys(req.query).find((k) => k !== 'waitWhile[status]' && /^wait_?while/i.test(k));
      if (misspelt !== undefined) throw new ParamError(clipText(scrubPans(misspelt), 64), 'is not a parameter of this request: the long-poll is waitWhile[status]');
      const statuses = waitWhileOf(req.query['waitWhile[status]']);
      if (!isWorkflowCode(code) || !uuidPattern.test(id)) return refuse(reply, 'request.not-found', 'The execution was not found');
      let view;
      if (statuses && statuses.size > 0) {
        // A client that goes away (its response closes) ends the wait.
        view = await executions.waitWhile(merchant, code, id, statuses, deps.longPollMs, reply.raw);
      } else {
        view = await executions.view(merchant, code, id);
      }
      if (!view) return refuse(reply, 'request.not-found', 'The execution was not found');
      return reply.header('cache-control', 'no-store').send(renderExecution(view, linkBase(req)));
    });

    scope.patch<{ Params: { code: string; id: string } }>('/merchant/workflows/:code/executions/:id', { schema: executionsSchemas.patch }, async (req, reply) => {
      const { code, id } = req.params;
      if (!isWorkflowCode(code) || !uuidPattern.test(id)) return refuse(reply, 'request.not-found', 'The execution was not found');
      const body = objectAt(req.body, 'body', true)!;
      const unknown = Object.keys(body).filter((k) => k !== 'meta');
      if (unknown.length > 0) return refuse(reply, 'request.param.invalid', `${unknown[0]}: only meta can be changed`);
      const meta = objectAt(body.meta, 'meta', true)!;
      // The answer is stored under the idempotency key with the patch: a failure after that commit
      // leaves the key answered, never free for a retry that finds the execution changed meanwhile.
      const answer = answeredIn(req, reply, 200);
      const acknowledge = answer.acknowledge;
      const r = await executions.patchMeta(req.merchant!, code, id, meta, acknowledge && ((tx, view) => acknowledge(tx, renderExecution(view, linkBase(req)))));
      if (!r.ok) return sendError(reply, r);
      return answer.send(renderExecution(await executions.view(req.merchant!, code, id) ?? { execution: r.value, attempts: [], totals: undefined }, linkBase(req)));
    });

    scope.post<{ Params: { code: string; id: string } }>('/merchant/workflows/:code/executions/:id/authorize', { schema: executionsSchemas.authorize }, async (req, reply) => {
      const { code, id } = req.params;
      if (!isWorkflowCode(code) || !uuidPattern.test(id)) return refuse(reply, 'request.not-found', 'The execution was not found');
      const merchant = req.merchant!;
      const body = objectAt(req.body, 'body', true)!;
      const amount = moneyAt(body, 'amount', true)!;
      const returnInfo = returnInfoAt(body, merchant.live);
      // Where the shopper's browser is sent after the hosted pages: a merchant that registered its
      // origins sends shoppers back to them only (a request a leaked token forged cannot send them elsewhere).
      const origins = await merchants.origins(merchant.id);
      if (origins.length > 0) {
        for (const [k, url] of Object.entries(returnInfo)) {
          if (!origins.includes(new URL(url).origin)) throw new ParamError(`returnInfo.${k}`, `must be on one of the merchant's registered origins (${origins.join(', ')})`);
        }
      }
      const composition = body.paymentComposition;
      if (!Array.isArray(composition) || composition.length === 0) throw new ParamError('paymentComposition', 'must list one payment', composition === undefined);
      if (composition.length > 1) throw new ParamError('paymentComposition', 'one payment per execution');
      const item = objectAt(composition[0], 'paymentComposition[0]', true)!;
      const method = stringAt(item, 'paymentMethodCode', { required: true, path: 'paymentComposition[0].paymentMethodCode', max: 32 })!;
      if (method !== 'card') throw new ParamError('paymentComposition[0].paymentMethodCode', 'only "card" is offered');
      const integration = stringAt(item, 'integrationType', { path: 'paymentComposition[0].integrationType', max: 16 }) ?? 'api';
      if (integration !== 'api') throw new ParamError('paymentComposition[0].integrationType', 'must be "api"');
      const itemAmount = moneyAt(item, 'amount', false, 'paymentComposition[0].amount');
      if (itemAmount && (itemAmount.amount !== amount.amount || itemAmount.currency !== amount.currency)) {
        throw new ParamError('paymentComposition[0].amount', 'must equal amount');
      }
      const storeInstrument = booleanAt(item, 'storeInstrument', false);
      const { meta } = actionMetaOf(body);
      let instrumentId: string;
      /** A card this request brought (not an instrument's id): it exists only for this authorization. */
      let brought = false;
      if (item.paymentInstrumentData !== undefined) {
        // A card encrypted in the shopper's browser, sent with the authorization instead of an instrument's id.
        const at = 'paymentComposition[0].paymentInstrumentData';
        if (item.paymentInstrumentId !== undefined) throw new ParamError(at, 'send either paymentInstrumentId or paymentInstrumentData, not both');
        const data = objectAt(item.paymentInstrumentData, at, true)!;
        const jwe = stringAt(data, 'encryptedData', { required: true, path: `${at}.encryptedData`, max: 8192 })!;
        const keyId = stringAt(data, 'vaultProviderConfigId', { required: true, path: `${at}.vaultProviderConfigId`, pattern: uuidPattern })!;
        if (!deps.browser) throw new ParamError(at, 'not offered by this gateway; send paymentInstrumentId');
        const found = await executions.view(merchant, code, id);
        if (!found) return refuse(reply, 'request.not-found', 'The execution was not found');
        const holderReference = found.execution.holderReference;
        const card = await cardOfJwe(deps.browser.tokenizationKeys, deps.cardData, { merchantId: merchant.id, keyId: keyId.toLowerCase(), jwe, field: `${at}.encryptedData`, holderReference });
        // Made transient, and kept (storeInstrument) by the authorization in its own unit of work, as
        // an instrument named by its id is: a payment that ends before any issuer saw the card, or
        // that an issuer refused for good, takes it back (payments/model.ts storedCardStands).
        const created = await instruments.create({ merchantId: merchant.id, holderReference: holderReference ?? '', card, storeInstrument: false, futureUsage: undefined });
        if (!created.ok) return sendError(reply, created);
        instrumentId = created.value.id;
        brought = true;
      } else {
        instrumentId = stringAt(item, 'paymentInstrumentId', { required: true, path: 'paymentComposition[0].paymentInstrumentId', pattern: uuidPattern })!;
      }
      const acked = acknowledged(req, 200);
      const r = await executions.authorize(merchant, code, id, {
        amount, returnInfo, paymentMethodCode: method, instrumentId: instrumentId.toLowerCase(), baseUrl: baseOf(req), ...(meta ? { meta } : {}), ...(storeInstrument ? { storeInstrument } : {}), ...acked.input,
      });
      // Refused, the card it brought funds nothing: not kept in the holder's saved cards (the
      // merchant was told the request failed), its security code not held.
      if (brought && !r.ok) await instruments.remove(merchant.id, instrumentId);
      return acked.reply(reply, r);
    });

    scope.post<{ Params: { code: string; id: string } }>('/merchant/workflows/:code/executions/:id/capture', { schema: executionsSchemas.capture }, async (req, reply) => {
      const { code, id } = req.params;
      if (!isWorkflowCode(code) || !uuidPattern.test(id)) return refuse(reply, 'request.not-found', 'The execution was not found');
      const body = objectAt(req.body ?? {}, 'body', true)!;
      const amount = moneyAt(body, 'amount', false);
      const final = booleanAt(body, 'final', true);
      const acked = acknowledged(req, 202);
      return acked.reply(reply, await executions.capture(req.merchant!, code, id, { amount, final, ...reasonOf(body), ...acked.input }));
    });

    scope.post<{ Params: { code: string; id: string } }>('/merchant/workflows/:code/executions/:id/refund', { schema: executionsSchemas.refund }, async (req, reply) => {
      const { code, id } = req.params;
      if (!isWorkflowCode(code) || !uuidPattern.test(id)) return refuse(reply, 'request.not-found', 'The execution was not found');
      const body = objectAt(req.body ?? {}, 'body', true)!;
      const amount = moneyAt(body, 'amount', false);
      const paymentId = stringAt(body, 'paymentId', { max: 64 });
      const acked = acknowledged(req, 202);
      return acked.reply(reply, await executions.refund(req.merchant!, code, id, { amount, ...(paymentId !== undefined ? { paymentId } : {}), ...reasonOf(body), ...acked.input }));
    });

    scope.post<{ Params: { code: string; id: string } }>('/merchant/workflows/:code/executions/:id/cancel', { schema: executionsSchemas.cancel }, async (req, reply) => {
      const { code, id } = req.params;
      if (!isWorkflowCode(code) || !uuidPattern.test(id)) return refuse(reply, 'request.not-found', 'The execution was not found');
      const body = objectAt(req.body ?? {}, 'body', true)!;
      const acked = acknowledged(req, 202);
      return acked.reply(reply, await executions.cancel(req.merchant!, code, id, { ...reasonOf(body), ...acked.input }));
    });

    scope.post('/payment/instruments', { schema: executionsSchemas.createInstrument }, async (req, reply) => {
      const body = objectAt(req.body, 'body', true)!;
      const holderReference = stringAt(body, 'holderReference', { required: true })!;
      const paymentMethod = stringAt(body, 'paymentMethod', { max: 32 }) ?? 'card';
      if (paymentMethod !== 'card') throw new ParamError('paymentMethod', 'only "card" is offered');
      const futureUsage = stringAt(body, 'futureUsage', { max: 32 });
      if (futureUsage !== undefined && !['CardOnFile', 'Subscription', 'UnscheduledCardOnFile'].includes(futureUsage)) {
        throw new ParamError('futureUsage', 'must be CardOnFile, Subscription or UnscheduledCardOnFile');
      }
      const card = cardAt(objectAt(body.data, 'data', true)!);
      const answer = answeredIn(req, reply, 201);
      const r = await instruments.create({ merchantId: req.merchant!.id, holderReference, card, storeInstrument: booleanAt(body, 'storeInstrument', false), futureUsage },
        answer.acknowledge && ((tx, created) => answer.acknowledge!(tx, renderInstrument(created))));
      if (!r.ok) return sendError(reply, r);
      return answer.send(renderInstrument(r.value));
    });

    scope.get<{ Params: { id: string } }>('/payment/instruments/:id', { schema: executionsSchemas.getInstrument }, async (req, reply) => {
      const i = uuidPattern.test(req.params.id) ? await instruments.get(req.merchant!.id, req.params.id.toLowerCase()) : undefined;
      if (!i) return refuse(reply, 'request.not-found', 'The instrument was not found');
      // Says plainly whether the security code is still held for the next authorization (held once, for a short time).
      return reply.send(renderInstrument(i, await instruments.holdsCvv(i.id)));
    });

    scope.delete<{ Params: { id: string } }>('/payment/instruments/:id', { schema: executionsSchemas.deleteInstrument }, async (req, reply) => {
      const answer = answeredIn(req, reply, 200);
      const acknowledge = answer.acknowledge;
      const done = uuidPattern.test(req.params.id)
        && await instruments.remove(req.merchant!.id, req.params.id.toLowerCase(), acknowledge && ((tx) => acknowledge(tx, { success: true })));
      if (!done) return refuse(reply, 'request.not-found', 'The instrument was not found');
      return answer.send({ success: true });
    });
  });
}
