/**
 * Stripe without multicapture: two partial captures sent together. Stripe takes the
 * first, releases the rest of the hold with it, and refuses the second. The books must end with the
 * rest released (nothing held), as after a single capture.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { startGateway, type Gateway } from './support/harness.ts';
import { pspProxy, type PspProxy } from './support/psp-proxy.ts';
import { authorizedExecution, call, configureCascade, tokenOf, wf } from './support/executions.ts';
import { startStripeFake, stripeFakeCredentials, type StripeFake } from './support/fake-psps/stripe.ts';
import { suiteCards } from './support/fake-psps/bank.ts';
import { ledgerTotalsOf } from '../src/ledger/model.ts';

let stripe: StripeFake;
let proxy: PspProxy;
let gw: Gateway;
before(async () => {
  [stripe, gw] = await Promise.all([startStripeFake({ multicapture: false }), startGateway()]);
  // The 10.00 capture is held back, so Stripe answers the 20.00 one first.
  proxy = await pspProxy(stripe.url, (c) => (c.url.endsWith('/capture') && new URLSearchParams(c.body).get('amount_to_capture') === '1000' ? { delayMs: 800 } : {}));
  await configureCascade(gw, { stripe: { connector: 'stripe', settings: { baseUrl: proxy.url, ...stripeFakeCredentials } } }, ['stripe']);
});
after(async () => { await Promise.all([gw?.close(), stripe?.close(), proxy?.close()]); });

test('two partial captures at once without multicapture: Stripe takes one and releases the rest; the books release it too', async () => {
  const token = await tokenOf(gw);
  const { paymentId } = await authorizedExecution(gw, token, 'race-capture', suiteCards.approved, '50.00');
  const merchant = (await gw.app.merchants.byId(gw.merchant.merchantId))!;
  const capture = (amount: number) => gw.app.payments.followUp({
    merchant, scope: { channel: 'executions' }, kind: 'capture', referencedId: paymentId,
    amount: { amount, currency: 'EUR' as never }, merchantTransactionId: undefined, context: {}, testParameters: {},
  });
  // Two shipments captured at once (the 10.00 one answered later by Stripe).
  const [slow, fast] = await Promise.all([capture(1000), new Promise((r) => setTimeout(r, 100)).then(() => capture(2000))]);
  assert.ok(slow.ok && fast.ok);
  await gw.app.payments.idle();
  const ops = await gw.app.storage.db.selectFrom('transactions').select(['type', 'status', 'amount']).where('payment_id', '=', paymentId).orderBy('seq').execute();
  const summary = ops.map((o) => [o.type, o.status, Number(o.amount)]);
  assert.deepEqual(summary.slice(0, 3), [['authorize', 'succeeded', 5000], ['capture', 'failed', 1000], ['capture', 'succeeded', 2000]], JSON.stringify(summary));
  const totals = ledgerTotalsOf(await gw.app.ledger.paymentPostings(paymentId));
  assert.deepEqual({ captured: totals.captured, held: totals.held }, { captured: 2000, held: 0 },
    `Stripe released the rest with the 20.00 capture, but the books still hold it: ${JSON.stringify(summary)}`);
  assert.equal(await gw.app.ledger.verify(), undefined);
  stripe.takeEvents();
});
