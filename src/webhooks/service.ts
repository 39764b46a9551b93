import type { Tx } from '../storage/unit-of-work.ts';
import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Clock } from '../runtime/clock.ts';
import type { Ids } from '../runtime/ids.ts';
import type { Logger } from '../runtime/logger.ts';
import { holdsCardNumber, scrubPans } from '../runtime/scrub.ts';
import { childTraceparent, newTrace, traceFrom } from '../runtime/trace.ts';
import { seal, unseal } from '../runtime/crypto.ts';
import type { Merchant } from '../merchants/model.ts';
import { executionsChannel, type MerchantService } from '../merchants/service.ts';
import { checkEndpointUrl, type AddressPolicy } from './address.ts';
import { refuse, type WebhookResult } from './errors.ts';
import {
  endpointWants, executionEvents, orderingKeyOf, isSuccess, isWebhookDialect, nextAttemptAt, oppNotificationTypes, routeOf,
  type DeliveryStatus, type EndpointStatus, type Route, type WebhookDialect,
} from './model.ts';
import type { OutboxEvent } from './outbox.ts';
import type { Sender } from './sender.ts';
import { encryptNotification, signExecutionsWebhook } from './signing.ts';
import type { AttemptRecord, DeliveryFilter, DeliveryRecord, EndpointRecord, Redelivered, WebhookStore } from './store.ts';
import { ClockDisagreesError } from '../storage/clock-gate.ts';
import { deleteInBatches } from '../storage/batched-delete.ts';

/** Renders /v1 notifications; injected from app.ts so that webhooks/ never imports a dialect. */
export interface OppNotificationRenderer {
  /** The decrypted notification `{type, action?, payload}` for a /v1 outbox event, or undefined when its subject is gone. */
  event(e: OutboxEvent, route: Route): Promise<Record<string, unknown> | undefined>;
  /** The test message a new listener receives first. */
  activation(merchant: Merchant): Record<string, unknown>;
}

export interface WebhookSettings {
  /** An attempt without a complete answer within this time failed (default 30 s). */
  readonly timeoutMs: number;
  /** How often the worker looks for work. */
  readonly pollMs: number;
  /** An endpoint failing without any success for this long is disabled. */
  readonly disableAfterMs: number;
  /** Deliveries claimed (and sent concurrently) per batch. */
  readonly batchSize: number;
  /** Finished deliveries last tried longer ago than this go, with their attempts and events; 0 keeps them. */
  readonly retentionMs?: number;
}

/** How long a rotated secret may keep signing beside the new one. */
export const maxSecretOverlapMs = 7 * 24 * 3_600_000;

/** An endpoint as operators see it: never its secrets. */
export interface EndpointView {
  readonly endpointId: string;
  readonly merchantId: string;
  readonly dialect: WebhookDialect;
  readonly entityId: string | undefined;
  readonly url: string;
  readonly types: readonly string[];
  readonly status: EndpointStatus;
  readonly failingSince: string | undefined;
  readonly previousSecretUntil: string | undefined;
  readonly createdAt: string;
}

export interface DeliveryView {
  readonly deliveryId: string;
  readonly eventId: string;
  readonly endpointId: string;
  readonly merchantId: string;
  readonly eventType: string;
  readonly status: DeliveryStatus;
  readonly attempts: number;
  readonly nextAttemptAt: string | undefined;
  readonly lastStatus: number | undefined;
  readonly lastError: string | undefined;
  readonly deliveredAt: string | undefined;
  readonly createdAt: string;
}

export interface AttemptView {
  readonly at: string;
  readonly httpStatus: number | undefined;
  readonly latencyMs: number;
  readonly error: string | undefined;
  readonly excerpt: string | undefined;
}

export interface AddEndpointInput {
  readonly merchantId: string;
  readonly dialect: string;
  readonly url: string;
  /** /v1: the listener's entity; defaults to the merchant's only entity. */
  readonly entityId?: string | undefined;
  /** /v1: PAYMENT, REGISTRATION, ...; executions: catalogue event names. Empty or absent: all. */
  readonly types?: readonly string[] | undefined;
}

export interface WebhookService {
  /** `join` writes in the endpoint's own unit of work (a form's one-time key answered with it). */
  addEndpoint(input: AddEndpointInput, join?: (tx: Tx, endpointId: string) => Promise<void>): Promise<WebhookResult<{ endpointId: string; secret: string }>>;
  listEndpoints(merchantId?: string): Promise<EndpointView[]>;
  endpoint(endpointId: string): Promise<EndpointView | undefined>;
  /** New secret; the old one keeps signing beside it for `overlapMs` (executions endpoints; a /v1 key changes at once). */
  rotateSecret(endpointId: string, overlapMs: number, join?: (tx: Tx) => Promise<void>): Promise<WebhookResult<{ secret: string; previousSecretUntil: string | undefined }>>;
  setStatus(endpointId: string, status: EndpointStatus): Promise<WebhookResult<EndpointView>>;
  /** Queues a test message: the /v1 activation message again ("Click to Test"), or an executions `webhookTest` event. */
  sendTest(endpointId: string): Promise<WebhookResult<{ eventId: string }>>;
  deliveries(filter: DeliveryFilter): Promise<DeliveryView[]>;
  /** Every delivery of one event with every attempt. */
  event(eventId: string): Promise<(DeliveryView & { attemptLog: AttemptView[] })[]>;
  redeliverEvent(eventId: string, endpointId?: string): Promise<WebhookResult<Redelivered>>;
  redeliverFailedSince(since: number, filter?: { endpointId?: string; merchantId?: string }): Promise<Redelivered>;
  /**
   * Deletes what the retention setting no longer keeps (finished deliveries, their attempts and
   * events), a couple of hundred per transaction with a pause after each, so that payments are
   * not held up behind it; returns how many deliveries and events went.
   */
  purgeFinished(): Promise<{ deliveries: number; events: number }>;
  /** One pass of the worker: fan out new events, then send everything due. */
  runOnce(): Promise<void>;
  /** Starts the background worker (the server process does); `stop` waits for the pass under way. */
  start(): void;
  stop(): Promise<void>;
}

/** Deliveries (and events) deleted per transaction by the retention purge: about 20 ms of the writer's time each. */
const purgeBatch = 200;

const iso = (ms: number | undefined) => (ms === undefined ? undefined : new Date(ms).toISOString());

const endpointView = (e: EndpointRecord): EndpointView => ({
  endpointId: e.id, merchantId: e.merchantId, dialect: e.dialect, entityId: e.entityId, url: e.url, types: e.types,
  status: e.status, failingSince: iso(e.failingSince), previousSecretUntil: iso(e.previousSecretUntil), createdAt: iso(e.createdAt)!,
});

const deliveryView = (d: DeliveryRecord): DeliveryView => ({
  deliveryId: d.id, eventId: d.eventId, endpointId: d.endpointId, merchantId: d.merchantId, eventType: d.eventType,
  status: d.status, attempts: d.attempts, nextAttemptAt: d.status === 'pending' ? iso(d.nextAttemptAt) : undefined,
  lastStatus: d.lastStatus, lastError: d.lastError, deliveredAt: iso(d.deliveredAt), createdAt: iso(d.createdAt)!,
});

const attemptView = (a: AttemptRecord): AttemptView => ({
  at: iso(a.attemptedAt)!, httpStatus: a.httpStatus, latencyMs: a.latencyMs, error: a.error, excerpt: a.excerpt,
});

/**
 * The test event an executions endpoint receives on `webhooks test`: shaped and signed like every
 * event (`{event, time, workspaceId, eventTrigger, details}`), named `webhookTest` so that a receiver
 * can tell it from a payment's events and answer 200 without acting on it.
 */
export function executionsTestEvent(merchant: Merchant, endpointId: string, now: number): Record<string, unknown> {
  return {
    event: 'webhookTest', time: new Date(now).toISOString(), workspaceId: merchant.workspaceId, eventTrigger: 'manual',
    details: { endpointId, message: 'Test event sent by `webhooks test`: the endpoint is reachable and the signature verifies.' },
  };
}

/** The longest excerpt of a receiver's answer kept in the log. */
const excerptChars = 200;

/**
 * What is kept of a receiver's answer: screened whole, then cut. Digits running into the end are
 * dropped, since a card number cut in two (by this cut, or where the answer's reading stopped) is
 * no longer recognisable as one, and its first fifteen digits give the rest away.
 */
export function excerptOf(answer: string): string {
  return scrubPans(answer).slice(0, excerptChars).replace(/\p{Nd}[\p{Nd} .-]*$/u, (run) => (run.replace(/[^\p{Nd}]/gu, '').length > 4 ? '…' : run));
}
/** Outbox events read per step of a dispatch pass. */
const dispatchPage = 100;

export function createWebhookService(deps: {
  store: WebhookStore;
  merchants: MerchantService;
  clock: Clock;
  ids: Ids;
  logger: Logger;
  /** Seals endpoint secrets at rest (derived from the master key). */
  sealingKey: Buffer;
  policy: AddressPolicy;
  sender: Sender;
  opp: OppNotificationRenderer;
  settings: WebhookSettings;
}): WebhookService {
  const { store, merchants, clock, ids, logger, sealingKey, policy, sender, opp, settings } = deps;
  const workerId = randomBytes(8).toString('hex');
  const sealSecret = (endpointId: string, secret: string) => seal(sealingKey, Buffer.from(secret, 'utf8'), `webhook:${endpointId}`);
  const openSecret = (endpointId: string, sealed: string) => unseal(sealingKey, sealed, `webhook:${endpointId}`).toString('utf8');

  /** /v1: 64 hex characters (the AES key); executions: 64 upper-case hex characters, as the platform issues them. */
  const newSecret = (dialect: WebhookDialect) => {
    const hex = randomBytes(32).toString('hex');
    return dialect === 'executions' ? hex.toUpperCase() : hex;
  };

  function newDelivery(eventId: string, endpoint: EndpointRecord, eventType: string, body: string, at: number,
    order: Pick<DeliveryRecord, 'orderingKey' | 'seq' | 'traceparent'> = {}): DeliveryRecord {
    return {
      id: ids.hex32(), eventId, endpointId: endpoint.id, merchantId: endpoint.merchantId, eventType, body, status: 'pending',
      attempts: 0, retryIndex: 0, ladderStart: at, nextAttemptAt: at, lastStatus: undefined, lastError: undefined,
      deliveredAt: undefined, createdAt: at, ...order,
    };
  }

  /**
   * Fans new outbox events out into one delivery per interested endpoint, each rendered once. A
   * pass reads on only while it finds full pages: events committed after a short page wait for the
   * next pass. Reading on until a page came back empty chased the tail under steady load (each read
   * found the dozen events of the last commit, about 90 reads a second at 800 payments/s, each with
   * its own transaction) and kept the pass from reaching the deliveries that were due.
   */
  async function dispatch(): Promise<number> {
    let total = 0;
    for (;;) {
      const page = await dispatchOnePage();
      total += page.claimed;
      // Another node claimed them all: let it finish rather than spin on the same rows.
      if (page.claimed === 0 || page.read < dispatchPage) return total;
    }
  }

  /** One page of the outbox fanned out: how many events it read, and how many this node claimed. */
  async function dispatchOnePage(): Promise<{ read: number; claimed: number }> {
    const events = await store.undispatched(dispatchPage);
    if (events.length === 0) return { read: 0, claimed: 0 };
    const endpointsByMerchant = new Map<string, EndpointRecord[]>();
    const byEvent = new Map<string, DeliveryRecord[]>();
    for (const e of events) {
      const list: DeliveryRecord[] = [];
      byEvent.set(e.id, list);
      const route = routeOf(e.type, e.payload);
      if (!route) continue;
      let endpoints = endpointsByMerchant.get(e.merchantId);
      if (!endpoints) endpointsByMerchant.set(e.merchantId, endpoints = await store.endpoints({ merchantId: e.merchantId }));
      const wanting = endpoints.filter((ep) => endpointWants(ep, route, e.createdAt));
      if (wanting.length === 0) continue;
      const body = route.dialect === 'opp' ? await opp.event(e, route) : e.payload;
      if (body === undefined) {
        logger.warn({ eventId: e.id, type: e.type }, 'webhook event subject not found; not delivered');
        continue;
      }
      const text = JSON.stringify(body);
      const order = { orderingKey: orderingKeyOf(e.type, e.subjectId, e.payload), seq: e.seq, traceparent: e.traceparent };
      for (const ep of wanting) list.push(newDelivery(e.id, ep, route.notificationType, text, clock.now(), order));
    }
    const claimed = await store.fanOut(byEvent, clock.now());
    return { read: events.length, claimed: claimed.length };
  }

  /** The request one attempt sends: encrypted (/v1) or signed (executions), fresh for each attempt. */
  function requestFor(d: DeliveryRecord, endpoint: EndpointRecord, now: number): { headers: Record<string, string>; body: string } {
    const secret = openSecret(endpoint.id, endpoint.sealedSecret);
    if (endpoint.dialect === 'opp') {
      const enc = encryptNotification(secret, d.body);
      return {
        body: enc.body,
        headers: { 'content-type': 'text/plain;charset=UTF-8', 'x-initialization-vector': enc.iv, 'x-authentication-tag': enc.tag, 'x-notification-id': d.eventId },
      };
    }
    const secrets = [secret];
    if (endpoint.sealedPreviousSecret && endpoint.previousSecretUntil !== undefined && now < endpoint.previousSecretUntil) {
      secrets.push(openSecret(endpoint.id, endpoint.sealedPreviousSecret));
    }
    return { body: d.body, headers: { 'content-type': 'application/json', ...signExecutionsWebhook(secrets, d.eventId, Math.floor(now / 1000), d.body) } };
  }

  /** Sends one attempt; what it changes is decided by `settleBatch`, in order, with the endpoint's state so far. */
  async function attempt(d: DeliveryRecord, endpoint: EndpointRecord) {
    const at = clock.now();
    const req = requestFor(d, endpoint, at);
    // Each attempt is a span of the trace that caused the event (a new trace for the activation message).
    const traceparent = childTraceparent(d.traceparent ? traceFrom(d.traceparent) : newTrace());
    const res = await sender({ url: endpoint.url, headers: { ...req.headers, traceparent }, body: req.body, timeoutMs: settings.timeoutMs });
    return { d, at, res, done: clock.now() };
  }

  /**
   * Records a batch of attempts in one transaction (one commit for the batch, not one per message).
   * The endpoint's failure streak and whether it is disabled are the store's to work out from what
   * the database holds, in order: the copy read at claim time may be stale (another node's success,
   * an operator's change).
   */
  async function settleBatch(results: Awaited<ReturnType<typeof attempt>>[], endpoints: Map<string, EndpointRecord>): Promise<void> {
    const outcomes = results.map(({ d, at, res, done }) => {
      const endpoint = endpoints.get(d.endpointId)!;
      const delivered = isSuccess(res.status);
      // A delivery may wait its turn behind earlier events of the same payment; its ladder starts
      // at its own first attempt, so the wait does not use up its retries.
      const ladderStart = d.retryIndex === 0 ? at : d.ladderStart;
      const next = delivered ? undefined : nextAttemptAt(endpoint.dialect, d.retryIndex, ladderStart, done);
      const status: DeliveryStatus = delivered ? 'delivered' : next === undefined ? 'failed' : 'pending';
      return {
        deliveryId: d.id,
        outcome: {
          attempt: {
            id: ids.hex32(), deliveryId: d.id, attemptedAt: at, httpStatus: res.status, latencyMs: res.latencyMs,
            error: res.error, excerpt: res.excerpt === undefined ? undefined : excerptOf(res.excerpt),
          },
          owner: workerId, redeliveries: d.redeliveries ?? 0,
          status, retryIndex: delivered ? d.retryIndex : d.retryIndex + 1, nextAttemptAt: next ?? d.nextAttemptAt, ladderStart,
          endpoint: { id: endpoint.id, answered: delivered, disableAfterMs: settings.disableAfterMs, at: done },
        },
      };
    });
    const recorded = await store.recordAttempts(outcomes);
    results.forEach(({ d, res }, i) => {
      const { recorded: kept, disabledEndpoint } = recorded[i]!;
      const status = outcomes[i]!.outcome.status;
      const log = { eventId: d.eventId, deliveryId: d.id, endpointId: d.endpointId, httpStatus: res.status, latencyMs: res.latencyMs, error: res.error, status };
      // The node that holds the lease now (or settled the delivery) records its own attempt; this one
      // only tells an operator that the receiver got the event once more.
      if (!kept) logger.warn(log, 'webhook attempt not recorded: the delivery was settled or its lease passed to another worker meanwhile');
      else if (isSuccess(res.status)) logger.info(log, 'webhook delivered');
      else logger.warn(log, 'webhook attempt failed');
      if (disabledEndpoint) logger.warn({ endpointId: d.endpointId }, 'webhook endpoint disabled after failing for too long');
    });
  }

  /**
   * How many attempts one endpoint may have in flight on this node while others wait: half the
   * slots while it answers (it may take the rest when nobody else has anything due), two once it is
   * failing, whatever else waits. An endpoint that accepts connections and never answers keeps each
   * slot for the whole timeout; with every slot its own, the deliveries of every other merchant
   * waited behind its backlog (a review measured five minutes per 320 hanging deliveries).
   */
  const shareOf = (failing: boolean) => (failing ? 2 : Math.max(1, Math.floor(settings.batchSize / 2)));

  /**
   * Sends what is due with up to `batchSize` attempts in flight. A freed slot is filled at once
   * rather than when the slowest attempt of a batch ends; what has finished is recorded together
   * (one transaction), always before anything else is claimed or fanned out, so no answered
   * delivery outlives its lease unrecorded. While attempts wait on slow receivers the pass fans out
   * one page of new events and sends what became due every `pollMs`. It ends once nothing is due
   * and nothing is in flight.
   */
  async function deliverDue(): Promise<number> {
    let sent = 0;
    let failure: unknown;
    const inFlight = new Map<string, number>();
    const sending = new Set<Promise<void>>();
    const finished: Awaited<ReturnType<typeof attempt>>[] = [];
    const endpoints = new Map<string, EndpointRecord>();
    let lookedAt = Date.now();
    // Whether a claim may find something: not after one came back short with nothing held back for an
    // endpoint at its share, until a delivery succeeded (its payment's next event is due now) or
    // time passed (retries, newly fanned-out events).
    let moreDue = true;
    const start = (d: DeliveryRecord) => {
      inFlight.set(d.endpointId, (inFlight.get(d.endpointId) ?? 0) + 1);
      const p: Promise<void> = attempt(d, endpoints.get(d.endpointId)!)
        .then((r) => { finished.push(r); }, (err: unknown) => { failure ??= err; })
        .finally(() => {
          sending.delete(p);
          const n = inFlight.get(d.endpointId)! - 1;
          if (n > 0) inFlight.set(d.endpointId, n); else inFlight.delete(d.endpointId);
        });
      sending.add(p);
    };
    const record = async () => {
      if (finished.length === 0) return;
      const batch = finished.splice(0);
      await settleBatch(batch, endpoints);
      sent += batch.length;
      if (batch.some((r) => isSuccess(r.res.status))) moreDue = true;
    };
    for (;;) {
      await record();
      const room = settings.batchSize - sending.size;
      if (room > 0 && moreDue && !stopping && failure === undefined) {
        const now = clock.now();
        let heldBack = false;
        // The lease outlives the attempt's timeout with room to record it; a dead worker's lease simply expires.
        const leaseUntil = now + 2 * settings.timeoutMs + 1000;
        const due = await store.claimDue(now, leaseUntil, workerId, room, { busy: inFlight, shareOf, heldBack: () => { heldBack = true; } });
        // Short, and nothing left for an endpoint at its share: nothing more is due now.
        if (due.length < room && !heldBack) moreDue = false;
        const fresh = new Map<string, EndpointRecord | undefined>();
        for (const id of new Set(due.map((d) => d.endpointId))) fresh.set(id, await store.endpoint(id));
        for (const [id, endpoint] of fresh) if (endpoint) endpoints.set(id, endpoint);
        // What was claimed is sent only while this worker still holds it with room for a whole
        // attempt, and only to an endpoint still active when read after the claim. A worker that
        // stalled past its lease (a long pause, a frozen VM) would otherwise send an event the lease's
        // next holder had already sent, after that payment's later events; and an operator's disable
        // that landed just after the claim would not stop it. A delivery left here is taken up again
        // once its lease lapses, by whoever then holds it, or when its endpoint is enabled again.
        const stillHeld = clock.now() + settings.timeoutMs < leaseUntil;
        for (const d of due) if (stillHeld && fresh.get(d.endpointId)?.status === 'active') start(d);
        // Slots left after a claim that found something: claim again at once. An endpoint now at
        // its share is left out of that claim, so what others have due behind its backlog goes
        // out now, not when its slow attempts end.
        if (due.length > 0 && sending.size < settings.batchSize) continue;
      }
      if (sending.size === 0 && finished.length === 0) {
        if (failure !== undefined) throw failure;
        if (!moreDue || stopping) return sent;
        continue;
      }
      if (finished.length === 0) {
        const wait = Math.max(20, settings.pollMs - (Date.now() - lookedAt));
        await Promise.race([...sending, sleep(wait, undefined, { ref: false })]);
      }
      // Those answered in the same turn are recorded with it.
      await new Promise((r) => setImmediate(r));
      if (!stopping && Date.now() - lookedAt >= settings.pollMs) {
        lookedAt = Date.now();
        await record();
        await dispatchOnePage();
        moreDue = true;
      }
    }
  }

  let pass: Promise<void> | undefined;
  let timer: NodeJS.Timeout | undefined;
  let running = false;
  /** Set by `stop`: a pass in progress starts nothing more and ends with what is in flight. */
  let stopping = false;

  function runOnce(): Promise<void> {
    // One pass at a time per process: a tick arriving during a pass waits for it instead of racing it.
    pass ??= (async () => {
      // A pass asked for after `stop` (tests drive the worker by hand) runs in full.
      stopping = false;
      try {
        await dispatch();
        await deliverDue();
      } finally {
        pass = undefined;
      }
    })();
    return pass;
  }

  async function find(endpointId: string) {
    return store.endpoint(endpointId);
  }

  return {
    async addEndpoint(input, join) {
      if (!isWebhookDialect(input.dialect)) return refuse('invalid_dialect', 'dialect must be opp or executions');
      const dialect = input.dialect;
      const merchant = await merchants.byId(input.merchantId);
      if (!merchant) return refuse('merchant_not_found', `no merchant ${input.merchantId}`);
      let entityId: string | undefined;
      if (dialect === 'opp') {
        if (input.entityId) {
          if (!(await merchants.entityOf(merchant, input.entityId))) return refuse('entity_not_found', `no entity ${input.entityId} for this merchant`);
          entityId = input.entityId;
        } else {
          // The executions dialect's own entity carries no /v1 traffic, so it is never the default.
          const entities = ((await merchants.list()).find((m) => m.merchant.id === merchant.id)?.entities ?? [])
            .filter((e) => e.channelName !== executionsChannel);
          if (entities.length !== 1) return refuse('entity_required', 'name the listener\'s entity (--entity)');
          entityId = entities[0]!.id;
        }
      }
      const types = [...new Set(input.types ?? [])];
      const known: readonly string[] = dialect === 'opp' ? oppNotificationTypes : executionEvents;
      const unknownType = types.find((t) => !known.includes(t));
      if (unknownType !== undefined) return refuse('invalid_types', `unknown type ${unknownType}; one of ${known.join(', ')}`);
      // An endpoint's URL is kept, shown and logged with every attempt: a card number in it (a
      // token a receiver expects in its query, pasted from a payment) is refused, not kept.
      if (holdsCardNumber(input.url, 'any')) return refuse('invalid_url', 'the URL holds what looks like a card number');
      const urlProblem = await checkEndpointUrl(input.url, policy, { allowHttp: !merchant.live });
      if (urlProblem) return refuse(urlProblem.refused ? 'refused_address' : 'invalid_url', urlProblem.message);
      const now = clock.now();
      const id = ids.hex32();
      const secret = newSecret(dialect);
      const endpoint: EndpointRecord = {
        id, merchantId: merchant.id, dialect, entityId, url: new URL(input.url).toString(), types, sealedSecret: sealSecret(id, secret),
        sealedPreviousSecret: undefined, previousSecretUntil: undefined, status: 'active', failingSince: undefined, createdAt: now, updatedAt: now,
      };
      // A new /v1 listener gets the platform's activation message first, queued like any delivery.
      const first = dialect === 'opp' ? [newDelivery(ids.hex32(), endpoint, 'test', JSON.stringify(opp.activation(merchant)), now)] : [];
      await store.insertEndpoint(endpoint, first, join && ((tx) => join(tx, id)));
      return { ok: true, value: { endpointId: id, secret } };
    },

    async listEndpoints(merchantId) {
      return (await store.endpoints(merchantId ? { merchantId } : {})).map(endpointView);
    },

    async endpoint(endpointId) {
      const e = await find(endpointId);
      return e ? endpointView(e) : undefined;
    },

    async rotateSecret(endpointId, overlapMs, join) {
      // A week is ample for a receiver to take the new secret; beyond it the old one would sign for
      // good (and past the dates a clock can show, the endpoint could not even be read back).
      if (!Number.isFinite(overlapMs) || overlapMs < 0 || overlapMs > maxSecretOverlapMs) return refuse('invalid_argument', 'the overlap must be between 0 and 168 hours (a week)');
      // Two rotations at once (two operators, a form sent twice, two nodes): each writes only over
      // the secret it read, so the later one keeps the earlier one's new secret as the previous one;
      // otherwise the secret the earlier caller was handed would never sign anything.
      for (;;) {
        const e = await find(endpointId);
        if (!e) return refuse('endpoint_not_found', `no endpoint ${endpointId}`);
        const now = clock.now();
        const secret = newSecret(e.dialect);
        // A /v1 key decrypts; the receiver can hold only one, so it changes at once. Executions sign with both meanwhile.
        const overlap = e.dialect === 'executions' && overlapMs > 0;
        const written = await store.updateEndpoint(e.id, {
          sealedSecret: sealSecret(e.id, secret),
          sealedPreviousSecret: overlap ? e.sealedSecret : undefined,
          previousSecretUntil: overlap ? now + overlapMs : undefined,
        }, now, e.sealedSecret, join);
        if (written) return { ok: true, value: { secret, previousSecretUntil: overlap ? iso(now + overlapMs) : undefined } };
      }
    },

    async setStatus(endpointId, status) {
      const e = await find(endpointId);
      if (!e) return refuse('endpoint_not_found', `no endpoint ${endpointId}`);
      // Re-enabling starts a new failure streak, so the endpoint is not disabled again at its next failure.
      await store.updateEndpoint(e.id, { status, failingSince: undefined }, clock.now());
      return { ok: true, value: endpointView((await find(endpointId))!) };
    },

    async sendTest(endpointId) {
      const e = await find(endpointId);
      if (!e) return refuse('endpoint_not_found', `no endpoint ${endpointId}`);
      const merchant = (await merchants.byId(e.merchantId))!;
      const now = clock.now();
      const body = e.dialect === 'opp' ? opp.activation(merchant) : executionsTestEvent(merchant, e.id, now);
      const d = newDelivery(ids.hex32(), e, 'test', JSON.stringify(body), now);
      await store.addDelivery(d);
      return { ok: true, value: { eventId: d.eventId } };
    },

    async deliveries(filter) {
      return (await store.deliveries(filter)).map(deliveryView);
    },

    async purgeFinished() {
      const gone = { deliveries: 0, events: 0 };
      const retentionMs = settings.retentionMs ?? 0;
      if (retentionMs <= 0) return gone;
      const before = clock.now() - retentionMs;
      // Back to back, a month's history kept payments to a tenth of their pace while it went.
      await deleteInBatches(async (limit) => {
        const r = await store.purgeFinished(before, limit);
        gone.deliveries += r.deliveries;
        gone.events += r.events;
        return Math.max(r.deliveries, r.events);
      }, purgeBatch);
      return gone;
    },

    async event(eventId) {
      const list = await store.deliveries({ eventId, limit: 1000 });
      return Promise.all(list.map(async (d) => ({ ...deliveryView(d), attemptLog: (await store.attemptsOf(d.id)).map(attemptView) })));
    },

    async redeliverEvent(eventId, endpointId) {
      const list = (await store.deliveries({ eventId, limit: 1000 })).filter((d) => !endpointId || d.endpointId === endpointId);
      if (list.length === 0) return refuse('event_not_found', `no delivery of event ${eventId}${endpointId ? ` to ${endpointId}` : ''}`);
      return { ok: true, value: await store.redeliver({ deliveryIds: list.map((d) => d.id) }, clock.now()) };
    },

    redeliverFailedSince: (since, filter = {}) => store.redeliver({ failedSince: since, ...filter }, clock.now()),

    runOnce,

    start() {
      if (running) return;
      running = true;
      const loop = () => {
        if (!running) return;
        // A node whose clock is off sends nothing (storage/clock-gate.ts says so, once a minute).
        runOnce().catch((err) => { if (!(err instanceof ClockDisagreesError)) logger.error({ err: String(err) }, 'webhook worker pass failed'); }).finally(() => {
          if (running) timer = setTimeout(loop, settings.pollMs);
        });
      };
      loop();
    },

    async stop() {
      running = false;
      stopping = true;
      clearTimeout(timer);
      // An attempt still waiting on a slow receiver is not waited for in full: its lease expires and
      // it is sent again (at least once), so shutting down stays quick.
      let grace: NodeJS.Timeout | undefined;
      await Promise.race([pass?.catch(() => {}), new Promise((r) => { grace = setTimeout(r, 5000); })]);
      clearTimeout(grace);
    },
  };
}
