/**
 * Shrunk from test/psp-fault-sequences.test.ts (executions, seed 2, SQLite): a capture
 * the PSP declines, asked after a refund, leaves the execution in `captureRequested` for good.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { startGateway } from './support/harness.ts';
import { authorizedExecution, call, tokenOf, wf } from './support/executions.ts';
import { faultPsp, type Fault } from './support/fault-psp.ts';

for (const refund of ['40.00', '10.00']) {
  test(`a capture the PSP declines after a refund of ${refund} (of 40.00 captured) ends, and the execution takes actions again`, async () => {
    // The PSP approves all but the second capture, which it declines (800.100.152).
    const faults: Record<string, Fault[]> = { capture: ['ok', 'decline'] };
    const psp = faultPsp({ next: (req) => faults[req.operation]?.shift() ?? 'ok', slowMs: 600 });
    const gw = await startGateway({ processor: psp.connector });
    try {
      const token = await tokenOf(gw);
      const { id } = await authorizedExecution(gw, token, 'capture-after-refund', '4111111111111111', '100.00');
      const act = async (name: string, body: unknown) => {
        const r = await call(gw, 'POST', `${wf}/${id}/${name}`, { token, key: randomUUID(), body });
        await gw.app.payments.idle();
        return { status: r.status, execution: (await call(gw, 'GET', `${wf}/${id}`, { token })).body };
      };
      assert.equal((await act('capture', { amount: { value: '40.00', currency: 'EUR' }, final: false })).execution.status, 'partiallyCaptured');
      const refunded = await act('refund', { amount: { value: refund, currency: 'EUR' } });
      assert.equal(refunded.execution.status, refund === '40.00' ? 'refunded' : 'partiallyRefunded');
      // 60.00 is still authorized: the execution takes the capture, and the PSP declines it.
      const cap = await act('capture', { amount: { value: '10.00', currency: 'EUR' }, final: false });
      assert.equal(cap.status, 202);
      const rows = await gw.app.storage.db.selectFrom('transactions').select(['type', 'status']).where('payment_id', '=', cap.execution.paymentComposition[0].paymentId).orderBy('seq').execute();
      assert.deepEqual({ ...rows.at(-1) }, { type: 'capture', status: 'failed' }, 'the PSP declined the capture');
      const events = await gw.app.storage.db.selectFrom('outbox').select('type').where('subject_id', '=', id).execute();
      const cancel = await act('cancel', {});
      assert.deepEqual({
        status: cap.execution.status,
        lastEvent: events.at(-1)?.type,
        cancel: cancel.status,
      }, {
        status: refunded.execution.status,
        lastEvent: 'execution.executionActionCompleted',
        cancel: 202,
      }, 'the declined capture ended (status as the money says, a completion event), and the held 60.00 can be released');
      assert.ok(!gw.logs.some((l) => l.includes('execution moved outside its state machine')), 'no step was dropped');
    } finally {
      await gw.close();
    }
  });
}
