/**
 * An approval for another amount or currency than asked never settles an attempt, on every path a
 * PSP's answer arrives by: notifications (Adyen items of every kind, Stripe events), the return from
 * a PSP's own 3-D Secure, a refund's direct answer. An amount the gateway cannot read is no more the
 * one asked than another amount is.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createAdyenConnector, settlementOfItem } from '../src/processors/adyen/connector.ts';
import { signItem } from '../src/processors/adyen/webhook.ts';
import { createStripeConnector } from '../src/processors/stripe/connector.ts';

const hmacKey = 'ab'.repeat(32);
const adyenSettings = (baseUrl: string) => ({ baseUrl, apiKey: 'AQE-key-123456', merchantAccount: 'ShopECOM', hmacKey });

function adyenNotification(item: Record<string, unknown> & { value: number; currency: string }) {
  const base = { pspReference: 'QFQTPCQ8HXSKGK82', originalReference: undefined, merchantAccountCode: 'ShopECOM', merchantReference: 'a1', success: 'true', ...item } as any;
  const { value, currency, ...rest } = base;
  return JSON.stringify({ live: 'false', notificationItems: [{ NotificationRequestItem: { ...rest, amount: { value, currency }, eventDate: '2026-01-01T00:00:00+01:00', additionalData: { hmacSignature: signItem(base, hmacKey) } } }] });
}

/** An approval with no amount stated is one the engine cannot compare with what was asked. */
const settlesUnchecked = (s: { outcome: { kind: string }; amount?: unknown } | undefined) => s !== undefined && s.outcome.kind === 'approved' && s.amount === undefined;

test('an Adyen AUTHORISATION for an amount with no ISO equivalent (CLP 5000.01 in Adyen hundredths) is not settled unchecked', async () => {
  const c = createAdyenConnector(adyenSettings('https://checkout-test.adyen.com/v71'), 5000);
  // The attempt asked CLP 5000 (Adyen value 500000); Adyen says it authorised 500001.
  const r = await c.inbound!({ headers: {}, body: adyenNotification({ eventCode: 'AUTHORISATION', value: 500001, currency: 'CLP' }) });
  assert.equal(r.authentic, true);
  assert.ok(!settlesUnchecked(r.settled[0]), `settled as approved with no amount to check: ${JSON.stringify(r.settled)}`);
});

test('an Adyen AUTHORISATION in a currency the gateway does not know (ISK 1.5 in Adyen hundredths, or XYZ) is not settled unchecked', () => {
  const item = { pspReference: 'P1', originalReference: undefined, merchantAccountCode: 'ShopECOM', merchantReference: 'a1', eventCode: 'AUTHORISATION', success: 'true', reason: undefined, hmacSignature: undefined };
  for (const [value, currency] of [[150, 'ISK'], [5000, 'XYZ'], [5000, 'eur ']] as const) {
    const s = settlementOfItem({ ...item, value, currency });
    assert.ok(!settlesUnchecked(s), `${currency} ${value} settles as approved with no amount to check`);
  }
});

test('a Stripe payment_intent notification for another amount or currency is not settled unchecked', async () => {
  const { signatureHeader } = await import('../src/processors/stripe/webhook.ts');
  const secret = 'whsec_fake0123456789';
  const c = createStripeConnector({ baseUrl: 'https://api.stripe.com', secretKey: 'sk_test_fake0123456789', webhookSecret: secret }, 5000);
  for (const type of ['payment_intent.amount_capturable_updated', 'payment_intent.succeeded']) {
    const body = JSON.stringify({ id: 'evt_1', object: 'event', type, data: { object: { id: 'pi_1', object: 'payment_intent', status: type.endsWith('succeeded') ? 'succeeded' : 'requires_capture', amount: 1, currency: 'usd', metadata: { switchyard_attempt: 'a1' } } } });
    const r = await c.inbound!({ headers: { 'stripe-signature': signatureHeader(body, secret, Math.floor(Date.now() / 1000)) }, body });
    assert.equal(r.authentic, true);
    assert.ok(!settlesUnchecked(r.settled[0]), `${type} for USD 0.01 settles the attempt as approved with no amount to check (an attempt for EUR 50.00 would be approved)`);
  }
});

test('Adyen /payments/details (3-D Secure return) approving another amount or currency is not taken as the approval', async () => {
  const server = createServer((req, res) => { req.resume(); req.on('end', () => { res.setHeader('content-type', 'application/json'); res.end(JSON.stringify({ resultCode: 'Authorised', pspReference: 'V4HZ4RBFJGXXGN82', merchantReference: 'a1', amount: { value: 1, currency: 'USD' } })); }); });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  try {
    const c = createAdyenConnector(adyenSettings(`http://127.0.0.1:${(server.address() as AddressInfo).port}`), 5000);
    // The attempt asked EUR 50.00; the shopper comes back and Adyen says USD 0.01 was authorised.
    const outcome = await c.complete!({ attemptId: 'a1', amount: { amount: 5000, currency: 'EUR' as never }, pspReference: undefined, parameters: { redirectResult: 'X3XtfGC9' } }).catch((e) => ({ kind: 'threw', message: String(e) }));
    assert.notEqual(outcome.kind, 'approved', 'an Adyen approval of USD 0.01 finished an attempt that asked another amount');
  } finally { server.close(); }
});

test('a Stripe refund answered for less than asked (EUR 5.00 of EUR 50.00) is not recorded as the refund asked for', async () => {
  const server = createServer((req, res) => { req.resume(); req.on('end', () => { res.setHeader('content-type', 'application/json'); res.end(JSON.stringify({ id: 're_1', object: 'refund', status: 'succeeded', amount: 500, currency: 'eur', payment_intent: 'pi_1', metadata: { switchyard_attempt: 'a1' } })); }); });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  try {
    const c = createStripeConnector({ baseUrl: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, secretKey: 'sk_test_fake0123456789', webhookSecret: 'whsec_fake0123456789' }, 5000);
    const { money } = await import('../src/money/money.ts');
    const outcome = await c.execute({ operation: 'refund', attemptId: 'a1', amount: money(5000, 'EUR' as never), live: false, originalReference: 'pi_1', testParameters: {} } as never).catch((e) => ({ kind: 'threw', message: String(e) }));
    assert.notEqual(outcome.kind, 'approved', 'EUR 50.00 recorded as refunded (ledger and merchant told so) where Stripe refunded EUR 5.00');
  } finally { server.close(); }
});

test('Adyen CAPTURE and REFUND items state their amount, so one for another amount than asked is not settled unchecked', () => {
  const item = { pspReference: 'P2', originalReference: 'P1', merchantAccountCode: 'ShopECOM', merchantReference: 'a2', success: 'true', reason: undefined, hmacSignature: undefined, value: 100, currency: 'EUR' };
  for (const eventCode of ['CAPTURE', 'REFUND']) {
    const s = settlementOfItem({ ...item, eventCode });
    assert.ok(!settlesUnchecked(s), `${eventCode} of EUR 1.00 settles the attempt with no amount to compare (a EUR 50.00 ${eventCode.toLowerCase()} would be recorded as done)`);
  }
});

test('Stripe: the return from its own 3-D Secure naming a PaymentIntent for another amount is not taken as the approval', async () => {
  const server = createServer((req, res) => { req.resume(); req.on('end', () => { res.setHeader('content-type', 'application/json'); res.end(JSON.stringify({ id: 'pi_1', object: 'payment_intent', status: 'requires_capture', amount: 1, currency: 'eur', metadata: { switchyard_attempt: 'a1' } })); }); });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  try {
    const c = createStripeConnector({ baseUrl: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, secretKey: 'sk_test_fake0123456789', webhookSecret: 'whsec_fake0123456789' }, 5000);
    const outcome = await c.complete!({ attemptId: 'a1', amount: { amount: 5000, currency: 'EUR' as never }, pspReference: 'pi_1', parameters: {} }).catch((e) => ({ kind: 'threw', message: String(e) }));
    assert.notEqual(outcome.kind, 'approved', 'a PaymentIntent of EUR 0.01 finished an attempt that asked EUR 50.00');
  } finally { server.close(); }
});


test('an acquirer of the /v1 family answering its payment, its query or the shopper\'s return for another amount is not taken as the approval', async () => {
  const { createOppConnector } = await import('../src/processors/opp/connector.ts');
  const { Cvv, Pan } = await import('../src/vault/card.ts');
  const approvedFor = (amount: string, currency: string) => ({ id: '8ac7a4a1', paymentType: 'PA', amount, currency, merchantTransactionId: 'a1', result: { code: '000.100.110', description: 'Request successfully processed' } });
  let answer: unknown = approvedFor('0.01', 'EUR');
  const server = createServer((req, res) => { req.resume(); req.on('end', () => { res.setHeader('content-type', 'application/json'); res.end(JSON.stringify(typeof answer === 'function' ? answer(req.method) : answer)); }); });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  try {
    const c = createOppConnector({ baseUrl: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, entityId: '8a8294174b7ecb28014b9699220015ca', accessToken: 'OGE4Mjk0MTc0YjdlY2IyODAxNGI5Njk5MjIwMDE1Y2N8c3k2S0pzVDg=' } as never, 5000);
    const asked = { amount: 5000, currency: 'EUR' as never };
    const card = { pan: new Pan('4111111111111111'), cvv: new Cvv('123'), brand: 'VISA' as const, holder: 'Jane Jones', expiryMonth: '05', expiryYear: '2034' };
    const settle = (p: Promise<unknown>) => p.then((o) => (o as { kind: string }).kind, (e) => `threw: ${String(e)}`);
    assert.match(await settle(c.execute({ operation: 'authorize', attemptId: 'a1', amount: asked, live: false, card, testParameters: {} })), /threw: .*EUR 0.01 where EUR 50.00 was asked/);
    assert.match(await settle(c.complete!({ attemptId: 'a1', amount: asked, pspReference: '8ac7a4a1', parameters: {} })), /threw/);
    answer = { result: { code: '000.000.100' }, payments: [approvedFor('50.00', 'USD')] };
    assert.match(await settle(c.lookup('a1', { operation: 'authorize', amount: asked, originalReference: undefined, pspReference: undefined })), /threw/);
    // Sent again, the acquirer says "duplicate" and its query gives the first send's payment: for another amount, not ours.
    answer = (method: string) => method === 'POST' ? { result: { code: '800.130.100', description: 'duplicate' } } : { result: { code: '000.000.100' }, payments: [approvedFor('0.50', 'EUR')] };
    assert.match(await settle(c.execute({ operation: 'authorize', attemptId: 'a1', amount: asked, live: false, card, testParameters: {} })), /threw/);
    answer = approvedFor('50.00', 'EUR');
    assert.equal(await settle(c.execute({ operation: 'authorize', attemptId: 'a1', amount: asked, live: false, card, testParameters: {} })), 'approved');
  } finally { server.close(); }
});
