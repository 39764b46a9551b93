// A delivery worker that stalls between claiming a delivery and sending it (GC pause, SIGSTOP, VM
// freeze) must not send it once its lease has passed to another node: by then that node has sent it
// and the payment's later events, and the late copy reaches the receiver out of order.
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
  describe(`webhook worker stalled after its claim (${kind})`, { skip: kind === 'postgres' && !pgUp ? 'PostgreSQL unreachable' : false }, () => {
    let store: WebhookStore;
    let merchantId: string;
    let opened: Awaited<ReturnType<typeof openWebhookStore>> | undefined;
    before(async () => { opened = await openWebhookStore(kind, 'wh-stall'); ({ store, merchantId } = opened); });
    after(async () => { await opened?.close(); });

    const newEndpoint = () => insertTestEndpoint(store, merchantId, key);

    /** A store whose endpoint read, the first thing a worker does after its claim, waits until resumed. */
    function stallingAfterClaim() {
      let resume: (() => void) | undefined;
      let stalled!: () => void;
      const aStalled = new Promise<void>((r) => { stalled = r; });
      const stalledStore: WebhookStore = {
        ...store,
        endpoint: async (x: string) => { stalled(); await new Promise<void>((r) => { resume = r; }); return store.endpoint(x); },
      };
      return { stalledStore, aStalled, resumeA: () => resume!() };
    }

    test('a worker resuming after its lease lapsed does not send the stale delivery after the payment\'s later event', async () => {
      const clock = manualClock(1_960_000_000_000);
      const T = clock.now();
      await store.claimDue(T + 1e9, T + 1e12, 'others', 10_000);
      const e = await newEndpoint();
      const delivery = (seq: number, body: string): DeliveryRecord => ({
        id: id(), eventId: id(), endpointId: e.id, merchantId, eventType: 'executionCreated', body,
        status: 'pending', attempts: 0, retryIndex: 0, ladderStart: T, nextAttemptAt: T, lastStatus: undefined, lastError: undefined,
        deliveredAt: undefined, createdAt: T, orderingKey: 'execution:x1', seq,
      });
      await store.addDelivery(delivery(1, '"first"'));
      await store.addDelivery(delivery(2, '"second"'));

      const received: string[] = [];
      const ok = async (req: { body: string }): Promise<SendResult> => { received.push(req.body); return { status: 200, latencyMs: 1, excerpt: undefined, error: undefined }; };
      const settings = { timeoutMs: 1000, pollMs: 50, disableAfterMs: 3_600_000, batchSize: 4 };
      // Node A stalls right after its claim (here: while it reads the endpoint it is about to send to).
      const { stalledStore, aStalled, resumeA } = stallingAfterClaim();
      const node = (s: WebhookStore) => createWebhookService({
        store: s, merchants: {} as never, clock, ids: randomIds, logger: quiet as never, sealingKey: key, policy: {} as never,
        sender: ok as never, opp: {} as never, settings,
      });
      const nodeA = node(stalledStore);
      const nodeB = node(store);
      const passA = nodeA.runOnce();
      await aStalled;
      // The lease (2 × timeout + 1 s) has long run out when node B looks: it sends the payment's events in order.
      clock.set(T + 60_000);
      await nodeB.runOnce();
      assert.deepEqual(received, ['"first"', '"second"']);
      // Node A wakes up and carries on with the claim it lost a minute ago.
      resumeA();
      await passA;
      assert.deepEqual(received, ['"first"', '"second"'],
        'the stalled worker sent the first event again after the second: the receiver sees the payment go back to an earlier state');
    });

    test('a delivery claimed just before an operator disables its endpoint is not sent once the worker sees the endpoint disabled', async () => {
      const clock = manualClock(1_970_000_000_000);
      const T = clock.now();
      await store.claimDue(T + 1e9, T + 1e12, 'others', 10_000);
      const e = await newEndpoint();
      await store.addDelivery({
        id: id(), eventId: id(), endpointId: e.id, merchantId, eventType: 'executionCreated', body: '"x"',
        status: 'pending', attempts: 0, retryIndex: 0, ladderStart: T, nextAttemptAt: T, lastStatus: undefined, lastError: undefined,
        deliveredAt: undefined, createdAt: T,
      });
      const received: string[] = [];
      const { stalledStore, aStalled, resumeA } = stallingAfterClaim();
      const nodeA = createWebhookService({
        store: stalledStore, merchants: {} as never, clock, ids: randomIds, logger: quiet as never, sealingKey: key, policy: {} as never,
        sender: (async (req: { body: string }) => { received.push(req.body); return { status: 200, latencyMs: 1, excerpt: undefined, error: undefined }; }) as never,
        opp: {} as never, settings: { timeoutMs: 1000, pollMs: 50, disableAfterMs: 3_600_000, batchSize: 4 },
      });
      const passA = nodeA.runOnce();
      await aStalled;
      // The operator disables the endpoint (the merchant asked to stop); the worker then reads it, disabled, and goes on.
      clock.set(T + 60_000);
      await store.updateEndpoint(e.id, { status: 'disabled', failingSince: undefined }, clock.now());
      resumeA();
      await passA;
      assert.deepEqual(received, [], 'sent to an endpoint the worker had just read as disabled, a minute after its lease ran out');
    });
  });
}
