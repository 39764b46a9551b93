/**
 * Stripe without multicapture: a partial capture whose answer was lost (Stripe took it,
 * and released the rest of the hold with it) is settled later by the reconciler. The books must
 * release the rest as they do when the answer arrives (RestReleased), not keep it held (and capturable).
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { manualClock } from '../src/runtime/clock.ts';
import { startGateway, type Gateway } from './support/harness.ts';
import { pspProxy, type PspProxy } from './support/psp-proxy.ts';
import { authorizedExecution, call, configureCascade, tokenOf, wf } from './support/executions.ts';
import { startStripeFake, stripeFakeCredentials, type StripeFake } from './support/fake-psps/stripe.ts';
import { suiteCards } from './support/fake-psps/bank.ts';
import { ledgerTotalsOf } from '../src/ledger/model.ts';

const clock = manualClock(Date.now());
let stripe: StripeFake;
let proxy: PspProxy;
let gw: Gateway;
before(async () => {
  [stripe, gw] = await Promise.all([startStripeFake({ multicapture: false }), startGateway({ clock })]);
  // The first capture reaches Stripe, and its answer is lost on the way back.
  let lost = false;
  proxy = await pspProxy(stripe.url, (c) => (!lost && c.method === 'POST' && c.url.endsWith('/capture') && (lost = true) ? 'lose-answer' : {}));
  await configureCascade(gw, { stripe: { connector: 'stripe', settings: { baseUrl: proxy.url, ...stripeFakeCredentials } } }, ['stripe']);
});
after(async () => { await Promise.all([gw?.close(), stripe?.close(), proxy?.close()]); });

test('a capture without multicapture settled by the reconciler releases the rest in the books', async () => {
  const token = await tokenOf(gw);
  const { id, paymentId } = await authorizedExecution(gw, token, 'lost-capture', suiteCards.approved, '50.00');
  assert.equal((await call(gw, 'POST', `${wf}/${id}/capture`, { token, body: { amount: { value: '20.00', currency: 'EUR' }, final: false } })).status, 202);
  await gw.app.payments.idle();
  clock.advance(15 * 60_000);
  await gw.app.payments.reconcile();
  await gw.app.payments.idle();
  const ops = await gw.app.storage.db.selectFrom('transactions').select(['type', 'status', 'amount']).where('payment_id', '=', paymentId).orderBy('seq').execute();
  const summary = ops.map((o) => [o.type, o.status, Number(o.amount)]);
  assert.deepEqual(summary.slice(0, 2), [['authorize', 'succeeded', 5000], ['capture', 'succeeded', 2000]], JSON.stringify(summary));
  const totals = ledgerTotalsOf(await gw.app.ledger.paymentPostings(paymentId));
  assert.deepEqual({ captured: totals.captured, held: totals.held }, { captured: 2000, held: 0 },
    `Stripe released the rest with the capture, but the books still hold it: ${JSON.stringify(summary)}`);
  stripe.takeEvents();
});
