/**
 * Adyen without multiple partial captures cancels the rest with a partial
 * capture; the engine records that release when the CAPTURE webhook confirms the capture. If the
 * scheme then rejects the capture (CAPTURE_FAILED), the books hold nothing: the capture is undone and
 * the rest stays released, as at Adyen; also when both reach the gateway in one batch, before the
 * release has run. A cancel after such a release refunds the capture only.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { manualClock } from '../src/runtime/clock.ts';
import { startGateway, type Gateway } from './support/harness.ts';
import { authorizedExecution, call, configureCascade, tokenOf, wf } from './support/executions.ts';
import { startAdyenFake, adyenFakeCredentials, deliverAdyenNotifications, type AdyenFake } from './support/fake-psps/adyen.ts';
import { suiteCards } from './support/fake-psps/bank.ts';
import { ledgerTotalsOf } from '../src/ledger/model.ts';

const clock = manualClock(Date.now());
let adyen: AdyenFake;
let gw: Gateway;
before(async () => {
  [adyen, gw] = await Promise.all([startAdyenFake({}), startGateway({ clock, env: { SWITCHYARD_AUTHORIZATION_EXPIRY_DAYS: '7' } })]);
  await configureCascade(gw, { adyen: { connector: 'adyen', settings: { baseUrl: adyen.url, ...adyenFakeCredentials } } }, ['adyen']);
});
after(async () => { await Promise.all([gw?.close(), adyen?.close()]); });

const deliver = () => deliverAdyenNotifications(gw, adyen);
const opsOf = async (paymentId: string) => (await gw.app.storage.db.selectFrom('transactions').select(['type', 'status', 'amount'])
  .where('payment_id', '=', paymentId).orderBy('seq').execute()).map((o) => [o.type, o.status, Number(o.amount)]);

test('CAPTURE_FAILED after Adyen released the rest with the capture: the books hold nothing Adyen no longer holds', async () => {
  const token = await tokenOf(gw);
  const { id, paymentId } = await authorizedExecution(gw, token, 'cf-after-release', suiteCards.approved, '50.00');
  await deliver();
  assert.equal((await call(gw, 'POST', `${wf}/${id}/capture`, { token, body: { amount: { value: '20.00', currency: 'EUR' }, final: false } })).status, 202);
  await gw.app.payments.idle();
  await deliver();
  assert.deepEqual(await opsOf(paymentId), [['authorize', 'succeeded', 5000], ['capture', 'succeeded', 2000], ['void', 'succeeded', 3000]]);
  adyen.failCapture(adyen.confirmedCaptures()[0]!);
  await deliver();
  const summary = await opsOf(paymentId);
  const totals = ledgerTotalsOf(await gw.app.ledger.paymentPostings(paymentId));
  const e = await call(gw, 'GET', `${wf}/${id}`, { token });
  assert.equal(e.body.status, 'captureFailed', JSON.stringify(summary));
  assert.equal(await gw.app.ledger.verify(), undefined);
  assert.equal(totals.captured, 0, JSON.stringify(summary));
  assert.equal(totals.held, 0, `Adyen cancelled the rest and the scheme rejected the capture, yet the books hold ${totals.held}: ${JSON.stringify(summary)}`);
});

test('CAPTURE and CAPTURE_FAILED delivered together: the rest Adyen cancelled is released in the books', async () => {
  const token = await tokenOf(gw);
  const { id, paymentId } = await authorizedExecution(gw, token, 'cf-batch', suiteCards.approved, '50.00');
  await deliver();
  assert.equal((await call(gw, 'POST', `${wf}/${id}/capture`, { token, body: { amount: { value: '20.00', currency: 'EUR' }, final: false } })).status, 202);
  await gw.app.payments.idle();
  // Adyen confirmed the capture (cancelling the rest), then the scheme rejected it; both reach the gateway in one batch.
  adyen.failCapture(adyen.confirmedCaptures()[0]!);
  const bodies = adyen.takeNotifications().map((b) => JSON.parse(b as string) as { live: string; notificationItems: unknown[] });
  const batch = JSON.stringify({ live: bodies[0]!.live, notificationItems: bodies.flatMap((b) => b.notificationItems) });
  const r = await fetch(`${gw.url}/psp-notifications/${gw.merchant.merchantId}/adyen`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: batch });
  assert.equal(await r.text(), '[accepted]');
  await gw.app.payments.idle();
  // The expiry job, a week later, cannot help: Adyen refuses to cancel a payment it already cancelled.
  clock.advance(8 * 86_400_000);
  await gw.app.payments.expireAuthorizations();
  await gw.app.payments.idle();
  await deliver();
  const summary = await opsOf(paymentId);
  assert.equal(await gw.app.ledger.verify(), undefined);
  const totals = ledgerTotalsOf(await gw.app.ledger.paymentPostings(paymentId));
  assert.equal(totals.held, 0, `Adyen holds nothing (rest cancelled with the capture, the capture failed), yet the books hold ${totals.held}: ${JSON.stringify(summary)}`);
});

test('a cancel after Adyen released the rest with a partial capture refunds the capture and ends cancelled; books sound', async () => {
  const token = await tokenOf(gw);
  const { id, paymentId } = await authorizedExecution(gw, token, 'cancel-after-release', suiteCards.approved, '50.00');
  await deliver();
  assert.equal((await call(gw, 'POST', `${wf}/${id}/capture`, { token, body: { amount: { value: '20.00', currency: 'EUR' }, final: false } })).status, 202);
  await gw.app.payments.idle();
  await deliver();
  assert.deepEqual(await opsOf(paymentId), [['authorize', 'succeeded', 5000], ['capture', 'succeeded', 2000], ['void', 'succeeded', 3000]]);
  const c = await call(gw, 'POST', `${wf}/${id}/cancel`, { token, body: {} });
  await gw.app.payments.idle();
  await deliver();
  const summary = await opsOf(paymentId);
  const e = await call(gw, 'GET', `${wf}/${id}`, { token });
  assert.equal(await gw.app.ledger.verify(), undefined);
  assert.equal(e.body.status, 'cancelled', `${c.status} ${JSON.stringify(c.body)} ${JSON.stringify(summary)}`);
  const totals = ledgerTotalsOf(await gw.app.ledger.paymentPostings(paymentId));
  assert.deepEqual({ refunded: totals.refunded, held: totals.held }, { refunded: 2000, held: 0 });
});
