/**
 * The Stripe and Adyen connectors against the vendors' published behaviour, each case a
 * small scripted PSP server answering as the vendor documents.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createStripeConnector } from '../src/processors/stripe/connector.ts';
import { createAdyenConnector } from '../src/processors/adyen/connector.ts';
import { declineReasonOf } from '../src/processors/stripe/outcomes.ts';
import { money, type Currency } from '../src/money/money.ts';

const eur = (minor: number) => money(minor, 'EUR' as Currency);
const attempt = 'c'.repeat(32);

async function scripted(handler: (req: IncomingMessage, body: string, res: ServerResponse) => void) {
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (c) => { body += c; });
    req.on('end', () => handler(req, body, res));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, close: () => server.close() };
}
const json = (res: ServerResponse, status: number, value: unknown) => { res.writeHead(status, { 'content-type': 'application/json' }); res.end(JSON.stringify(value)); };
const stripeAt = (url: string) => createStripeConnector({ baseUrl: url, secretKey: 'sk_test_fake0123456789', webhookSecret: 'whsec_fake0123456789' }, 3000);

test('Stripe: a full capture of a PaymentIntent whose card has no multicapture is approved (final_capture=false is only for multicapture)', async () => {
  // Stripe's reference: final_capture "Defaults to true ... You can only use this setting when
  // multicapture is available for PaymentIntents". Multicapture is requested only `if_available`
  // (IC+ pricing, Visa/MC/Amex/Discover only): for every other PaymentIntent Stripe refuses the capture.
  const pi = { id: 'pi_1', object: 'payment_intent', amount: 5000, currency: 'eur', status: 'requires_capture', amount_capturable: 5000, metadata: { switchyard_attempt: 'a'.repeat(32) },
    latest_charge: { id: 'ch_1', payment_method_details: { card: { multicapture: { status: 'unavailable' } } } } };
  const s = await scripted((req, body, res) => {
    const form = new URLSearchParams(body);
    if (req.url === '/v1/payment_intents/pi_1/capture') {
      if (form.get('final_capture') === 'false') return json(res, 400, { error: { type: 'invalid_request_error', message: 'final_capture can only be false when multicapture is available for this PaymentIntent.', param: 'final_capture', payment_intent: pi } });
      return json(res, 200, { ...pi, status: 'succeeded', amount_capturable: 0, amount_received: Number(form.get('amount_to_capture') ?? 5000) });
    }
    // The PaymentIntent read with its charge expanded: no multicapture on this one.
    if (req.method === 'GET' && req.url === '/v1/payment_intents/pi_1?expand[]=latest_charge') return json(res, 200, pi);
    json(res, 404, { error: { type: 'invalid_request_error', message: 'no' } });
  });
  try {
    const outcome = await stripeAt(s.url).execute({ operation: 'capture', attemptId: attempt, amount: eur(5000), live: false, originalReference: 'pi_1', testParameters: {} });
    assert.equal(outcome.kind, 'approved', `every capture of a non-multicapture PaymentIntent fails: ${JSON.stringify(outcome)}`);
    assert.equal(outcome.details.RestReleased, 'true', 'the engine is told the capture released the rest of the hold');
  } finally { s.close(); }
});

test('Stripe: the lookup of a refund finds it when its PaymentIntent has more than 100 refunds (list pagination)', async () => {
  const target = 'r'.repeat(32);
  const refund = (n: number, a: string) => ({ id: `re_${n}`, object: 'refund', amount: 100, currency: 'eur', status: 'succeeded', payment_intent: 'pi_1', metadata: { switchyard_attempt: a } });
  const s = await scripted((req, _body, res) => {
    const u = new URL(req.url!, 'http://x');
    if (u.pathname !== '/v1/refunds') return json(res, 404, { error: { type: 'invalid_request_error', message: 'no' } });
    // Newest first, as Stripe lists: 100 later refunds, then (page 2) the one whose answer was lost.
    if (!u.searchParams.get('starting_after')) return json(res, 200, { object: 'list', data: Array.from({ length: 100 }, (_, i) => refund(200 - i, `${i}`.padStart(32, 'x'))), has_more: true, url: '/v1/refunds' });
    return json(res, 200, { object: 'list', data: [refund(1, target)], has_more: false, url: '/v1/refunds' });
  });
  try {
    const found = await stripeAt(s.url).lookup(target, { operation: 'refund', amount: eur(100), originalReference: 'pi_1', pspReference: undefined });
    assert.equal(found?.kind, 'approved', 'a refund Stripe made is reported "never received": the attempt is failed and the merchant may refund again');
  } finally { s.close(); }
});

test('Stripe: the lookup of a capture does not approve it when the PaymentIntent records another captured amount for that attempt', async () => {
  // The capture's own metadata value (what it captured, in Stripe minor units) says EUR 5.00, the
  // attempt asked EUR 9.00 (its first send under the key captured 5.00; idempotency_error after).
  const s = await scripted((req, _body, res) => {
    if (req.url === '/v1/payment_intents/pi_1') return json(res, 200, { id: 'pi_1', object: 'payment_intent', amount: 10000, currency: 'eur', status: 'requires_capture', amount_received: 500, metadata: { switchyard_attempt: 'a'.repeat(32), [`sy_${attempt}`]: '500' } });
    json(res, 404, { error: { type: 'invalid_request_error', message: 'no' } });
  });
  try {
    const found = await stripeAt(s.url).lookup(attempt, { operation: 'capture', amount: eur(900), originalReference: 'pi_1', pspReference: undefined }).catch((e) => ({ kind: 'threw', e: String(e) }));
    assert.notEqual(found?.kind, 'approved', 'EUR 9.00 recorded captured where Stripe captured EUR 5.00');
  } finally { s.close(); }
});

test('Stripe: decline code do_not_try_again (and not_permitted, pickup_card) is not a soft decline to retry', () => {
  // Stripe: "do_not_try_again — The card was declined for an unknown reason. Next steps: The customer
  // should contact their card issuer". Card schemes fine merchants that retry such declines.
  for (const code of ['do_not_try_again', 'not_permitted', 'transaction_not_allowed']) {
    assert.notEqual(declineReasonOf(code), 'soft', code);
  }
});

test('Adyen: an HTTP 429 (rate limited, nothing processed yet) is not answered as a final invalid_request decline', async () => {
  const s = await scripted((_req, _body, res) => json(res, 429, { status: 429, errorCode: '905_1', message: 'Too many requests', errorType: 'configuration' }));
  try {
    const c = createAdyenConnector({ baseUrl: s.url, apiKey: 'AQE-key-123456', merchantAccount: 'ShopECOM', hmacKey: 'ab'.repeat(32) } as never, 3000);
    const card = { pan: { reveal: () => '4111111111111111' }, cvv: undefined, brand: 'VISA', holder: undefined, expiryMonth: '03', expiryYear: '30' };
    const outcome = await c.execute({ operation: 'authorize', attemptId: attempt, amount: eur(5000), live: false, card: card as never, testParameters: {} }).catch((e) => ({ kind: 'threw', reason: String(e) }));
    assert.ok(!(outcome.kind === 'declined' && (outcome as { reason: string }).reason === 'invalid_request'), `a rate limit ends the payment as the merchant's invalid request: ${JSON.stringify(outcome)}`);
  } finally { s.close(); }
});

/** A void of a PaymentIntent Stripe holds `succeeded` (having received `received` of 5000): what the connector makes of the refusal. */
async function voidOfSucceeded(received: number, asked: number) {
  const pi = { id: 'pi_2', object: 'payment_intent', amount: 5000, currency: 'eur', status: 'succeeded', amount_capturable: 0, amount_received: received, metadata: {} };
  const s = await scripted((req, _body, res) => {
    if (req.url === '/v1/payment_intents/pi_2/cancel') {
      return json(res, 400, { error: { type: 'invalid_request_error', code: 'payment_intent_unexpected_state', message: 'You cannot cancel this PaymentIntent because it has a status of succeeded.', payment_intent: pi } });
    }
    json(res, 404, { error: { type: 'invalid_request_error', message: 'no' } });
  });
  try {
    return await stripeAt(s.url).execute({ operation: 'void', attemptId: attempt, amount: eur(asked), live: false, originalReference: 'pi_2', testParameters: {} });
  } finally { s.close(); }
}

test('Stripe: the void of what a single capture left (a PaymentIntent without multicapture holds nothing more) is approved, not failed', async () => {
  const outcome = await voidOfSucceeded(3000, 2000);
  assert.equal(outcome.kind, 'approved', JSON.stringify(outcome));
});

test('Stripe: a void is not approved when the PaymentIntent was captured in full (nothing of it was released; the shopper was charged)', async () => {
  // The engine believes nothing was captured (open rest EUR 50.00: e.g. captured from Stripe's
  // dashboard, or a capture the engine recorded failed) and asks to void all of it. Stripe has
  // captured the whole 5000: amount_capturable is 0 because the money moved, not because it was released.
  const outcome = await voidOfSucceeded(5000, 5000);
  assert.notEqual(outcome.kind, 'approved', `EUR 50.00 recorded as released (payment reversed, ledger hold voided) where Stripe captured all of it: ${JSON.stringify(outcome)}`);
});

for (const status of [401, 404]) {
  test(`Stripe: a capture whose multicapture pre-read answers HTTP ${status} is declined as before, not left unknown for good`, async () => {
    // Before the pre-read, the capture POST itself met the revoked key (401) or the missing
    // PaymentIntent (404) and was declined at once. Now the GET throws: the capture is recorded
    // unknown, its amount stays reserved (a void is refused as reference_pending), and the
    // reconciler's lookup meets the same answer and throws on every pass.
    const s = await scripted((_req, _body, res) => json(res, status, { error: { type: 'invalid_request_error', code: status === 404 ? 'resource_missing' : undefined, message: status === 404 ? 'No such payment_intent' : 'Invalid API Key provided' } }));
    try {
      const c = stripeAt(s.url);
      const outcome = await c.execute({ operation: 'capture', attemptId: attempt, amount: eur(5000), live: false, originalReference: 'pi_4', testParameters: {} })
        .catch((e) => ({ kind: 'threw (engine records unknown)', e: String(e) }));
      const looked = await c.lookup(attempt, { operation: 'capture', amount: eur(5000), originalReference: 'pi_4', pspReference: undefined })
        .then((o) => o?.kind ?? 'not found', (e) => `threw: ${String(e)}`);
      assert.equal(outcome.kind, 'declined', `execute: ${JSON.stringify(outcome)}; the reconciler's lookup then: ${looked}`);
    } finally { s.close(); }
  });
}
