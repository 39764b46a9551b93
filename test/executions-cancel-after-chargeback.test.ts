/**
 * An executions merchant's cancel of an authorization
 * partly captured and then charged back (Adyen's CHARGEBACK) must still release the uncaptured rest,
 * as the /v1 RV and the expiry job now do; the captured part is the scheme's, not the merchant's to refund.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { startGateway, type Gateway } from './support/harness.ts';
import { authorizedExecution, call, configureCascade, tokenOf, wf } from './support/executions.ts';
import { startAdyenFake, adyenFakeCredentials, type AdyenFake } from './support/fake-psps/adyen.ts';
import { suiteCards } from './support/fake-psps/bank.ts';
import { ledgerTotalsOf } from '../src/ledger/model.ts';

let adyen: AdyenFake;
let gw: Gateway;
before(async () => {
  [adyen, gw] = await Promise.all([startAdyenFake({ multiplePartialCaptures: true }), startGateway()]);
  await configureCascade(gw, { adyen: { connector: 'adyen', settings: { baseUrl: adyen.url, ...adyenFakeCredentials, multiplePartialCaptures: true } } }, ['adyen']);
});
after(async () => { await Promise.all([gw?.close(), adyen?.close()]); });

async function deliverAdyen() {
  for (const body of adyen.takeNotifications()) {
    const r = await fetch(`${gw.url}/psp-notifications/${gw.merchant.merchantId}/adyen`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
    assert.equal(r.status, 200);
  }
}

test('a cancel after a partial capture and its chargeback releases the open rest', async () => {
  const token = await tokenOf(gw);
  const { id, paymentId } = await authorizedExecution(gw, token, 'cb-cancel', suiteCards.approved, '50.00');
  await deliverAdyen();
  assert.equal((await call(gw, 'POST', `${wf}/${id}/capture`, { token, body: { amount: { value: '30.00', currency: 'EUR' }, final: false } })).status, 202);
  await gw.app.payments.idle();
  await deliverAdyen();
  const opening = await gw.app.storage.db.selectFrom('transactions').select('psp_reference').where('payment_id', '=', paymentId).where('seq', '=', 0).executeTakeFirstOrThrow();
  adyen.dispute(opening.psp_reference!, 'CHARGEBACK', { value: 3000, currency: 'EUR' }, 'DISPUTECANCEL0001');
  await deliverAdyen();
  const cancel = await call(gw, 'POST', `${wf}/${id}/cancel`, { token, body: {} });
  await gw.app.payments.idle();
  // Adyen answers a cancel with `received`; its CANCELLATION webhook settles it.
  await deliverAdyen();
  await gw.app.payments.idle();
  const ops = await gw.app.storage.db.selectFrom('transactions').select(['type', 'status', 'amount']).where('payment_id', '=', paymentId).orderBy('seq').execute();
  const summary = ops.map((o) => [o.type, o.status, Number(o.amount)]);
  assert.deepEqual(summary.at(-1), ['void', 'succeeded', 2000], `cancel answered ${cancel.status} ${JSON.stringify(cancel.body)}; ops ${JSON.stringify(summary)}`);
  assert.equal(ledgerTotalsOf(await gw.app.ledger.paymentPostings(paymentId)).held, 0);
  assert.equal(await gw.app.ledger.verify(), undefined);
});
