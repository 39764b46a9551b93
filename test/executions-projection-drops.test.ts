/**
 * Interleavings of a refund still at Adyen with a capture the scheme rejects later, a cancel, and
 * the refund's own notification: each step the payment records must reach the execution (no
 * "moved outside its state machine"), and the execution's status must say what its money says.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Gateway } from './support/harness.ts';
import { authorizedExecution, call, startAdyenMultiCapture, wf } from './support/executions.ts';
import { adyenFakeCredentials, deliverAdyenNotifications, type AdyenFake } from './support/fake-psps/adyen.ts';
import { signItem } from '../src/processors/adyen/webhook.ts';
import { suiteCards } from './support/fake-psps/bank.ts';
import { checkInvariants, describeViolations } from './support/invariants.ts';

let gw: Gateway; let adyen: AdyenFake; let token: string;
before(async () => { ({ gw, adyen, token } = await startAdyenMultiCapture()); });
after(async () => { await Promise.all([gw?.close(), adyen?.close()]); });
const eur = (value: string) => ({ value, currency: 'EUR' });
const deliver = async () => { await gw.app.payments.idle(); await deliverAdyenNotifications(gw, adyen); await gw.app.payments.idle(); };
const dropped = () => gw.logs.filter((l) => l.includes('moved outside its state machine'));
const get = async (id: string) => (await call(gw, 'GET', `${wf}/${id}`, { token })).body;

/** Holds back the REFUND notification Adyen queued for the refund just asked (delivered later, out of order). */
function holdRefund(): string[] {
  const taken = adyen.takeNotifications();
  const held = taken.filter((b) => b.includes('"REFUND"'));
  for (const b of taken.filter((b) => !b.includes('"REFUND"'))) adyen.outboxPush(b);
  assert.equal(held.length, 1, 'one REFUND notification queued');
  return held;
}

async function assertSound(id: string) {
  assert.deepEqual(dropped(), [], 'no step dropped');
  const v = (await checkInvariants(gw.app.storage.db)).filter((x) => x.ids.includes(id));
  assert.deepEqual(v, [], describeViolations(v));
}

/** Captured 50.00, a refund of 20.00 asked, its notification held back, then the capture reported failed. */
async function refundHeldWhileCaptureFails(ref: string): Promise<{ id: string; held: string[] }> {
  const { id } = await authorizedExecution(gw, token, ref, suiteCards.approved, '50.00');
  await deliver();
  const before = adyen.confirmedCaptures().length;
  assert.equal((await call(gw, 'POST', `${wf}/${id}/capture`, { token, body: { amount: eur('50.00') } })).status, 202);
  await deliver();
  assert.equal((await call(gw, 'POST', `${wf}/${id}/refund`, { token, body: { amount: eur('20.00') } })).status, 202);
  await gw.app.payments.idle();
  const held = holdRefund();
  adyen.failCapture(adyen.confirmedCaptures()[before]!);
  await deliver();
  assert.equal((await get(id)).status, 'captureFailed');
  return { id, held };
}

test('a refund Adyen confirms after the capture it drew on was reported failed reaches the execution', async () => {
  const { id, held } = await refundHeldWhileCaptureFails('refund-after-capture-failed');
  for (const b of held) adyen.outboxPush(b);
  await deliver();
  const e = await get(id);
  assert.deepEqual(dropped(), [], `the refund's outcome was dropped: status ${e.status}, history ${e.statusHistory.map((h: any) => h.code)}`);
  assert.equal(e.statusHistory.at(-1).code, 'refundSuccessful');
  assert.equal(e.status, 'captureFailed');
  await assertSound(id);
});

test('a cancel while a partial refund is at Adyen, the refund confirmed after the cancel: the refund reaches the execution', async () => {
  gw.logs.length = 0;
  const { id } = await authorizedExecution(gw, token, 'refund-after-cancel', suiteCards.approved, '50.00');
  await deliver();
  assert.equal((await call(gw, 'POST', `${wf}/${id}/capture`, { token, body: { amount: eur('50.00') } })).status, 202);
  await deliver();
  assert.equal((await call(gw, 'POST', `${wf}/${id}/refund`, { token, body: { amount: eur('20.00') } })).status, 202);
  await gw.app.payments.idle();
  const held = holdRefund();
  const c = await call(gw, 'POST', `${wf}/${id}/cancel`, { token, body: {} });
  assert.equal(c.status, 202, JSON.stringify(c.body));
  await deliver();
  assert.equal((await get(id)).status, 'cancelled');
  for (const b of held) adyen.outboxPush(b);
  await deliver();
  const e = await get(id);
  assert.deepEqual(dropped(), [], `the refund's outcome was dropped: status ${e.status}, history ${e.statusHistory.map((h: any) => h.code)}`);
  assert.equal(e.statusHistory.at(-1).code, 'refundSuccessful');
  await assertSound(id);
});

/** The held REFUND notification, turned into Adyen's refusal of that refund (success "false"), signed again. */
function refused(body: string): string {
  const b = JSON.parse(body);
  const n = b.notificationItems[0].NotificationRequestItem;
  n.success = 'false'; n.reason = 'Refund Failed';
  const signed = { pspReference: n.pspReference, originalReference: n.originalReference, merchantAccountCode: n.merchantAccountCode, merchantReference: n.merchantReference, value: n.amount.value, currency: n.amount.currency, eventCode: n.eventCode, success: n.success };
  n.additionalData = { hmacSignature: signItem(signed as any, adyenFakeCredentials.hmacKey) };
  return JSON.stringify(b);
}

test('a refund Adyen refuses after the capture it drew on was reported failed reaches the execution', async () => {
  gw.logs.length = 0;
  const { id, held } = await refundHeldWhileCaptureFails('refund-refused-after-capture-failed');
  adyen.outboxPush(refused(held[0]!));
  await deliver();
  const e = await get(id);
  assert.deepEqual(dropped(), [], `the refund's failure was dropped: status ${e.status}, history ${e.statusHistory.map((h: any) => h.code)}`);
  assert.equal(e.statusHistory.at(-1).code, 'refundFailed');
  await assertSound(id);
});

test('CAPTURE_FAILED for one of two partial captures a cancel refunded: the execution records it', async () => {
  gw.logs.length = 0;
  const { id } = await authorizedExecution(gw, token, 'undo-one-of-two-after-cancel', suiteCards.approved, '50.00');
  await deliver();
  const before = adyen.confirmedCaptures().length;
  assert.equal((await call(gw, 'POST', `${wf}/${id}/capture`, { token, body: { amount: eur('20.00'), final: false } })).status, 202);
  await deliver();
  assert.equal((await call(gw, 'POST', `${wf}/${id}/capture`, { token, body: { amount: eur('30.00'), final: false } })).status, 202);
  await deliver();
  assert.equal((await get(id)).status, 'captured');
  const c = await call(gw, 'POST', `${wf}/${id}/cancel`, { token, body: {} });
  assert.equal(c.status, 202, JSON.stringify(c.body));
  await deliver();
  assert.equal((await get(id)).status, 'cancelled');
  adyen.failCapture(adyen.confirmedCaptures()[before]!);
  await deliver();
  const e = await get(id);
  assert.deepEqual(dropped(), [], `the failed capture was dropped: status ${e.status}, history ${e.statusHistory.map((h: any) => h.code)}`);
  assert.equal(e.statusHistory.at(-1).code, 'captureFailed');
  await assertSound(id);
});
