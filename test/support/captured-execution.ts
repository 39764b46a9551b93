/**
 * An execution authorized for 50.00 EUR and captured in full at a PSP of the gateway's cascade, the
 * PSP's notifications delivered after each step (`deliver`), as tests of what a PSP reports later
 * (chargebacks, actions taken in its portal) start from.
 */
import assert from 'node:assert/strict';
import type { Gateway } from './harness.ts';
import { authorizeBody, call, execution, instrument, poll, wf } from './executions.ts';
import { suiteCards } from './fake-psps/bank.ts';

export async function capturedExecution(gw: Gateway, token: string, holder: string, deliver: () => Promise<void>) {
  const id = await execution(gw, token, holder);
  const ack = await call(gw, 'POST', `${wf}/${id}/authorize`, { token, body: authorizeBody(await instrument(gw, token, suiteCards.approved, holder), '50.00') });
  assert.equal(ack.status, 200, JSON.stringify(ack.body));
  const e = await poll(gw, token, id, ['created', 'authorizeRequested']);
  assert.equal(e.status, 'authorized', JSON.stringify(e.statusHistory?.at(-1)));
  await deliver();
  assert.equal((await call(gw, 'POST', `${wf}/${id}/capture`, { token, body: { amount: { value: '50.00', currency: 'EUR' }, final: true } })).status, 202);
  await deliver();
  assert.equal((await call(gw, 'GET', `${wf}/${id}`, { token })).body.status, 'captured');
  const paymentId: string = e.paymentComposition[0].paymentId;
  const opening = await gw.app.storage.db.selectFrom('transactions').select('psp_reference').where('payment_id', '=', paymentId).where('seq', '=', 0).executeTakeFirstOrThrow();
  const attempt = await gw.app.storage.db.selectFrom('attempts').select('id').where('payment_id', '=', paymentId).orderBy('created_at').executeTakeFirstOrThrow();
  return { id, paymentId, pspReference: opening.psp_reference!, authorizeAttemptId: attempt.id };
}
