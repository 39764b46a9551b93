/**
 * A capture its PSP reports failed (Adyen's CAPTURE_FAILED) after refunds were drawn on it, or
 * after a cancel refunded it, still reaches the execution (its status, its history, its webhook);
 * and after a chargeback the execution offers no refund or cancel that would be refused.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Gateway } from './support/harness.ts';
import { authorizedExecution, call, startAdyenMultiCapture, wf } from './support/executions.ts';
import { deliverAdyenNotifications, type AdyenFake } from './support/fake-psps/adyen.ts';
import { suiteCards } from './support/fake-psps/bank.ts';

let gw: Gateway; let adyen: AdyenFake; let token: string;
before(async () => { ({ gw, adyen, token } = await startAdyenMultiCapture()); });
after(async () => { await Promise.all([gw?.close(), adyen?.close()]); });
const eur = (value: string) => ({ value, currency: 'EUR' });
const pathOf = (href: string) => href.replace(/^https?:\/\/[^/]+/, '');
const deliver = async () => { await gw.app.payments.idle(); await deliverAdyenNotifications(gw, adyen); await gw.app.payments.idle(); };
const events = async (id: string, type: string) => (await gw.app.storage.db.selectFrom('outbox').select(['type', 'payload']).where('type', '=', type).execute())
  .filter((o) => String(o.payload).includes(id));

/** The execution after its capture was undone: nothing captured, and its history ends with captureFailed. */
async function assertCaptureFailedReached(id: string) {
  const e = (await call(gw, 'GET', `${wf}/${id}`, { token })).body;
  const codes: string[] = e.statusHistory.map((h: { code: string }) => h.code);
  assert.equal(e.capturedAmount.value, '0.00', 'the engine undid the capture');
  assert.equal(codes.at(-1), 'captureFailed', `capture undone (captured ${e.capturedAmount.value}, refunded ${e.refundedAmount.value}) but status ${e.status}, history ${codes}`);
  return e;
}

test('CAPTURE_FAILED after a partial refund: the execution records the failed capture (status, history, webhook)', async () => {
  const { id } = await authorizedExecution(gw, token, 'undo-after-refund', suiteCards.approved, '50.00');
  await deliver();
  const before = adyen.confirmedCaptures().length;
  assert.equal((await call(gw, 'POST', `${wf}/${id}/capture`, { token, body: { amount: eur('50.00') } })).status, 202);
  await deliver();
  assert.equal((await call(gw, 'POST', `${wf}/${id}/refund`, { token, body: { amount: eur('20.00') } })).status, 202);
  await deliver();
  let e = (await call(gw, 'GET', `${wf}/${id}`, { token })).body;
  assert.equal(e.status, 'partiallyRefunded');
  adyen.failCapture(adyen.confirmedCaptures()[before]!);
  await deliver();
  e = await assertCaptureFailedReached(id);
  assert.notEqual(e.status, 'partiallyRefunded');
  assert.equal((await events(id, 'execution.executionActionUpdated')).length, 1, 'the merchant is told the capture failed after all');
});

test('CAPTURE_FAILED after a cancel refunded a partial capture: the execution records it', async () => {
  const { id } = await authorizedExecution(gw, token, 'undo-after-cancel', suiteCards.approved, '50.00');
  await deliver();
  const before = adyen.confirmedCaptures().length;
  assert.equal((await call(gw, 'POST', `${wf}/${id}/capture`, { token, body: { amount: eur('20.00'), final: false } })).status, 202);
  await deliver();
  const c = await call(gw, 'POST', `${wf}/${id}/cancel`, { token, body: {} });
  assert.equal(c.status, 202, JSON.stringify(c.body));
  await deliver();
  assert.equal((await call(gw, 'GET', `${wf}/${id}`, { token })).body.status, 'cancelled');
  adyen.failCapture(adyen.confirmedCaptures()[before]!);
  await deliver();
  await assertCaptureFailedReached(id);
});

test('after a chargeback of everything captured, the execution offers no refund link it would refuse', async () => {
  const { id, paymentId } = await authorizedExecution(gw, token, 'cb-links', suiteCards.approved, '50.00');
  await deliver();
  assert.equal((await call(gw, 'POST', `${wf}/${id}/capture`, { token, body: { amount: eur('50.00') } })).status, 202);
  await deliver();
  const opening = await gw.app.storage.db.selectFrom('transactions').select('psp_reference').where('payment_id', '=', paymentId).where('seq', '=', 0).executeTakeFirstOrThrow();
  adyen.dispute(opening.psp_reference!, 'CHARGEBACK', { value: 5000, currency: 'EUR' }, 'DISPUTECBLINKS');
  await deliver();
  const e = (await call(gw, 'GET', `${wf}/${id}`, { token })).body;
  const offered = Object.keys(e.links).filter((k) => ['capture', 'cancel', 'refund'].includes(k));
  const refused: string[] = [];
  for (const name of offered) {
    const r = await call(gw, 'POST', e.links[name].href.replace(gw.url, '').replace(/^https?:\/\/[^/]+/, ''), { token, body: {} });
    if (r.status !== 202) refused.push(`${name}: ${r.status} ${JSON.stringify(r.body.errors?.[0]?.detail)}`);
    await deliver();
  }
  assert.deepEqual(refused, [], `status ${e.status}; links offered ${offered} but refused: ${refused.join('; ')}`);
});

test('a full refund still at the PSP: the links offer no refund or cancel that is then refused', async () => {
  const { id } = await authorizedExecution(gw, token, 'inflight-links', suiteCards.approved, '50.00');
  await deliver();
  assert.equal((await call(gw, 'POST', `${wf}/${id}/capture`, { token, body: { amount: eur('50.00') } })).status, 202);
  await deliver();
  const r = await call(gw, 'POST', `${wf}/${id}/refund`, { token, body: {} });
  assert.equal(r.status, 202);
  await gw.app.payments.idle(); // Adyen answered `received`; not delivered yet
  const e = (await call(gw, 'GET', `${wf}/${id}`, { token })).body;
  const offered = Object.keys(e.links).filter((k) => ['capture', 'cancel', 'refund'].includes(k));
  const refused: string[] = [];
  for (const name of offered) {
    const a = await call(gw, 'POST', pathOf(e.links[name].href), { token, body: {} });
    if (a.status !== 202) refused.push(`${name}: ${a.status} ${a.body.errors?.[0]?.detail}`);
  }
  await deliver();
  assert.deepEqual(refused, [], `status ${e.status}, refunded ${e.refundedAmount.value}; links ${offered}`);
});
