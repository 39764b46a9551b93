import { bearerTokenOf } from '../../runtime/bearer.ts';
import type { FastifyInstance, FastifyReply, FastifyRequest, preHandlerAsyncHookHandler } from 'fastify';
import type { Merchant } from '../../merchants/model.ts';
import type { MerchantService } from '../../merchants/service.ts';
import type { AccessTokens, ClientScope } from '../../merchants/tokens.ts';
import type { ExecutionService } from '../../executions/service.ts';
import type { ExecutionRecord } from '../../executions/model.ts';
import type { Idempotency } from '../../idempotency/service.ts';
import type { Instrument, InstrumentService } from '../../vault/instruments.ts';
import type { Tx } from '../../storage/unit-of-work.ts';
import type { TokenizationKeys } from '../../vault/tokenization.ts';
import type { Throttle } from '../../throttle/service.ts';
import type { Clock } from '../../runtime/clock.ts';
import { isWorkflowCode } from '../../workflows/model.ts';
import { executionErrorCodes, type ErrorCode } from './errors.ts';
import { ParamError, booleanAt, cardAt, moneyAt, objectAt, screenCardData, stringAt, uuidPattern, type Json } from './parse.ts';
import type { CardDataScreen } from '../../vault/free-text.ts';
import { renderExecution, renderInstrument, wireMoney } from './render.ts';
import { cardOfJwe } from './encrypted-card.ts';
import { executionsSchemas } from './schemas.ts';

export interface BrowserDeps {
  tokenizationKeys: TokenizationKeys;
  throttle: Throttle;
  /** Tokenization calls one holder may make per window (card testing is the attack this slows). */
  tokenizeLimit: { calls: number; windowMs: number };
}

interface Helpers {
  merchants: MerchantService;
  tokens: AccessTokens;
  executions: ExecutionService;
  instruments: InstrumentService;
  idempotency: Idempotency;
  guard: preHandlerAsyncHookHandler;
  /** The merchant's bearer token, from the headers alone (an `onRequest` hook). */
  authenticate: (req: FastifyRequest, reply: FastifyReply) => Promise<unknown>;
  refuse(reply: FastifyReply, code: ErrorCode, detail: string): FastifyReply;
  /** The gateway's address as browsers reach it. */
  publicBase(req: FastifyRequest): string;
  clock: Clock;
  cardData: CardDataScreen;
  /** A created resource's answer, stored under the request's idempotency key in the unit of work that creates it. */
  answeredIn(req: FastifyRequest, reply: FastifyReply, status: number): {
    acknowledge: ((tx: Tx, body: unknown) => Promise<void>) | undefined;
    send(body: unknown): FastifyReply;
  };
}

declare module 'fastify' {
  interface FastifyRequest {
    clientScope?: ClientScope;
  }
}

const initTypes = ['secureFields', 'tokenization', 'dropIn'] as const;
const futureUsages = ['CardOnFile', 'Subscription', 'UnscheduledCardOnFile'];
const corsHeaders = 'authorization, content-type, x-idempotency-key, x-client-version, x-client-type';

/** JSON as ASCII only: `@payrails/web-cse` decodes `data` with `atob` (Latin-1), reference §5.2. */
const asciiJson = (v: unknown) => JSON.stringify(v).replace(/[\u007f-\uffff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
/** client/init's answer: its data as base64 of JSON in ASCII, as the SDKs decode it. */
const encodedInit = (data: Record<string, unknown>) => ({ version: '1.0.0', data: Buffer.from(asciiJson(data), 'latin1').toString('base64') });

/**
 * `POST /merchant/client/init` (merchant-authenticated) and the browser-facing tokenization
 * endpoints it links to. The browser side authenticates with the short-lived client token, is
 * answered with CORS only for the merchant's registered origins, and is rate-limited per holder.
 */
export async function registerBrowserRoutes(app: FastifyInstance, deps: BrowserDeps, h: Helpers): Promise<void> {
  const { merchants, tokens, instruments, idempotency, refuse } = h;
  const { tokenizationKeys, throttle, tokenizeLimit } = deps;

  /** Seconds a tokenization key is still handed out for. */
  const expiresInOf = (key: { expiresAt: number }) => Math.max(0, Math.floor((key.expiresAt - h.clock.now()) / 1000));

  await app.register(async (scope) => {
    // The merchant's token before the body is read, as on every other merchant route.
    scope.addHook('onRequest', h.authenticate);
    scope.addHook('preValidation', h.guard);
    scope.post('/merchant/client/init', { schema: executionsSchemas.clientInit, config: { replayWith: reissued } }, async (req, reply) => {
      const merchant = req.merchant!;
      const body = objectAt(req.body ?? {}, 'body', true)!;
      const type = stringAt(body, 'type', { max: 32 }) ?? 'secureFields';
      if (!(initTypes as readonly string[]).includes(type)) throw new ParamError('type', `must be one of ${initTypes.join(', ')}`);
      const holderReference = stringAt(body, 'holderReference', { required: true })!;
      const workspaceId = stringAt(body, 'workspaceId', { max: 64 }) ?? merchant.workspaceId;
      if (workspaceId !== merchant.workspaceId) throw new ParamError('workspaceId', 'not a workspace of this client');
      const workflowCode = stringAt(body, 'workflowCode', { max: 64 }) ?? 'payment-acceptance';
      if (!isWorkflowCode(workflowCode)) throw new ParamError('workflowCode', 'no such workflow');
      const merchantReference = stringAt(body, 'merchantReference');
      const amount = moneyAt(body, 'amount', false);
      const meta = objectAt(body.meta, 'meta', false) ?? {};
      const base = h.publicBase(req);
      const key = await tokenizationKeys.current(merchant.id);
      /** The answer, its client token left out where `client` is: what the idempotency key keeps. */
      const answerOf = (execution: ExecutionRecord | undefined, client?: { token: string; expiresAt: number }) => encodedInit({
        ...(client ? { token: client.token, tokenExpiresAt: new Date(client.expiresAt).toISOString() } : {}),
        holderReference, type, workflowCode,
        ...(amount ? { amount: wireMoney(amount) } : {}),
        vaultConfiguration: {
          vaultId: merchant.id, vaultUrl: `${base}/public/payment`, ...(client ? { token: client.token } : {}), providerConfigId: key.id,
          cardTableName: 'cards', vaultType: 'Switchyard', status: 'enabled',
          encryptionPublicKey: key.publicKey, encryptionPublicKeyExpiresIn: expiresInOf(key),
          links: { saveInstrument: { method: 'POST', href: `${base}/public/payment/instruments` } },
        },
        tokenization: {
          id: key.id, publicKey: key.publicKey,
          links: { tokenize: { method: 'POST', href: `${base}/public/payment/instruments/tokenize` } },
        },
        links: { instruments: { method: 'GET', href: `${base}/public/payment/instruments` } },
        sdk: { script: `${base}/sdk/v1/switchyard.js`, merchantId: merchant.id },
        ...(execution ? { execution: renderExecution({ execution, attempts: [], totals: undefined }, base) } : {}),
      });
      // The client token is a credential: the answer kept under the idempotency key leaves it out
      // (kept, it sat in the database for the key's two days, and a replay handed back a token that
      // had expired or that a rotation of the merchant's credentials had ended), and a replay is
      // given a fresh one (reissued). The execution the request describes (a merchantReference)
      // commits with that answer, so a retry after a crash does not make a second one.
      const claim = req.idempotencyClaim;
      const execution = merchantReference
        ? await h.executions.create(merchant, workflowCode, { workspaceId, meta, merchantReference, holderReference },
          claim ? async (tx, e) => { await idempotency.completeIn(tx, claim, 200, JSON.stringify(answerOf(e))); } : undefined)
        : undefined;
      if (claim && !execution) await idempotency.complete(claim, 200, JSON.stringify(answerOf(undefined)));
      if (claim) req.idempotencyRecorded = true;
      const client = await h.tokens.issueClient({ merchantId: merchant.id, holderReference, keyId: key.id, generation: merchant.tokenGeneration, ...(execution ? { executionId: execution.id } : {}) });
      return reply.code(200).header('cache-control', 'no-store').send(answerOf(execution, client));
    });
  });

  /**
   * A client/init replayed under its idempotency key: the answer kept, with a client token and a
   * tokenization key of now, under the merchant's credentials of now. The key kept may have expired
   * since (keys are handed out for hours, idempotency keys kept for days): the browser would encrypt
   * to a key every tokenization then refuses. A token the kept answer held, where an earlier release
   * kept one, is replaced.
   */
  async function reissued(req: FastifyRequest, reply: FastifyReply, stored: string): Promise<string> {
    const kept = JSON.parse(stored) as { data: string };
    const data = JSON.parse(Buffer.from(kept.data, 'base64').toString('latin1')) as {
      holderReference: string; tokenization: Record<string, unknown>; vaultConfiguration: Record<string, unknown>; execution?: { id: string };
    };
    const merchant = req.merchant!;
    const key = await tokenizationKeys.current(merchant.id);
    const client = await h.tokens.issueClient({
      merchantId: merchant.id, holderReference: data.holderReference, keyId: key.id, generation: merchant.tokenGeneration,
      ...(data.execution ? { executionId: data.execution.id } : {}),
    });
    reply.header('cache-control', 'no-store');
    return JSON.stringify(encodedInit({
      ...data, token: client.token, tokenExpiresAt: new Date(client.expiresAt).toISOString(),
      vaultConfiguration: {
        ...data.vaultConfiguration, token: client.token, providerConfigId: key.id, encryptionPublicKey: key.publicKey,
        encryptionPublicKeyExpiresIn: expiresInOf(key),
      },
      tokenization: { ...data.tokenization, id: key.id, publicKey: key.publicKey },
    }));
  }

  /** CORS for the browser endpoints: only the merchant's registered origins (same-origin calls need none). */
  async function allowOrigin(req: FastifyRequest, reply: FastifyReply, merchantId: string): Promise<boolean> {
    const origin = req.headers.origin;
    if (origin === undefined || origin === new URL(h.publicBase(req)).origin) return true;
    const allowed = (await merchants.origins(merchantId)).includes(origin);
    if (allowed) reply.header('access-control-allow-origin', origin).header('vary', 'Origin');
    return allowed;
  }

  /**
   * The client token, its merchant and the origin, from the headers alone, before the body is read:
   * a stranger's body (screened for card numbers in full, a keyed hash per digit run) costs nothing.
   */
  async function clientAuthenticate(req: FastifyRequest, reply: FastifyReply) {
    reply.header('cache-control', 'no-store');
    const presented = bearerTokenOf(req.headers.authorization);
    const check = presented !== undefined ? await tokens.verifyClient(presented) : undefined;
    const found: Merchant | undefined = check?.ok ? await merchants.byId(check.scope.merchantId) : undefined;
    // Made with credentials rotated since: refused as the access token that made it is.
    const merchant = found && check?.ok && check.scope.generation === found.tokenGeneration ? found : undefined;
    if (!check?.ok || !merchant) {
      // CORS headers are still needed for the browser to read this refusal (an expired token, or one
      // of credentials rotated since, says to call client/init again): granted to the merchant's
      // registered origins only, echoing nothing unregistered.
      const named = found?.id ?? (check && !check.ok && check.reason === 'expired' ? check.merchantId : undefined);
      if (named !== undefined) await allowOrigin(req, reply, named);
      return refuse(reply, 'request.unauthorized', check && !check.ok && check.reason === 'expired'
        ? 'The client token has expired; call client/init again' : 'A client token from client/init is required');
    }
    if (!(await allowOrigin(req, reply, merchant.id))) return refuse(reply, 'request.forbidden', 'This origin is not registered for the merchant');
    // From the gateway's own origin, only the secure fields call: they say which merchant they were
    // opened for, and a token of another merchant (handed to them by the embedding page's script)
    // would save the card typed there into that merchant's vault.
    if (req.headers.origin === new URL(h.publicBase(req)).origin && req.headers['x-frame-merchant'] !== merchant.id) {
      return refuse(reply, 'request.forbidden', 'These secure fields were opened for another merchant');
    }
    req.merchant = merchant;
    req.clientScope = check.scope;
  }

  /** The rate limit, then the idempotency key, of a request `clientAuthenticate` let in. */
  async function clientGuard(req: FastifyRequest, reply: FastifyReply) {
    const merchant = req.merchant!;
    const scope = req.clientScope!;
    // Counted only for work the holder's browser asks for anew: the stored answer to a request sent
    // again (a retry after a lost answer) is given back whatever the count, as it costs nothing.
    // Listing the holder's saved cards counts apart: the SDK lists them whenever it renders, and a
    // page that renders often would otherwise use up the holder's tokenizations.
    const limited = async (what: 'tokenize' | 'saved-cards') => {
      const limit = await throttle.take(`${what}:${merchant.id}:${scope.holderReference}`, tokenizeLimit.calls, tokenizeLimit.windowMs);
      if (limit.allowed) return false;
      reply.header('retry-after', String(Math.ceil(limit.retryAfterMs / 1000)));
      await refuse(reply, 'request.rate-limit', what === 'tokenize' ? 'Too many tokenization requests for this holder; try again later' : 'Too many saved-card listings for this holder; try again later');
      return true;
    };
    if (req.method === 'GET' || req.method === 'HEAD') {
      await limited('saved-cards');
      return reply.sent ? reply : undefined;
    }
    const key = req.headers['x-idempotency-key'];
    if (key === undefined || key === '') return refuse(reply, 'request.header.missing', 'x-idempotency-key is required on writes');
    if (typeof key !== 'string' || !uuidPattern.test(key)) return refuse(reply, 'request.header.invalid', 'x-idempotency-key must be a UUID');
    const admission = await idempotency.admit(merchant.id, key.toLowerCase(), `${req.method} ${req.routeOptions.url}`, req.body ?? null);
    if (admission.kind === 'conflict') return refuse(reply, 'request.conflict', 'x-idempotency-key was used for a different request, or it is still in progress');
    if (admission.kind === 'replay') {
      // A key answers only its own holder's browser: another holder's client token sending the same
      // body under the same key gets a conflict, never that holder's instrument. (The holder is read
      // from the stored answer, so keys stored by any release replay alike.)
      if (holderOfAnswer(admission.body) !== undefined && holderOfAnswer(admission.body) !== scope.holderReference) {
        return refuse(reply, 'request.conflict', 'x-idempotency-key was used for a different request, or it is still in progress');
      }
      return reply.code(admission.status).header('idempotent-replayed', 'true').header('content-type', 'application/json; charset=utf-8').send(admission.body);
    }
    // A count the store cannot make now answers 503, "send the request again": the key is freed for
    // that retry rather than held "in progress" until its takeover, minutes later.
    const over = await limited('tokenize').catch(async (err: unknown) => {
      await idempotency.release(admission.claim).catch((e: unknown) => req.log.warn({ err: String(e) }, 'the idempotency key could not be freed now'));
      throw err;
    });
    if (over) {
      await idempotency.release(admission.claim);
      return reply;
    }
    req.idempotencyClaim = admission.claim;
  }

  /** The holder a stored tokenize answer names (an instrument's `holderReference`). */
  const holderOfAnswer = (body: string): string | undefined => {
    try {
      const parsed: unknown = JSON.parse(body);
      return parsed !== null && typeof parsed === 'object' && typeof (parsed as { holderReference?: unknown }).holderReference === 'string'
        ? (parsed as { holderReference: string }).holderReference : undefined;
    } catch { return undefined; }
  };

  /** Decrypts the JWE with the key the client token names; the plaintext is the card (reference §5.4). */
  const cardFromJwe = (scope: ClientScope, jwe: string, field: string) =>
    cardOfJwe(tokenizationKeys, h.cardData, { merchantId: scope.merchantId, keyId: scope.keyId, jwe, field, holderReference: scope.holderReference });

  async function tokenize(req: FastifyRequest, reply: FastifyReply, body: Json, jwe: string, field: string) {
    const scope = req.clientScope!;
    const holder = stringAt(body, 'holderReference');
    if (holder !== undefined && holder !== scope.holderReference) return refuse(reply, 'request.forbidden', 'holderReference: the client token is for another holder');
    const futureUsage = stringAt(body, 'futureUsage', { max: 32 });
    if (futureUsage !== undefined && !futureUsages.includes(futureUsage)) throw new ParamError('futureUsage', `must be ${futureUsages.join(', ')}`);
    const storeInstrument = booleanAt(body, 'storeInstrument', false);
    const card = await cardFromJwe(scope, jwe, field);
    const answer = h.answeredIn(req, reply, 201);
    const body201 = (i: Instrument) => ({ ...renderInstrument(i), holderId: scope.holderReference });
    const r = await instruments.create({ merchantId: scope.merchantId, holderReference: scope.holderReference, card, storeInstrument, futureUsage },
      answer.acknowledge && ((tx, created) => answer.acknowledge!(tx, body201(created))));
    if (!r.ok) {
      const [code, detail] = executionErrorCodes[r.error];
      return refuse(reply, code, detail);
    }
    return answer.send(body201(r.value));
  }

  await app.register(async (scope) => {
    // Preflights first: they carry no token, so they are answered from the Origin alone.
    scope.options('/public/payment/*', { schema: executionsSchemas.preflight }, async (req, reply) => {
      const origin = req.headers.origin;
      reply.header('access-control-allow-methods', 'GET, POST, OPTIONS').header('access-control-allow-headers', corsHeaders)
        .header('access-control-max-age', '600').header('vary', 'Origin');
      // Any https/loopback origin gets a preflight answer; the real request then checks it against the merchant's list.
      if (typeof origin === 'string' && /^https?:\/\/[^/]+$/.test(origin)) reply.header('access-control-allow-origin', origin);
      return reply.code(204).send();
    });
    scope.register(async (guarded) => {
      guarded.addHook('onRequest', clientAuthenticate);
      guarded.addHook('preValidation', clientGuard);
      // The public CSE library's call (reference §5.4).
      guarded.post('/public/payment/instruments/tokenize', { schema: executionsSchemas.tokenize }, async (req, reply) => {
        const body = objectAt(req.body, 'body', true)!;
        const id = stringAt(body, 'id', { max: 64 });
        if (id !== undefined && id !== req.clientScope!.keyId) throw new ParamError('id', 'is not the tokenization id from client/init');
        const jwe = stringAt(body, 'encryptedInstrumentDetails', { required: true, max: 8192 })!;
        return tokenize(req, reply, body, jwe, 'encryptedInstrumentDetails');
      });
      // The secure fields' save-instrument call (vaultConfiguration.links.saveInstrument).
      guarded.post('/public/payment/instruments', { schema: executionsSchemas.saveInstrument }, async (req, reply) => {
        const body = objectAt(req.body, 'body', true)!;
        const paymentMethod = stringAt(body, 'paymentMethod', { max: 32 }) ?? 'card';
        if (paymentMethod !== 'card') throw new ParamError('paymentMethod', 'only "card" is offered');
        const data = objectAt(body.data, 'data', true)!;
        const jwe = stringAt(data, 'encryptedData', { required: true, max: 8192, path: 'data.encryptedData' })!;
        return tokenize(req, reply, body, jwe, 'data.encryptedData');
      });
      // The holder's saved cards (the saved-cards list of the SDK).
      guarded.get('/public/payment/instruments', { schema: executionsSchemas.savedInstruments }, async (req, reply) => {
        const scope = req.clientScope!;
        const saved = await instruments.savedOf(scope.merchantId, scope.holderReference);
        return reply.send({ results: saved.map((i) => ({ ...renderInstrument(i), holderId: scope.holderReference })) });
      });
    });
  });
}
