import { test } from 'node:test';
import assert from 'node:assert/strict';
import { manualClock } from '../runtime/clock.ts';
import { randomIds } from '../runtime/ids.ts';
import type { OutboxEvent } from './outbox.ts';
import { createWebhookService } from './service.ts';
import type { WebhookStore } from './store.ts';

const quiet = { info() {}, warn() {}, error() {}, debug() {} };

/**
 * A store under steady load: every read of the outbox finds the few events committed since the
 * last one (`perRead` of them), for as long as the test lets it.
 */
function busyOutbox(perRead: number) {
  const calls = { undispatched: 0, claimDue: 0 };
  let seq = 0;
  const event = (): OutboxEvent => ({
    id: randomIds.hex32(), merchantId: 'm1', type: 'operation.succeeded', subjectId: 'p1', payload: {}, createdAt: 0, seq: ++seq, traceparent: undefined,
  });
  const store = {
    async undispatched(limit: number) {
      // Reading without end is the fault under test: fail fast rather than hang.
      if (++calls.undispatched > 50) throw new Error('the pass never stops reading the outbox');
      return Array.from({ length: Math.min(perRead, limit) }, event);
    },
    async endpoints() { return []; },
    async fanOut(byEvent: ReadonlyMap<string, unknown>) { return [...byEvent.keys()]; },
    async claimDue() { calls.claimDue++; return []; },
  } as unknown as WebhookStore;
  return { store, calls };
}

function serviceOn(store: WebhookStore) {
  return createWebhookService({
    store, merchants: {} as never, clock: manualClock(), ids: randomIds, logger: quiet as never, sealingKey: Buffer.alloc(32),
    policy: {} as never, sender: (async () => { throw new Error('nothing is sent here'); }) as never, opp: {} as never,
    settings: { timeoutMs: 1000, pollMs: 500, disableAfterMs: 1000, batchSize: 8 },
  });
}

test('a pass under steady load reads the outbox once and goes on to the deliveries due; the next pass takes the newer events', async () => {
  const { store, calls } = busyOutbox(12);
  const webhooks = serviceOn(store);
  await webhooks.runOnce();
  assert.deepEqual(calls, { undispatched: 1, claimDue: 1 });
  await webhooks.runOnce();
  assert.deepEqual(calls, { undispatched: 2, claimDue: 2 });
});

test('a backlog is read page after page within one pass, up to its first short page', async () => {
  const { store, calls } = busyOutbox(100);
  let left = 3;
  const backlog = { ...store, undispatched: async (limit: number) => (left-- > 0 ? store.undispatched(limit) : []) } as WebhookStore;
  await serviceOn(backlog).runOnce();
  assert.equal(calls.undispatched, 3, 'three full pages');
  assert.equal(calls.claimDue, 1);
});
