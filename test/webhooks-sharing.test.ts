/**
 * The webhook worker shared: by several nodes on one PostgreSQL database (a payment's events still
 * reach an endpoint in the order they were written), and by many merchants on one node (one
 * merchant's endpoint that hangs does not hold back another merchant's, even when another node
 * found it failing first; one merchant alone gets the whole worker), with every answered delivery
 * recorded before its lease can run out (never sent again by its own node, never overtaken).
 */
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import assert from 'node:assert/strict';
import { manualClock } from '../src/runtime/clock.ts';
import { randomIds } from '../src/runtime/ids.ts';
import { createWebhookStore } from '../src/webhooks/kysely-store.ts';
import { createWebhookService, type WebhookSettings } from '../src/webhooks/service.ts';
import type { WebhookStore } from '../src/webhooks/store.ts';
import type { Clock } from '../src/runtime/clock.ts';
import { addOutboxEvent } from '../src/webhooks/outbox.ts';
import type { Sender } from '../src/webhooks/sender.ts';
import type { UnitOfWork } from '../src/storage/unit-of-work.ts';
import { postgresAvailable, startGateway, type Gateway } from './support/harness.ts';
import { loopbackAllow } from './support/webhooks.ts';

const execEvent = (merchantId: string, subjectId: string, name: string, n: number, at: number) => ({
  id: randomIds.hex32(), merchantId, type: `execution.${name}`, subjectId, createdAt: at,
  payload: { event: name, time: new Date(at).toISOString(), workspaceId: 'ws', eventTrigger: 'api', details: { executionId: subjectId, n } },
});

/** A delivery worker over `store` beside the gateway's own (another node, or one with a probe in its store). */
function worker(gw: Gateway, store: WebhookStore, sender: Sender, settings: Partial<WebhookSettings> = {}, clock: Clock = { now: () => Date.now() }) {
  return createWebhookService({
    store, merchants: gw.app.merchants, clock, ids: randomIds, logger: { info() {}, warn() {}, error() {}, debug() {} } as never,
    sealingKey: Buffer.alloc(32), policy: { refusal: () => undefined, allowed: ['127.0.0.0/8'] }, sender,
    opp: { event: async () => undefined, activation: () => ({}) },
    settings: { timeoutMs: 1000, pollMs: 500, disableAfterMs: 1e12, batchSize: 32, ...settings },
  });
}

test('two nodes on one PostgreSQL database: one execution\'s events still reach the endpoint in the order written', async (t) => {
  if (!(await postgresAvailable())) return t.skip('no PostgreSQL');
  const clock = manualClock(Date.now());
  const sent: string[] = [];
  const sender: Sender = async (req) => { sent.push(JSON.parse(req.body).event); return { status: 200, latencyMs: 1, excerpt: 'OK', error: undefined }; };
  const gw = await startGateway({ store: 'postgres', clock, sender, env: { SWITCHYARD_WEBHOOK_ALLOW: loopbackAllow } });
  try {
    const m = gw.merchant.merchantId;
    const ep = await gw.app.webhooks.addEndpoint({ merchantId: m, dialect: 'executions', url: 'http://127.0.0.1:4999/' });
    assert.ok(ep.ok);
    clock.advance?.(1);
    const db = gw.app.storage.db;
    // Node B: the same code over the same database, whose fan-out transaction is still open (rendering
    // and inserting a page of 100 takes a while) when node A runs its pass.
    let release!: () => void;
    const gate = new Promise<void>((r) => { release = r; });
    let fanningOut!: () => void;
    const inFanOut = new Promise<void>((r) => { fanningOut = r; });
    const uow = gw.app.storage.uow as UnitOfWork;
    const slowUow: UnitOfWork = { ...uow, db: uow.db, kind: uow.kind, afterCommit: uow.afterCommit.bind(uow),
      run: (fn) => uow.run(async (tx) => { const r = await fn(tx); fanningOut(); await gate; return r; }) };
    const storeB = createWebhookStore(slowUow);
    const nodeB = worker(gw, { ...storeB, claimDue: async () => [] }, sender, {}, clock);
    const now = clock.now() + 10;
    await addOutboxEvent(db, execEvent(m, 'exec-1', 'executionCreated', 1, now));
    const passB = nodeB.runOnce();      // B reads [created] and claims it in its fan-out transaction...
    await inFanOut;
    await addOutboxEvent(db, execEvent(m, 'exec-1', 'executionActionCompleted', 2, now + 1));
    // ...meanwhile A reads both: it must not fan out and send the later one while B holds the earlier.
    const passA = gw.app.webhooks.runOnce();
    await sleep(300);
    const early = [...sent];
    release();
    await Promise.all([passA, passB]);
    assert.deepEqual(early, [], 'nothing sent while the earlier event is in another node\'s fan-out');
    await gw.app.webhooks.runOnce();
    assert.deepEqual(sent, ['executionCreated', 'executionActionCompleted'], 'events of one execution arrive in the order written');
  } finally {
    await gw.close();
  }
});
test('a flood of events to one merchant\'s timing-out endpoint does not hold back another merchant\'s healthy endpoint', async () => {
  const clock = manualClock(Date.now());
  const sent: string[] = [];
  const timeoutMs = 100;
  // The dead receiver never answers: each attempt costs the whole timeout.
  let hang = false;
  const sender: Sender = async (req) => {
    sent.push(req.url);
    if (req.url.includes('dead')) {
      if (hang) await new Promise((r) => setTimeout(r, req.timeoutMs));
      return { status: undefined, latencyMs: 1, excerpt: undefined, error: hang ? `timeout after ${req.timeoutMs} ms` : 'ECONNREFUSED' };
    }
    return { status: 200, latencyMs: 1, excerpt: 'OK', error: undefined };
  };
  const gw = await startGateway({ clock, sender, env: { SWITCHYARD_WEBHOOK_ALLOW: loopbackAllow, SWITCHYARD_WEBHOOK_TIMEOUT_MS: String(timeoutMs) } });
  try {
    const a = gw.merchant.merchantId;
    const b = (await gw.app.merchants.create({ name: 'Healthy Merchant' })).merchantId;
    assert.ok((await gw.app.webhooks.addEndpoint({ merchantId: a, dialect: 'executions', url: 'http://127.0.0.1:4999/dead' })).ok);
    assert.ok((await gw.app.webhooks.addEndpoint({ merchantId: b, dialect: 'executions', url: 'http://127.0.0.1:4999/healthy' })).ok);
    const db = gw.app.storage.db;
    const at = clock.now() + 1;
    // Merchant A: 320 executions move at once (ten batches' worth); its endpoint's host is down
    // (connection refused), so each is queued for a retry 30 s later.
    for (let i = 0; i < 320; i++) await addOutboxEvent(db, execEvent(a, `a-${i}`, 'executionCreated', i, at));
    clock.set(at + 1);
    await gw.app.webhooks.runOnce();
    assert.equal(sent.length, 320);
    sent.length = 0;
    // 30 s later the host is back but hangs (every attempt times out); merchant B's payment moves just then.
    hang = true;
    clock.set(at + 1 + 30_001);
    await addOutboxEvent(db, execEvent(b, 'b-1', 'executionCreated', 0, clock.now()));
    const started = Date.now();
    // The pass would go on retrying the hanging endpoint two at a time: it is stopped once merchant B was sent to.
    const pass = gw.app.webhooks.runOnce();
    while (!sent.some((u) => u.includes('healthy')) && Date.now() - started < 10_000) await sleep(10);
    await gw.app.webhooks.stop();
    await pass;
    const index = sent.findIndex((u) => u.includes('healthy'));
    assert.ok(index >= 0, 'merchant B\'s webhook was sent');
    const deadBefore = sent.slice(0, index).length;
    // The failing endpoint holds its share (two slots); the healthy merchant's delivery goes out beside them.
    assert.ok(deadBefore <= 2, `merchant B's webhook waited behind ${deadBefore} timed-out attempts to merchant A (${Date.now() - started} ms at a ${timeoutMs} ms timeout; ${deadBefore / 32 * 30} s at the default 30 s)`);
  } finally {
    await gw.close();
  }
});

test('a delivery answered during a mid-pass fan-out longer than its lease is not sent again by the same node', async () => {
  const gw = await startGateway();
  try {
    const db = gw.app.storage.db;
    const a = gw.merchant.merchantId;
    const b = (await gw.app.merchants.create({ name: 'Other' })).merchantId;
    const base = createWebhookStore(gw.app.storage.uow);
    let slowFanOut = false;
    const store = { ...base, fanOut: async (byEvent: never, at: number) => { if (slowFanOut) await sleep(1500); return base.fanOut(byEvent, at); } };
    const received: string[] = [];
    const open = new Map<string, number>();
    const overtaken: string[] = [];
    let first = true;
    const sender: Sender = async (req) => {
      const name = JSON.parse(req.body).event as string;
      received.push(name);
      if (name === 'executionActionCompleted' && (open.get('executionCreated') ?? 0) > 0) overtaken.push('sent while executionCreated was still in flight');
      open.set(name, (open.get(name) ?? 0) + 1);
      if (first) {
        first = false;
        // Meanwhile the merchant's other payments move: an event waits to be fanned out, and the fan-out is slow.
        await addOutboxEvent(db, execEvent(b, 'other', 'executionCreated', 0, Date.now()));
        slowFanOut = true;
      }
      await sleep(80);
      open.set(name, open.get(name)! - 1);
      return { status: 200, latencyMs: 80, excerpt: 'OK', error: undefined };
    };
    const svc = worker(gw, store as WebhookStore, sender, { timeoutMs: 100, pollMs: 0 });
    const ep = await svc.addEndpoint({ merchantId: a, dialect: 'executions', url: 'http://127.0.0.1:4999/h' });
    assert.ok(ep.ok, JSON.stringify(ep));
    const now = Date.now();
    await addOutboxEvent(db, execEvent(a, 'x', 'executionCreated', 1, now));
    await addOutboxEvent(db, execEvent(a, 'x', 'executionActionCompleted', 2, now + 1));
    await svc.runOnce();
    await sleep(300);
    await svc.runOnce();
    assert.deepEqual(overtaken, [], 'the payment\'s next event waits for the earlier one');
    assert.deepEqual(received, ['executionCreated', 'executionActionCompleted'], 'each event once, in order');
  } finally {
    await gw.close();
  }
});

test('a healthy endpoint is not held back when another node found a hanging endpoint failing', async () => {
  const gw = await startGateway();
  try {
    const db = gw.app.storage.db;
    const a = gw.merchant.merchantId;
    const b = (await gw.app.merchants.create({ name: 'Healthy' })).merchantId;
    const timeoutMs = 3000;
    let healthyAt: number | undefined;
    const sender: Sender = async (req) => {
      if (req.url.endsWith('/healthy')) { healthyAt ??= Date.now(); return { status: 200, latencyMs: 1, excerpt: 'OK', error: undefined }; }
      await sleep(req.timeoutMs);
      return { status: undefined, latencyMs: req.timeoutMs, excerpt: undefined, error: 'timeout' };
    };
    const svc = worker(gw, createWebhookStore(gw.app.storage.uow), sender, { timeoutMs, pollMs: 50 });
    const dead = await svc.addEndpoint({ merchantId: a, dialect: 'executions', url: 'http://127.0.0.1:4999/dead' });
    assert.ok(dead.ok);
    assert.ok((await svc.addEndpoint({ merchantId: b, dialect: 'executions', url: 'http://127.0.0.1:4999/healthy' })).ok);
    const now = Date.now();
    // Five of merchant A's events: their attempts hang.
    for (let i = 0; i < 5; i++) await addOutboxEvent(db, execEvent(a, `a-${i}`, 'executionCreated', i, now));
    const pass = svc.runOnce();
    await sleep(200);
    // Meanwhile another node's attempts to the same endpoint fail (its failing_since is set), and
    // merchant A's backlog grows ahead of merchant B's one event.
    await db.updateTable('webhook_endpoints').set({ failing_since: Date.now() }).where('id', '=', dead.value.endpointId).execute();
    for (let i = 5; i < 150; i++) await addOutboxEvent(db, execEvent(a, `a-${i}`, 'executionCreated', i, Date.now()));
    await addOutboxEvent(db, execEvent(b, 'b-1', 'executionCreated', 0, Date.now()));
    const queued = Date.now();
    await sleep(1500);
    const waited = healthyAt === undefined ? undefined : healthyAt - queued;
    await svc.stop();
    void pass.catch(() => {});
    assert.ok(waited !== undefined && waited < 1000, `merchant B's webhook waited ${waited ?? '> 1500'} ms behind merchant A's hanging attempts (timeout ${timeoutMs} ms)`);
  } finally {
    await gw.close();
  }
});

for (const store of ['sqlite'] as const) {
  test(`${store}: one healthy endpoint gets the whole worker when no one else needs it`, async () => {
    const clock = manualClock(Date.now());
    let inFlight = 0; let peak = 0; let sent = 0;
    const sender: Sender = async () => {
      inFlight++; peak = Math.max(peak, inFlight); sent++;
      await sleep(5);
      inFlight--;
      return { status: 200, latencyMs: 5, excerpt: 'OK', error: undefined };
    };
    const gw = await startGateway({ store, clock, sender, env: { SWITCHYARD_WEBHOOK_ALLOW: loopbackAllow } });
    try {
      const m = gw.merchant.merchantId;
      assert.ok((await gw.app.webhooks.addEndpoint({ merchantId: m, dialect: 'executions', url: 'http://127.0.0.1:4999/x' })).ok);
      const at = clock.now() + 1;
      const n = 2000;
      await gw.app.storage.uow.run(async (tx) => { for (let i = 0; i < n; i++) await addOutboxEvent(tx, execEvent(m, `e-${i}`, 'executionCreated', i, at)); });
      clock.set(at + 1);
      await gw.app.webhooks.runOnce();
      assert.equal(sent, n);
      assert.equal(peak, 32, `a lone healthy endpoint used only ${peak} of the 32 slots`);
    } finally {
      await gw.close();
    }
  });
}

test('one healthy endpoint: claims and commits per delivered message stay at a batch\'s worth', async () => {
  const gw = await startGateway();
  try {
    const a = gw.merchant.merchantId;
    const base = createWebhookStore(gw.app.storage.uow);
    const calls = { claimDue: 0, emptyClaims: 0, recordAttempts: 0, endpoint: 0 };
    const store = {
      ...base,
      claimDue: async (...args: Parameters<typeof base.claimDue>) => { calls.claimDue++; const r = await base.claimDue(...args); if (r.length === 0) calls.emptyClaims++; return r; },
      recordAttempts: async (...args: Parameters<typeof base.recordAttempts>) => { calls.recordAttempts++; return base.recordAttempts(...args); },
      endpoint: async (id: string) => { calls.endpoint++; return base.endpoint(id); },
    };
    const sender: Sender = async () => { await sleep(5); return { status: 200, latencyMs: 5, excerpt: 'OK', error: undefined }; };
    const svc = worker(gw, store, sender);
    assert.ok((await svc.addEndpoint({ merchantId: a, dialect: 'executions', url: 'http://127.0.0.1:4999/h' })).ok);
    const n = 2000;
    const now = Date.now();
    await gw.app.storage.uow.run(async (tx) => { for (let i = 0; i < n; i++) await addOutboxEvent(tx, execEvent(a, `e-${i}`, 'executionCreated', i, now)); });
    await svc.runOnce();
    assert.ok(calls.recordAttempts <= Math.ceil(n / 8), `${calls.recordAttempts} commits for ${n} messages`);
    assert.ok(calls.claimDue <= Math.ceil(n / 8) + 2, `${calls.claimDue} claims (${calls.emptyClaims} empty) for ${n} messages`);
  } finally {
    await gw.close();
  }
});
