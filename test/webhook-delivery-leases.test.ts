// Webhook delivery across nodes: only a lease's holder records its attempt, and the failure streak is the database's, on both stores.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { createWebhookService } from '../src/webhooks/service.ts';
import type { DeliveryRecord, EndpointRecord, WebhookStore } from '../src/webhooks/store.ts';
import type { SendResult } from '../src/webhooks/sender.ts';
import { manualClock } from '../src/runtime/clock.ts';
import { randomIds } from '../src/runtime/ids.ts';
import { postgresAvailable } from './support/harness.ts';
import { insertTestEndpoint, openWebhookStore } from './support/webhooks.ts';

const id = () => randomBytes(16).toString('hex');
const quiet = { info() {}, warn() {}, error() {}, debug() {} };
const key = randomBytes(32);
const pgUp = await postgresAvailable();

for (const kind of ['sqlite', 'postgres'] as const) {
  describe(`webhook leases and streaks (${kind})`, { skip: kind === 'postgres' && !pgUp ? 'PostgreSQL unreachable' : false }, () => {
    let store: WebhookStore;
    let merchantId: string;
    let opened: Awaited<ReturnType<typeof openWebhookStore>> | undefined;
    before(async () => { opened = await openWebhookStore(kind, 'wh-leases'); ({ store, merchantId } = opened); });
    after(async () => { await opened?.close(); });

    const endpoint = (overrides: Partial<EndpointRecord> = {}) => insertTestEndpoint(store, merchantId, key, overrides);
    const delivery = (e: EndpointRecord, at: number, overrides: Partial<DeliveryRecord> = {}): DeliveryRecord => ({
      id: id(), eventId: id(), endpointId: e.id, merchantId, eventType: 'executionCreated', body: '{"a":1}',
      status: 'pending', attempts: 0, retryIndex: 0, ladderStart: at, nextAttemptAt: at, lastStatus: undefined, lastError: undefined,
      deliveredAt: undefined, createdAt: at, ...overrides,
    });

    test('a worker whose lease ran out cannot record over the node that holds the lease now (no third send while it is in flight)', async () => {
      const T = 1_900_000_000_000;
      // Everything else due is leased far away so only this delivery competes.
      await store.claimDue(T + 10_000, T + 1e12, 'others', 10_000);
      const e = await endpoint();
      const d = delivery(e, T);
      await store.addDelivery(d);
      const [a] = await store.claimDue(T, T + 1000, 'node-a', 10);
      assert.equal(a?.id, d.id);
      // Node A stalls past its lease; node B claims the delivery and sends it.
      const [b] = await store.claimDue(T + 1001, T + 5000, 'node-b', 10);
      assert.equal(b?.id, d.id, 'the expired lease is taken over by node B');
      // Node A now records its (failed) attempt, with its stale copy.
      const recorded = await store.recordAttempt(d.id, {
        attempt: { id: id(), deliveryId: d.id, attemptedAt: T + 10, httpStatus: 500, latencyMs: 5, error: undefined, excerpt: undefined },
        owner: 'node-a', redeliveries: 0, status: 'pending', retryIndex: 1, nextAttemptAt: T + 1002, ladderStart: T + 10,
        endpoint: { id: e.id, answered: false, disableAfterMs: 3_600_000, at: T + 1002 },
      });
      // Node B is still sending under its live lease: a third node must not send it again.
      const third = await store.claimDue(T + 1003, T + 9000, 'node-c', 10);
      assert.deepEqual(third.map((x) => x.id), [], 'node A\'s stale record released node B\'s live lease: node C sends it a third time');
      assert.equal(recorded, false, 'an attempt recorded after its lease passed to another node is refused');
      assert.deepEqual(await store.attemptsOf(d.id), [], 'the refused record wrote nothing');
      assert.equal((await store.endpoint(e.id))!.failingSince, undefined, 'nor started a failure streak');
      // Node B's answer is the one recorded.
      const delivered = await store.recordAttempt(d.id, {
        attempt: { id: id(), deliveryId: d.id, attemptedAt: T + 1001, httpStatus: 200, latencyMs: 5, error: undefined, excerpt: undefined },
        owner: 'node-b', redeliveries: 0, status: 'delivered', retryIndex: 0, nextAttemptAt: T, ladderStart: T + 1001,
        endpoint: { id: e.id, answered: true, disableAfterMs: 3_600_000, at: T + 1010 },
      });
      assert.equal(delivered, true);
      const [row] = await store.deliveries({ eventId: d.eventId });
      assert.deepEqual([row!.status, row!.attempts, row!.deliveredAt], ['delivered', 1, T + 1001]);
    });

    test('a failure started before another node\'s success does not restore the old failure streak nor disable the endpoint', async () => {
      const clock = manualClock(1_950_000_000_000);
      const T0 = clock.now();
      await store.claimDue(T0 + 1e9, T0 + 1e12, 'others', 10_000);
      // Failing for 9 s; disabled after 10 s without any success.
      const e = await endpoint({ failingSince: T0 });
      clock.set(T0 + 9000);
      const d1 = delivery(e, T0 + 8000), d2 = delivery(e, T0 + 8500);
      await store.addDelivery(d1);
      await store.addDelivery(d2);
      let releaseA!: (r: SendResult) => void;
      let aCalled!: () => void;
      const aStarted = new Promise<void>((r) => { aCalled = r; });
      const settings = { timeoutMs: 30_000, pollMs: 50, disableAfterMs: 10_000, batchSize: 1 };
      const node = (sender: (body: string) => Promise<SendResult>) => createWebhookService({
        store, merchants: {} as never, clock, ids: randomIds, logger: quiet as never, sealingKey: key, policy: {} as never,
        sender: (async (req: { body: string }) => sender(req.body)) as never, opp: {} as never, settings,
      });
      const nodeA = node(() => { aCalled(); return new Promise<SendResult>((r) => { releaseA = r; }); });
      const nodeB = node(async () => ({ status: 200, latencyMs: 3, excerpt: undefined, error: undefined }));
      const passA = nodeA.runOnce();
      await aStarted;
      // Node B delivers d2 meanwhile: the endpoint answers, its failure streak is over.
      clock.set(T0 + 9500);
      await nodeB.runOnce();
      assert.equal((await store.endpoint(e.id))!.failingSince, undefined, 'a success ends the streak');
      // Node A's attempt (to d1, sent at T0+9000) now fails.
      clock.set(T0 + 10_500);
      releaseA({ status: 500, latencyMs: 1500, excerpt: undefined, error: undefined });
      await passA;
      const after = (await store.endpoint(e.id))!;
      assert.equal(after.status, 'active', 'disabled one second after a success, on a streak that had ended');
      assert.notEqual(after.failingSince, T0, 'the ended streak is written back from the copy read at claim time');
    });
  });
}
