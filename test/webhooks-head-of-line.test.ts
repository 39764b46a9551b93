/**
 * A slow receiver that answers (200, just slowly) with a backlog must not hold back another
 * merchant's delivery: "half the slots while it answers ... what is left to endpoints that answer".
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { manualClock } from '../src/runtime/clock.ts';
import { randomIds } from '../src/runtime/ids.ts';
import { addOutboxEvent } from '../src/webhooks/outbox.ts';
import type { Sender } from '../src/webhooks/sender.ts';
import { startGateway } from './support/harness.ts';
import { loopbackAllow } from './support/webhooks.ts';

const execEvent = (merchantId: string, subjectId: string, n: number, at: number) => ({
  id: randomIds.hex32(), merchantId, type: 'execution.executionCreated', subjectId, createdAt: at,
  payload: { event: 'executionCreated', time: new Date(at).toISOString(), workspaceId: 'ws', eventTrigger: 'api', details: { executionId: subjectId, n } },
});

test('a slow but answering endpoint with a backlog does not starve another merchant\'s endpoint (head-of-line)', async () => {
  const clock = manualClock(Date.now());
  const sent: string[] = [];
  const sender: Sender = async (req) => {
    sent.push(req.url);
    // Merchant A's receiver answers every webhook, 200, after 100 ms.
    if (req.url.includes('slow')) await sleep(100);
    return { status: 200, latencyMs: 1, excerpt: 'OK', error: undefined };
  };
  const gw = await startGateway({ clock, sender, env: { SWITCHYARD_WEBHOOK_ALLOW: loopbackAllow, SWITCHYARD_WEBHOOK_POLL_MS: '20' } });
  try {
    const a = gw.merchant.merchantId;
    const b = (await gw.app.merchants.create({ name: 'Other Merchant' })).merchantId;
    assert.ok((await gw.app.webhooks.addEndpoint({ merchantId: a, dialect: 'executions', url: 'http://127.0.0.1:4999/slow' })).ok);
    assert.ok((await gw.app.webhooks.addEndpoint({ merchantId: b, dialect: 'executions', url: 'http://127.0.0.1:4999/fast' })).ok);
    const db = gw.app.storage.db;
    const at = clock.now() + 1;
    // Merchant A: a burst of 640 events (twenty batches' worth).
    for (let i = 0; i < 640; i++) await addOutboxEvent(db, execEvent(a, `a-${i}`, i, at));
    clock.set(at + 1);
    const pass = gw.app.webhooks.runOnce();
    const started = Date.now();
    while (sent.length < 32 && Date.now() - started < 10_000) await sleep(5);
    // Merchant B's payment moves now; its one event is fanned out mid-pass.
    clock.set(at + 1000);
    await addOutboxEvent(db, execEvent(b, 'b-1', 0, clock.now()));
    while (!sent.some((u) => u.includes('fast')) && Date.now() - started < 30_000) await sleep(5);
    await pass;
    const index = sent.findIndex((u) => u.includes('fast'));
    assert.ok(index >= 0, 'merchant B\'s webhook was sent');
    // A holds half the 32 slots while others have something due; B should go out within about one round.
    assert.ok(index <= 32 + 32 + 16, `merchant B's webhook waited behind ${index} attempts to merchant A's slow endpoint (of 640)`);
  } finally {
    await gw.close();
  }
});
