/**
 * A Stripe account without multicapture (standard pricing): one capture is the PaymentIntent's
 * last, and Stripe releases the rest of the hold with it. The books follow: the rest is released,
 * the ledger holds nothing more, and a second capture is refused before Stripe is asked.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { startGateway, type Gateway } from './support/harness.ts';
import { authorizedExecution, call, configureCascade, tokenOf, wf } from './support/executions.ts';
import { startStripeFake, stripeFakeCredentials, type StripeFake } from './support/fake-psps/stripe.ts';
import { suiteCards } from './support/fake-psps/bank.ts';
import { ledgerTotalsOf } from '../src/ledger/model.ts';

let stripe: StripeFake;
let gw: Gateway;
before(async () => {
  [stripe, gw] = await Promise.all([startStripeFake({ multicapture: false }), startGateway()]);
  await configureCascade(gw, { stripe: { connector: 'stripe', settings: { baseUrl: stripe.url, ...stripeFakeCredentials } } }, ['stripe']);
});
after(async () => { await Promise.all([gw?.close(), stripe?.close()]); });

test('a partial capture on a PaymentIntent without multicapture succeeds, and the rest it released is released in the books', async () => {
  const token = await tokenOf(gw);
  const { id, paymentId } = await authorizedExecution(gw, token, 'single-capture', suiteCards.approved, '50.00');
  const capture = await call(gw, 'POST', `${wf}/${id}/capture`, { token, body: { amount: { value: '20.00', currency: 'EUR' }, final: false } });
  assert.equal(capture.status, 202, JSON.stringify(capture.body));
  await gw.app.payments.idle();
  const ops = await gw.app.storage.db.selectFrom('transactions').select(['type', 'status', 'amount']).where('payment_id', '=', paymentId).orderBy('seq').execute();
  assert.deepEqual(ops.map((o) => [o.type, o.status, Number(o.amount)]), [['authorize', 'succeeded', 5000], ['capture', 'succeeded', 2000], ['void', 'succeeded', 3000]],
    'the capture was refused (final_capture=false) or the released rest stayed open in the books');
  const totals = ledgerTotalsOf(await gw.app.ledger.paymentPostings(paymentId));
  assert.deepEqual([totals.captured, totals.held], [2000, 0]);
  assert.equal(await gw.app.ledger.verify(), undefined);
  const again = await call(gw, 'POST', `${wf}/${id}/capture`, { token, body: { amount: { value: '10.00', currency: 'EUR' }, final: true } });
  assert.notEqual(again.status, 202, 'a second capture of a released hold was accepted');
  stripe.takeEvents();
});
