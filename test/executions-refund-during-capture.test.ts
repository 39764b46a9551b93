/**
 * A refund answered `received` by Adyen is still on its way when the merchant captures more of the
 * authorization's rest. When Adyen's REFUND notification arrives the execution is `captureRequested`:
 * the refund still completes on the execution (its action, its history entry, its webhook), and the
 * status follows the capture once it ends.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { startGateway, type Gateway } from './support/harness.ts';
import { authorizedExecution, call, configureCascade, tokenOf, wf } from './support/executions.ts';
import { startAdyenFake, adyenFakeCredentials, deliverAdyenNotifications, type AdyenFake } from './support/fake-psps/adyen.ts';
import { suiteCards } from './support/fake-psps/bank.ts';

let gw: Gateway; let adyen: AdyenFake; let token: string;
before(async () => {
  [adyen, gw] = await Promise.all([startAdyenFake({ multiplePartialCaptures: true }), startGateway({ env: { SWITCHYARD_LONG_POLL_MS: '1000' } })]);
  await configureCascade(gw, { adyen: { connector: 'adyen', settings: { baseUrl: adyen.url, ...adyenFakeCredentials, multiplePartialCaptures: true } } }, ['adyen']);
  token = await tokenOf(gw);
});
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
