/**
 * Adyen reports on an earlier action while a later capture is still at Adyen, and the execution is
 * `captureRequested`: a refund's REFUND (confirmed late), a refund's REFUND_FAILED or an earlier
 * capture's CAPTURE_FAILED. Each still reaches the execution (its action, its history entry, its
 * webhook), and the status follows the running capture once it ends.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Gateway } from './support/harness.ts';
import { authorizedExecution, call, startAdyenMultiCapture, wf } from './support/executions.ts';
import { adyenFakeCredentials, deliverAdyenNotifications, type AdyenFake } from './support/fake-psps/adyen.ts';
import { suiteCards } from './support/fake-psps/bank.ts';
import { signItem } from '../src/processors/adyen/webhook.ts';

let gw: Gateway; let adyen: AdyenFake; let token: string;
before(async () => { ({ gw, adyen, token } = await startAdyenMultiCapture()); });
after(async () => { await Promise.all([gw?.close(), adyen?.close()]); });
const eur = (value: string) => ({ value, currency: 'EUR' });
const deliver = () => deliverAdyenNotifications(gw, adyen);

test('a refund still at Adyen when a capture is asked completes on the execution', async () => {
  const { id } = await authorizedExecution(gw, token, 'rif-1', suiteCards.approved, '50.00');
  await deliver();
  assert.equal((await call(gw, 'POST', `${wf}/${id}/capture`, { token, body: { amount: eur('20.00'), final: false } })).status, 202);
  await deliver();
  assert.equal((await call(gw, 'POST', `${wf}/${id}/refund`, { token, body: { amount: eur('5.00') } })).status, 202);
  await deliver();
  assert.equal((await call(gw, 'GET', `${wf}/${id}`, { token })).body.status, 'partiallyRefunded');
  // A second refund, answered `received`: still at Adyen when the capture is asked.
  assert.equal((await call(gw, 'POST', `${wf}/${id}/refund`, { token, body: { amount: eur('5.00') } })).status, 202);
  await gw.app.payments.idle();
  const capture = await call(gw, 'POST', `${wf}/${id}/capture`, { token, body: { amount: eur('10.00'), final: false } });
  assert.equal(capture.status, 202, JSON.stringify(capture.body));
  await gw.app.payments.idle();
  await deliver();
  const e = (await call(gw, 'GET', `${wf}/${id}`, { token })).body;
  const codes: string[] = e.statusHistory.map((h: { code: string }) => h.code);
  assert.equal(e.refundedAmount.value, '10.00');
  assert.equal(codes.filter((c) => c === 'refundSuccessful').length, 2, `the second refund never completed on the execution: status ${e.status}, history ${codes}`);
  assert.equal(codes.at(-1), 'captureSuccessful');
  assert.equal(e.capturedAmount.value, '30.00');
  const completed = (await gw.app.storage.db.selectFrom('outbox').select(['type', 'payload']).where('type', '=', 'execution.executionActionCompleted').execute())
    .filter((o) => String(o.payload).includes(id) && String(o.payload).includes('"action":"refund"'));
  assert.equal(completed.length, 2, 'each refund told the merchant it completed');
});
const post = async (body: string) => {
  const r = await fetch(`${gw.url}/psp-notifications/${gw.merchant.merchantId}/adyen`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
  assert.equal(r.status, 200);
  await gw.app.payments.idle();
};

test('the later capture still completes on the execution (captureSuccessful, its webhook, status partiallyCaptured)', async () => {
  const { id } = await authorizedExecution(gw, token, 'cudc-1', suiteCards.approved, '50.00');
  await deliverAdyenNotifications(gw, adyen);
  const earlier = adyen.confirmedCaptures().length;
  assert.equal((await call(gw, 'POST', `${wf}/${id}/capture`, { token, body: { amount: eur('20.00'), final: false } })).status, 202);
  await gw.app.payments.idle();
  await deliverAdyenNotifications(gw, adyen);
  assert.equal((await call(gw, 'GET', `${wf}/${id}`, { token })).body.status, 'partiallyCaptured');
  const firstCapture = adyen.confirmedCaptures()[earlier];
  assert.equal((await call(gw, 'POST', `${wf}/${id}/capture`, { token, body: { amount: eur('10.00'), final: false } })).status, 202);
  await gw.app.payments.idle();
  const secondCaptureOk = adyen.takeNotifications();
  // The scheme rejects the first capture; Adyen's CAPTURE_FAILED reaches the gateway before the second's CAPTURE.
  adyen.failCapture(firstCapture!);
  for (const body of adyen.takeNotifications()) await post(body);
  for (const body of secondCaptureOk) await post(body);
  const e = (await call(gw, 'GET', `${wf}/${id}`, { token })).body;
  const codes: string[] = e.statusHistory.map((h: { code: string }) => h.code);
  assert.equal(e.capturedAmount?.value, '10.00');
  assert.equal(codes.at(-1), 'captureSuccessful', `status ${e.status}, history ${codes}`);
  assert.equal(e.status, 'partiallyCaptured');
});

test('a refund Adyen reports REFUND_FAILED after its REFUND while a later capture runs: the execution hears of it (refundFailed entry, action failed)', async () => {
  const { id } = await authorizedExecution(gw, token, 'cudc-2', suiteCards.approved, '50.00');
  await deliverAdyenNotifications(gw, adyen);
  assert.equal((await call(gw, 'POST', `${wf}/${id}/capture`, { token, body: { amount: eur('20.00'), final: false } })).status, 202);
  await gw.app.payments.idle();
  await deliverAdyenNotifications(gw, adyen);
  assert.equal((await call(gw, 'POST', `${wf}/${id}/refund`, { token, body: { amount: eur('5.00') } })).status, 202);
  await gw.app.payments.idle();
  const refundNotes = adyen.takeNotifications();
  for (const body of refundNotes) await post(body);
  assert.equal((await call(gw, 'GET', `${wf}/${id}`, { token })).body.status, 'partiallyRefunded');
  assert.equal((await call(gw, 'POST', `${wf}/${id}/capture`, { token, body: { amount: eur('10.00'), final: false } })).status, 202);
  await gw.app.payments.idle();
  const captureNotes = adyen.takeNotifications();
  // The scheme rejects the refund: Adyen's REFUND_FAILED (same references, success true), while the capture is at Adyen.
  const item = JSON.parse(refundNotes.at(-1)!).notificationItems[0].NotificationRequestItem;
  assert.equal(item.eventCode, 'REFUND');
  const failed = { ...item, eventCode: 'REFUND_FAILED', success: 'true', eventDate: new Date(Date.now() + 10_000).toISOString() };
  const signed = { pspReference: failed.pspReference, originalReference: failed.originalReference, merchantAccountCode: failed.merchantAccountCode, merchantReference: failed.merchantReference, value: failed.amount.value, currency: failed.amount.currency, eventCode: failed.eventCode, success: failed.success };
  failed.additionalData = { hmacSignature: signItem(signed, adyenFakeCredentials.hmacKey) };
  await post(JSON.stringify({ live: 'false', notificationItems: [{ NotificationRequestItem: failed }] }));
  const mid = (await call(gw, 'GET', `${wf}/${id}`, { token })).body;
  assert.equal(mid.refundedAmount?.value ?? '0.00', '0.00', 'the engine took the refund back');
  const codes: string[] = mid.statusHistory.map((h: { code: string }) => h.code);
  assert.equal(codes.at(-1), 'refundFailed', `the execution never heard the refund failed: status ${mid.status}, history ${codes}`);
  for (const body of captureNotes) await post(body);
});

test('a refund of money already captured is taken while a later capture is still at Adyen (the reference allows a refund with a capture in progress)', async () => {
  const { id } = await authorizedExecution(gw, token, 'rdc-1', suiteCards.approved, '50.00');
  await deliver();
  assert.equal((await call(gw, 'POST', `${wf}/${id}/capture`, { token, body: { amount: eur('20.00'), final: false } })).status, 202);
  await deliver();
  assert.equal((await call(gw, 'POST', `${wf}/${id}/capture`, { token, body: { amount: eur('10.00'), final: false } })).status, 202);
  await gw.app.payments.idle();
  let e = (await call(gw, 'GET', `${wf}/${id}`, { token })).body;
  assert.equal(e.status, 'captureRequested');
  assert.ok(e.links.refund, `20.00 is captured; the execution offers no refund while the next capture runs (links ${Object.keys(e.links)})`);
  const rf = await call(gw, 'POST', `${wf}/${id}/refund`, { token, body: { amount: eur('5.00') } });
  assert.equal(rf.status, 202, JSON.stringify(rf.body));
  await gw.app.payments.idle();
  await deliver();
  e = (await call(gw, 'GET', `${wf}/${id}`, { token })).body;
  assert.equal(e.capturedAmount.value, '30.00');
  assert.equal(e.refundedAmount.value, '5.00');
  assert.equal(e.status, 'partiallyRefunded');
});

test('with nothing captured yet, a refund while the first capture runs is refused by name, and nothing is recorded', async () => {
  const { id, paymentId } = await authorizedExecution(gw, token, 'rdc-2', suiteCards.approved, '50.00');
  await deliver();
  assert.equal((await call(gw, 'POST', `${wf}/${id}/capture`, { token, body: { amount: eur('20.00'), final: false } })).status, 202);
  await gw.app.payments.idle();
  const e = (await call(gw, 'GET', `${wf}/${id}`, { token })).body;
  assert.equal(e.status, 'captureRequested');
  assert.equal(e.links.refund, undefined, 'no refund offered: nothing is captured yet');
  const rf = await call(gw, 'POST', `${wf}/${id}/refund`, { token, body: { amount: eur('5.00') } });
  assert.equal(rf.status, 422, JSON.stringify(rf.body));
  const refunds = await gw.app.storage.db.selectFrom('transactions').select('id').where('payment_id', '=', paymentId).where('type', '=', 'refund').execute();
  assert.equal(refunds.length, 0);
  await deliver();
});
