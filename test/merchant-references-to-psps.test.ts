/**
 * The merchant's own references of a payment (`/v1` merchantTransactionId and merchantInvoiceId, an
 * execution's merchantReference) reach its PSP under the PSP's own names, so the PSP's portal, its
 * reports and its dispute notices name the merchant's order; they carried only our attempt id, and
 * an operator answering a chargeback at the PSP could not tell which order it was.
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { opp, testCard } from './support/harness.ts';
import { authorizeBody, call, configureCascade, instrument, poll, tokenOf, wf } from './support/executions.ts';
import { suiteCards } from './support/fake-psps/bank.ts';
import { oppFakeCredentials } from './support/fake-psps/opp.ts';
import { adyenFakeCredentials } from './support/fake-psps/adyen.ts';
import { stripeFakeCredentials } from './support/fake-psps/stripe.ts';
import { gatewayAtRecordedPsps, sentTo } from './support/recorded-psps.ts';

const psps = await gatewayAtRecordedPsps();
after(() => psps.close());
const { gw, toAcquirer, toAdyen, toStripe } = psps;

const references = { merchantTransactionId: 'order-1042', merchantInvoiceId: 'INV-2026-1042' };
const payWith = (params: Record<string, string>) => opp(gw, 'POST', '/v1/payments', { amount: '40.00', currency: 'EUR', paymentType: 'PA', ...testCard, ...params });

test('an OPP-family acquirer gets the merchant\'s invoice number as merchantInvoiceId; its merchantTransactionId stays our attempt\'s, which its query finds', async () => {
  await configureCascade(gw, { acq: { connector: 'opp', settings: { baseUrl: toAcquirer.url, ...oppFakeCredentials } } }, ['acq']);
  const r = await payWith(references);
  assert.match(r.body.result.code, /^000\.100\.11/, JSON.stringify(r.body));
  const form = new URLSearchParams(sentTo(toAcquirer, '/v1/payments'));
  assert.equal(form.get('merchantInvoiceId'), 'INV-2026-1042');
  assert.match(form.get('merchantTransactionId') ?? '', /^[0-9a-f]{32}$/);
  // Without an invoice number, the merchant's reference of the order is its invoice there.
  await payWith({ merchantTransactionId: 'order-1043' });
  assert.equal(new URLSearchParams(sentTo(toAcquirer, '/v1/payments')).get('merchantInvoiceId'), 'order-1043');
  // Without either, nothing.
  await payWith({});
  assert.equal(new URLSearchParams(sentTo(toAcquirer, '/v1/payments')).has('merchantInvoiceId'), false);
});

test('Adyen gets the merchant\'s order as merchantOrderReference, Stripe both references in the PaymentIntent\'s metadata', async () => {
  await configureCascade(gw, { ady: { connector: 'adyen', settings: { baseUrl: toAdyen.url, ...adyenFakeCredentials } } }, ['ady']);
  const a = await payWith(references);
  assert.match(a.body.result.code, /^000\.100\.11/, JSON.stringify(a.body));
  const adyen = JSON.parse(sentTo(toAdyen, '/payments')!);
  assert.equal(adyen.merchantOrderReference, 'order-1042');
  assert.match(adyen.reference, /^[0-9a-f]{32}$/, 'Adyen\'s own reference stays our attempt\'s');

  await configureCascade(gw, { str: { connector: 'stripe', settings: { baseUrl: toStripe.url, ...stripeFakeCredentials } } }, ['str']);
  const s = await payWith(references);
  assert.match(s.body.result.code, /^000\.100\.11/, JSON.stringify(s.body));
  const form = new URLSearchParams(sentTo(toStripe, '/v1/payment_intents'));
  assert.equal(form.get('metadata[merchant_reference]'), 'order-1042');
  assert.equal(form.get('metadata[merchant_invoice_id]'), 'INV-2026-1042');
});

test('a reference holding a card number reaches the PSP masked, as it is stored', async () => {
  await configureCascade(gw, { str: { connector: 'stripe', settings: { baseUrl: toStripe.url, ...stripeFakeCredentials } } }, ['str']);
  const r = await payWith({ merchantTransactionId: '4012888888881881', merchantInvoiceId: 'paid with 4012888888881881' });
  assert.match(r.body.result.code, /^000\.100\.11/, JSON.stringify(r.body));
  const form = new URLSearchParams(sentTo(toStripe, '/v1/payment_intents'));
  for (const key of ['metadata[merchant_reference]', 'metadata[merchant_invoice_id]']) {
    const sent = form.get(key) ?? '';
    assert.ok(sent !== '' && !sent.includes('4012888888881881'), `${key}: ${sent}`);
  }
});

test('an execution\'s merchantReference reaches Adyen as merchantOrderReference', async () => {
  await configureCascade(gw, { ady: { connector: 'adyen', settings: { baseUrl: toAdyen.url, ...adyenFakeCredentials } } }, ['ady']);
  const token = await tokenOf(gw);
  const created = await call(gw, 'POST', wf, { token, body: { merchantReference: 'order-7', holderReference: 'customer-7', workspaceId: gw.merchant.workspaceId, meta: {} } });
  assert.equal(created.status, 201, JSON.stringify(created.body));
  const instrumentId = await instrument(gw, token, suiteCards.approved, 'customer-7');
  const ack = await call(gw, 'POST', `${wf}/${created.body.id}/authorize`, { token, body: authorizeBody(instrumentId, '20.00') });
  assert.equal(ack.status, 200, JSON.stringify(ack.body));
  assert.equal((await poll(gw, token, created.body.id, ['created', 'authorizeRequested'])).status, 'authorized');
  assert.equal(JSON.parse(sentTo(toAdyen, '/payments')!).merchantOrderReference, 'order-7');
});
