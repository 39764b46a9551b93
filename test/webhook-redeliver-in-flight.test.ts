/**
 * Redelivering an event while its delivery is being sent (claimed, the HTTP call under way): the
 * attempt keeps its lease (no second send beside it), it is recorded whatever it answers, and a
 * failure leaves the redelivery standing, due at once.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
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
const ok: SendResult = { status: 200, latencyMs: 3, excerpt: undefined, error: undefined } as SendResult;
const err500: SendResult = { status: 500, latencyMs: 3, excerpt: undefined, error: undefined } as SendResult;

for (const kind of ['sqlite', 'postgres'] as const) {
  describe(`redeliver while in flight (${kind})`, { skip: kind === 'postgres' && !pgUp ? 'PostgreSQL unreachable' : false }, () => {
    let store: WebhookStore;
    let merchantId: string;
    let opened: Awaited<ReturnType<typeof openWebhookStore>> | undefined;
    before(async () => { opened = await openWebhookStore(kind, 'wh-redeliver'); ({ store, merchantId } = opened); });
    after(async () => { await opened?.close(); });

    const endpoint = () => insertTestEndpoint(store, merchantId, key);
    const delivery = (e: EndpointRecord, at: number): DeliveryRecord => ({
      id: id(), eventId: id(), endpointId: e.id, merchantId, eventType: 'executionCreated', body: '{"a":1}',
      status: 'pending', attempts: 0, retryIndex: 0, ladderStart: at, nextAttemptAt: at, lastStatus: undefined, lastError: undefined,
      deliveredAt: undefined, createdAt: at,
    });

    /** A node whose sender hands each call to the test, to answer when it likes. */
    function node(clock: ReturnType<typeof manualClock>, pollMs: number) {
      const calls: { release: (r: SendResult) => void }[] = [];
      let notify: (() => void) | undefined;
      const svc = createWebhookService({
        store, merchants: {} as never, clock, ids: randomIds, logger: quiet as never, sealingKey: key, policy: {} as never,
        sender: (() => new Promise<SendResult>((release) => { calls.push({ release }); notify?.(); })) as never,
        opp: {} as never, settings: { timeoutMs: 30_000, pollMs, disableAfterMs: 3_600_000, batchSize: 4 },
      });
      const callNumber = async (n: number, ms = 2000) => {
        const until = Date.now() + ms;
        while (calls.length < n && Date.now() < until) await Promise.race([new Promise<void>((r) => { notify = r; }), sleep(20)]);
        return calls.length >= n;
      };
      return { svc, calls, callNumber };
    }

    /** A delivery whose first attempt waits on the receiver when the operator redelivers its event. */
    async function redeliveredInFlight() {
      const clock = manualClock(2_000_000_000_000 + Math.floor(Math.random() * 1e11));
      const T = clock.now();
      await store.claimDue(T + 1e9, T + 1e12, 'others', 10_000);
      const d = delivery(await endpoint(), T);
      await store.addDelivery(d);
      const { svc, calls, callNumber } = node(clock, 50);
      const pass = svc.runOnce();
      assert.ok(await callNumber(1), 'first attempt sent');
      clock.advance(1000);
      assert.deepEqual(await svc.redeliverEvent(d.eventId), { ok: true, value: { redelivered: 1, waitingForEnable: 0 } });
      return { clock, d, svc, calls, callNumber, pass };
    }

    test('a redelivery asked while the delivery is being sent waits for that attempt; its failure leaves the redelivery due at once, not the old ladder', async () => {
      const { clock, d, svc, calls, callNumber, pass } = await redeliveredInFlight();
      assert.equal(await callNumber(2, 500), false, 'no second send of the delivery beside the one in flight');
      calls[0]!.release(err500);
      // The failure recorded, the redelivery is due at once: this pass (when it looks again) or the
      // next one sends it.
      const first = await Promise.race([pass.then(() => 'pass ended' as const), callNumber(2, 10_000).then((sent) => (sent ? 'sent' as const : 'neither' as const))]);
      assert.notEqual(first, 'neither');
      assert.equal((await store.attemptsOf(d.id)).length, 1, 'the failed attempt is in the log');
      if (first === 'pass ended') {
        const [row] = await store.deliveries({ eventId: d.eventId });
        assert.deepEqual([row!.status, row!.retryIndex, row!.nextAttemptAt <= clock.now()], ['pending', 0, true], `the redelivery stands, due now: ${JSON.stringify(row)}`);
        const again = svc.runOnce();
        assert.ok(await callNumber(2), 'the redelivery is sent');
        calls[1]!.release(ok);
        await again;
      } else {
        calls[1]!.release(ok);
        await pass;
      }
      const [done] = await store.deliveries({ eventId: d.eventId });
      assert.equal(done!.status, 'delivered');
      assert.equal((await store.attemptsOf(d.id)).length, 2, 'every attempt the receiver got is in the log');
    });

    test('an attempt under way when a redelivery is asked is recorded: acknowledged, the delivery is delivered', async () => {
      const { d, calls, pass } = await redeliveredInFlight();
      calls[0]!.release(ok);
      await pass;
      const [row] = await store.deliveries({ eventId: d.eventId });
      assert.equal(row!.status, 'delivered');
      assert.equal((await store.attemptsOf(d.id)).length, calls.length, `the receiver answered ${calls.length} request(s): each is in the log`);
    });

    test('a redelivery asked while the last rung\'s attempt is in flight survives its failure when the worker\'s clock runs 5 s ahead of the operator\'s', async () => {
      const T = 2_100_000_000_000 + Math.floor(Math.random() * 1e9);
      await store.claimDue(T + 1e9, T + 1e12, 'others', 10_000);
      const e = await endpoint();
      // On its last rung: its next failure ends it (`failed`).
      const d: DeliveryRecord = { ...delivery(e, T - 4 * 86_400_000), attempts: 13, retryIndex: 13, nextAttemptAt: T, lastStatus: 500 };
      await store.addDelivery(d);
      const skew = 5000;
      const [claimed] = await store.claimDue(T + skew, T + skew + 61_000, 'worker', 10);
      assert.equal(claimed?.id, d.id);
      // One second into the attempt the operator redelivers, from a machine on the right time.
      assert.equal((await store.redeliver({ deliveryIds: [d.id] }, T + 1000)).redelivered, 1);
      // The attempt fails (the receiver still down), recorded in the worker's time.
      assert.equal(await store.recordAttempt(d.id, {
        attempt: { id: id(), deliveryId: d.id, attemptedAt: T + skew, httpStatus: 503, latencyMs: 2000, error: undefined, excerpt: undefined },
        owner: 'worker', redeliveries: claimed!.redeliveries ?? 0, status: 'failed', retryIndex: 14, nextAttemptAt: T, ladderStart: d.ladderStart,
        endpoint: { id: e.id, answered: false, disableAfterMs: 1e12, at: T + skew + 2000 },
      }), true);
      const [row] = await store.deliveries({ eventId: d.eventId });
      assert.deepEqual([row!.status, row!.retryIndex, row!.nextAttemptAt], ['pending', 0, T + 1000], 'the redelivery stands, due at once');
    });
  });
}
