/**
 * A cascade whose first account cannot carry the request at all (nothing is sent: declined
 * `not_supported`) goes on to the account that can, whatever decline categories the workflow moves
 * on after. With a workflow moving on after soft declines only, a bank transfer on [Stripe,
 * simulator] passed the up-front check (an account of the cascade takes transfers), the shopper
 * confirmed it at the bank, and the payment then failed at Stripe without the simulated bank ever
 * being tried; a credit on [Adyen, simulator] failed the same way.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { opp, startGateway, testCard, type Gateway } from './support/harness.ts';
import { configureCascade } from './support/executions.ts';
import { answer, openRedirect } from './support/shopper.ts';
import { startStripeFake, stripeFakeCredentials, type StripeFake } from './support/fake-psps/stripe.ts';
import { adyenFakeCredentials, startAdyenFake, type AdyenFake } from './support/fake-psps/adyen.ts';
import { checkInvariants, describeViolations } from './support/invariants.ts';

let gw: Gateway; let stripe: StripeFake; let adyen: AdyenFake;
before(async () => { [stripe, adyen, gw] = await Promise.all([startStripeFake({}), startAdyenFake(), startGateway()]); });
after(async () => { await gw?.close(); await stripe?.close(); await adyen?.close(); });

test('a bank transfer the shopper confirmed on [Stripe, simulator], moving on after soft declines only, is made by the simulated bank', async () => {
  await configureCascade(gw, { stripe: { connector: 'stripe', settings: { baseUrl: stripe.url, ...stripeFakeCredentials } }, sim: { connector: 'simulator', settings: {} } }, ['stripe', 'sim'], ['soft']);
  const r = await opp(gw, 'POST', '/v1/payments', {
    amount: '120.00', currency: 'EUR', paymentType: 'DB', paymentBrand: 'SOFORTUEBERWEISUNG', 'bankAccount.country': 'DE',
    'bankAccount.bankName': 'Testbank', shopperResultUrl: 'https://shop.example/checkout/result?order=42',
  });
  assert.ok(r.body.redirect, JSON.stringify(r.body));
  assert.equal((await answer(await openRedirect(r.body.redirect), 'completed')).status, 303);
  await gw.app.payments.idle();
  const q = await opp(gw, 'GET', `/v1/query/${r.body.id}`);
  assert.match(q.body.result.code, /^000\./, JSON.stringify(q.body.result));
  const attempts = await gw.app.storage.db.selectFrom('attempts').select(['account_name', 'status', 'reason']).where('payment_id', '=', r.body.id as string).orderBy('seq').execute();
  assert.deepEqual(attempts.map((a) => [a.account_name, a.reason]), [['stripe', 'not_supported'], ['sim', null]]);
});

test('a credit (CD) on [Adyen, simulator], moving on after soft declines only, is paid by the simulator', async () => {
  await configureCascade(gw, { adyen: { connector: 'adyen', settings: { baseUrl: adyen.url, ...adyenFakeCredentials } }, sim: { connector: 'simulator', settings: {} } }, ['adyen', 'sim'], ['soft']);
  const r = await opp(gw, 'POST', '/v1/payments', { amount: '15.00', currency: 'EUR', paymentType: 'CD', ...testCard });
  assert.match(r.body.result.code, /^000\.100\.1/, JSON.stringify(r.body.result));
  const attempts = await gw.app.storage.db.selectFrom('attempts').select(['account_name', 'status', 'reason']).where('payment_id', '=', r.body.id as string).orderBy('seq').execute();
  assert.deepEqual(attempts.map((a) => [a.account_name, a.status, a.reason]), [['adyen', 'failed', 'not_supported'], ['sim', 'succeeded', null]]);
  const v = await checkInvariants(gw.app.storage.db, { merchantIds: [gw.merchant.merchantId] });
  assert.deepEqual(v.filter((x) => x.rule !== 'initial_transaction_count'), [], describeViolations(v));
});
