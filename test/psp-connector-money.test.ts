/**
 * Money safety at the PSP connectors: a refund Adyen reports reversed is taken back; a chargeback the
 * PSP reports is recorded, and a dispute's other news told to an operator, never dropped in silence; an "approved" answer for
 * another amount or currency than asked is not recorded as the approval asked for.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Cvv, Pan } from '../src/vault/card.ts';
import { money, type Currency } from '../src/money/money.ts';
import { createAdyenConnector, settlementOfItem } from '../src/processors/adyen/connector.ts';
import { signItem } from '../src/processors/adyen/webhook.ts';
import { createStripeConnector } from '../src/processors/stripe/connector.ts';
import { isoMinorUnits } from '../src/processors/minor-units.ts';
import { opp, pay, startGateway } from './support/harness.ts';

const hmacKey = 'ab'.repeat(32);
const adyenSettings = (baseUrl: string) => ({ baseUrl, apiKey: 'AQE-key-123456', merchantAccount: 'ShopECOM', hmacKey });
const card = { pan: new Pan('4111111111111111'), cvv: new Cvv('737'), brand: 'VISA' as const, holder: 'Jane Jones', expiryMonth: '03', expiryYear: '30' };

async function serve(answer: (path: string, body: string) => unknown) {
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (c) => { body += c; });
    req.on('end', () => { res.setHeader('content-type', 'application/json'); res.end(JSON.stringify(answer(req.url ?? '', body))); });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, close: () => new Promise((r) => server.close(r)) };
}

function adyenNotification(item: Record<string, unknown> & { value: number; currency: string }) {
  const base = { pspReference: 'QFQTPCQ8HXSKGK82', originalReference: '9913140798220028', merchantAccountCode: 'ShopECOM', merchantReference: 'r1', success: 'true', ...item } as any;
  const { value, currency, ...rest } = base;
  return JSON.stringify({ live: 'false', notificationItems: [{ NotificationRequestItem: { ...rest, amount: { value, currency }, eventDate: '2026-01-01T00:00:00+01:00', additionalData: { hmacSignature: signItem(base, hmacKey) } } }] });
}

test('Adyen REFUNDED_REVERSED (refund money came back to the merchant) takes back the confirmed refund', async () => {
  // Shaped as Adyen's REFUNDED_REVERSED example (Webhooks-v1.yaml): success "true", the refund's reference.
  const c = createAdyenConnector(adyenSettings('https://checkout-test.adyen.com/v71'), 5000);
  const r = await c.inbound!({ headers: {}, body: adyenNotification({ eventCode: 'REFUNDED_REVERSED', value: 1000, currency: 'EUR', reason: 'test' }) });
  assert.equal(r.authentic, true);
  assert.equal(r.answer, '[accepted]');
  assert.equal(r.settled.length, 1, 'REFUNDED_REVERSED is dropped: the refund stays succeeded although the shopper never got the money');
  assert.equal(r.settled[0]!.reverses, true);
  assert.equal(r.settled[0]!.outcome.kind, 'declined');
});

test('Adyen CHARGEBACK for a captured payment is not silently dropped: the payment (originalReference) is charged back, the dispute named by its own reference', async () => {
  const c = createAdyenConnector(adyenSettings('https://checkout-test.adyen.com/v71'), 5000);
  const r = await c.inbound!({ headers: {}, body: adyenNotification({ eventCode: 'CHARGEBACK', value: 5000, currency: 'EUR', reason: 'Fraud' }) });
  assert.equal(r.authentic, true);
  assert.equal(r.answer, '[accepted]');
  assert.deepEqual(r.disputes, [{ kind: 'chargeback', event: 'CHARGEBACK', eventId: 'CHARGEBACK@2026-01-01T00:00:00+01:00', paymentReference: '9913140798220028', disputeReference: 'QFQTPCQ8HXSKGK82', amount: { amount: 5000, currency: 'EUR' }, occurredAt: Date.parse('2026-01-01T00:00:00+01:00') }]);
  assert.equal(r.unrecorded, undefined);
  // A dispute opened moves no money yet: told to an operator, nothing to record.
  const opened = await c.inbound!({ headers: {}, body: adyenNotification({ eventCode: 'NOTIFICATION_OF_CHARGEBACK', value: 5000, currency: 'EUR' }) });
  assert.equal(opened.disputes, undefined);
  assert.deepEqual(opened.unrecorded, [{ event: 'NOTIFICATION_OF_CHARGEBACK', pspReference: '9913140798220028', amount: 'EUR 5000 (Adyen minor units)' }]);
});

test('Adyen: an "Authorised" answer for another amount or currency than requested is not an approval of the request', async () => {
  const fake = await serve(() => ({ resultCode: 'Authorised', pspReference: 'PSPX', merchantReference: 'a1', amount: { value: 1, currency: 'USD' } }));
  try {
    const c = createAdyenConnector(adyenSettings(fake.url), 5000);
    // Thrown: the attempt stays unknown (money may have moved as nobody asked), for the reconciler and then an operator.
    await assert.rejects(c.execute({ operation: 'authorize', attemptId: 'a1', amount: money(5000, 'EUR' as Currency), live: false, card, testParameters: {} }),
      /Adyen answered for USD 1 .* where EUR 5000 was asked/, 'approved EUR 50.00 although Adyen authorised USD 0.01');
  } finally { await fake.close(); }
});

test('Stripe: a PaymentIntent answered for another amount or currency than requested is not an approval of the request', async () => {
  const fake = await serve(() => ({ id: 'pi_X1', object: 'payment_intent', status: 'requires_capture', amount: 1, currency: 'usd', metadata: { switchyard_attempt: 'a1' } }));
  try {
    const c = createStripeConnector({ baseUrl: fake.url, secretKey: 'sk_test_fake0123456789', webhookSecret: 'whsec_fake0123456789' }, 5000);
    await assert.rejects(c.execute({ operation: 'authorize', attemptId: 'a1', amount: money(5000, 'EUR' as Currency), live: false, card, testParameters: {} }),
      /Stripe answered for usd 1 .* where EUR 5000 was asked/, 'approved EUR 50.00 although Stripe authorised USD 0.01');
  } finally { await fake.close(); }
});

test('Stripe charge.dispute.created (a chargeback) for one of our PaymentIntents is not silently dropped', async () => {
  const { signatureHeader } = await import('../src/processors/stripe/webhook.ts');
  const secret = 'whsec_fake0123456789';
  const c = createStripeConnector({ baseUrl: 'https://api.stripe.com', secretKey: 'sk_test_fake0123456789', webhookSecret: secret }, 5000);
  const body = JSON.stringify({ id: 'evt_1', object: 'event', type: 'charge.dispute.created', data: { object: { id: 'dp_1', object: 'dispute', amount: 5000, currency: 'eur', charge: 'ch_1', payment_intent: 'pi_1', reason: 'fraudulent', status: 'needs_response', metadata: {} } } });
  const r = await c.inbound!({ headers: { 'stripe-signature': signatureHeader(body, secret, Math.floor(Date.now() / 1000)) }, body });
  assert.equal(r.authentic, true);
  assert.deepEqual(r.unrecorded, [{ event: 'charge.dispute.created', pspReference: 'pi_1', amount: 'eur 5000 (Stripe minor units)' }], 'a dispute is acknowledged and forgotten');
});

test('an Adyen AUTHORISATION item states what it approved, in ISO minor units (Adyen counts CLP in hundredths)', () => {
  const item = { pspReference: 'P1', originalReference: undefined, merchantAccountCode: 'ShopECOM', merchantReference: 'a1', value: 500000, currency: 'CLP', eventCode: 'AUTHORISATION', success: 'true', reason: undefined, hmacSignature: undefined };
  assert.deepEqual(settlementOfItem(item)?.amount, { amount: 5000, currency: 'CLP' });
  assert.equal(isoMinorUnits(500001, 'CLP', { exponents: { CLP: 2 } }), undefined, 'not a whole peso: no amount the gateway could have asked');
});

test('a PSP notification approving another amount or currency than the attempt asked does not settle it', async () => {
  const gw = await startGateway();
  try {
    const r = await pay(gw, { paymentType: 'PA', amount: '30.00', 'customParameters[forceResultCode]': '800.400.500' });
    assert.equal(r.body.result.code, '800.400.500', 'pending at the PSP');
    const attempt = await gw.app.storage.db.selectFrom('attempts').select(['id', 'account_id']).where('transaction_id', '=', r.body.id).executeTakeFirstOrThrow();
    const approved = { kind: 'approved' as const, pspReference: 'PSP-A', acquirerCode: 'Authorised', details: {} };
    assert.equal(await gw.app.payments.settleFromPsp(attempt.account_id, attempt.id, approved, { amount: { amount: 3000, currency: 'USD' as Currency } }), false);
    assert.equal(await gw.app.payments.settleFromPsp(attempt.account_id, attempt.id, approved, { amount: { amount: 1, currency: 'EUR' as Currency } }), false);
    assert.equal(await gw.app.payments.settleFromPsp(attempt.account_id, attempt.id, approved, { amount: 'unreadable' }), false, 'an amount the gateway cannot read is not the one asked');
    assert.ok(gw.logs.some((l) => l.includes('approves another amount')));
    assert.equal(await gw.app.payments.settleFromPsp(attempt.account_id, attempt.id, approved, { amount: { amount: 3000, currency: 'EUR' as Currency } }), true);
    // A capture confirmed for another amount than it asked is not recorded as done either.
    const cp = await opp(gw, 'POST', `/v1/payments/${r.body.id}`, { paymentType: 'CP', amount: '10.00', currency: 'EUR', 'customParameters[forceResultCode]': '800.400.500' });
    assert.equal(cp.body.result.code, '800.400.500', JSON.stringify(cp.body));
    const capture = await gw.app.storage.db.selectFrom('attempts').select(['id', 'account_id']).where('transaction_id', '=', cp.body.id).executeTakeFirstOrThrow();
    assert.equal(await gw.app.payments.settleFromPsp(capture.account_id, capture.id, approved, { amount: { amount: 3000, currency: 'EUR' as Currency } }), false,
      'a capture of EUR 10.00 recorded as done where the PSP confirmed EUR 30.00');
    assert.equal(await gw.app.payments.settleFromPsp(capture.account_id, capture.id, approved, { amount: { amount: 1000, currency: 'EUR' as Currency } }), true);
  } finally { await gw.close(); }
});
