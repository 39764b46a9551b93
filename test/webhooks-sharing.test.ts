/**
 * The webhook worker shared: by several nodes on one PostgreSQL database (a payment's events still
 * reach an endpoint in the order they were written), and by many merchants on one node (one
 * merchant's endpoint that hangs does not hold back another merchant's).
 */
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import assert from 'node:assert/strict';
import { manualClock } from '../src/runtime/clock.ts';
import { randomIds } from '../src/runtime/ids.ts';
import { createWebhookStore } from '../src/webhooks/kysely-store.ts';
import { createWebhookService } from '../src/webhooks/service.ts';
import { addOutboxEvent } from '../src/webhooks/outbox.ts';
import type { Sender } from '../src/webhooks/sender.ts';
import type { UnitOfWork } from '../src/storage/unit-of-work.ts';
import { postgresAvailable, startGateway } from './support/harness.ts';
import { loopbackAllow } from './support/webhooks.ts';

const execEvent = (merchantId: string, subjectId: string, name: string, n: number, at: number) => ({
  id: randomIds.hex32(), merchantId, type: `execution.${name}`, subjectId, createdAt: at,
  payload: { event: name, time: new Date(at).toISOString(), workspaceId: 'ws', eventTrigger: 'api', details: { executionId: subjectId, n } },
});

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
    const nodeB = createWebhookService({
      store: { ...storeB, claimDue: async () => [] }, merchants: gw.app.merchants, clock, ids: randomIds, logger: { info() {}, warn() {}, error() {}, debug() {} } as never,
      sealingKey: Buffer.alloc(32), policy: { refusal: () => undefined, allowed: [] }, sender, opp: { event: async () => undefined, activation: () => ({}) },
      settings: { timeoutMs: 1000, pollMs: 500, disableAfterMs: 1e12, batchSize: 32 },
    });
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
    await gw.app.webhooks.runOnce();
    const index = sent.findIndex((u) => u.includes('healthy'));
    assert.ok(index >= 0);
    const deadBefore = sent.slice(0, index).length;
    // 32 per batch at most; the healthy merchant should not wait behind the whole backlog of the dead one.
    assert.ok(deadBefore <= 32, `merchant B's webhook waited behind ${deadBefore} timed-out attempts to merchant A (${Date.now() - started} ms at a ${timeoutMs} ms timeout; ${deadBefore / 32 * 30} s at the default 30 s)`);
  } finally {
    await gw.close();
  }
});
