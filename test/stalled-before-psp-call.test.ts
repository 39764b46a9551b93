/**
 * A node that stalls between recording its attempt and calling the PSP (a long pause, a frozen VM)
 * while the reconciler, finding the attempt old, asks the PSP and ends it as never received: the
 * node, waking, must not charge the card for an attempt already ended.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { manualClock } from '../src/runtime/clock.ts';
import { createSimulatedAcquirer } from '../src/processors/simulator/connector.ts';
import type { ConnectorRequest } from '../src/processors/connector.ts';
import { pay, startGateway } from './support/harness.ts';

test('an attempt ended by the reconciler while its node stalled before the call is not sent to the PSP when the node wakes', async () => {
  const clock = manualClock(Date.now());
  const sim = createSimulatedAcquirer({ latencyMs: 0, jitterMs: 0 } as never);
  const sent: ConnectorRequest[] = [];
  const execute = sim.execute.bind(sim);
  (sim as { execute: typeof sim.execute }).execute = async (req) => { sent.push(req); return execute(req); };
  const gw = await startGateway({ clock, processor: sim, env: { SWITCHYARD_PSP_TIMEOUT_MS: '200' } });
  try {
    // The unit of work that records the payment and its attempt commits; then its node stalls.
    const uow = gw.app.storage.uow as { run: (fn: (tx: any) => Promise<unknown>, o?: unknown) => Promise<unknown> };
    const run = uow.run.bind(uow);
    let resume!: () => void;
    let stalled!: () => void;
    const isStalled = new Promise<void>((r) => { stalled = r; });
    let armed = true;
    uow.run = async (fn, o) => {
      const value = await run(fn, o);
      if (armed) {
        armed = false;
        stalled();
        await new Promise<void>((r) => { resume = r; });
      }
      return value;
    };
    const answer = pay(gw, { paymentType: 'DB', amount: '10.00' });
    await isStalled;
    uow.run = run;
    const { id } = await gw.app.storage.db.selectFrom('transactions').select('id').executeTakeFirstOrThrow();
    // Long after twice the PSP timeout, the reconciler asks the PSP, which never heard of it.
    clock.advance(60_000);
    await gw.app.payments.reconcile();
    await gw.app.payments.idle();
    const ended = await gw.app.storage.db.selectFrom('transactions').select(['status', 'reason']).where('id', '=', id).executeTakeFirstOrThrow();
    assert.deepEqual({ ...ended }, { status: 'failed', reason: 'not_received' });
    resume();
    const r = await answer;
    assert.equal(sent.length, 0, 'the node woke and charged the card for an attempt the reconciler had ended as never received');
    assert.equal(r.body.id, id);
    assert.equal(r.body.result.code, '900.100.400', JSON.stringify(r.body.result));
  } finally {
    await gw.close();
  }
});
