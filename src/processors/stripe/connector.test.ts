import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Cvv, Pan } from '../../vault/card.ts';
import { money, type Currency } from '../../money/money.ts';
import { outcomeOfIntent, outcomeOfRefund } from './outcomes.ts';
import { formOf, captureKey, createStripeConnector, stripeApiVersion } from './connector.ts';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { parseSettings } from './settings.ts';
import { signatureHeader, verifySignature } from './webhook.ts';

const card = { pan: new Pan('4111111111111111'), cvv: new Cvv('123'), brand: 'VISA' as const, holder: 'Jane Jones', expiryMonth: '05', expiryYear: '34' };
const eur = (minor: number) => money(minor, 'EUR' as Currency);

test('PaymentIntent statuses map to neutral outcomes; decline codes to soft, hard, fraud', () => {
  assert.equal(outcomeOfIntent({ id: 'pi_1', status: 'requires_capture' })?.kind, 'approved');
  assert.equal(outcomeOfIntent({ id: 'pi_1', status: 'succeeded' })?.kind, 'approved');
  assert.equal(outcomeOfIntent({ id: 'pi_1', status: 'processing' })?.kind, 'pending');
  const cases: [Record<string, unknown>, string][] = [
    [{ type: 'card_error', code: 'card_declined', decline_code: 'insufficient_funds' }, 'soft'],
    [{ type: 'card_error', code: 'expired_card' }, 'hard'],
    [{ type: 'card_error', code: 'card_declined', decline_code: 'fraudulent' }, 'fraud'],
    [{ type: 'invalid_request_error', code: 'payment_intent_authentication_failure' }, 'authentication_failed'],
    [{ type: 'invalid_request_error', code: 'parameter_missing' }, 'invalid_request'],
  ];
  for (const [error, reason] of cases) {
    const o = outcomeOfIntent({ id: 'pi_2', status: 'requires_payment_method', last_payment_error: error });
    assert.equal(o?.kind === 'declined' && o.reason, reason, JSON.stringify(error));
  }
  const action = outcomeOfIntent({ id: 'pi_3', status: 'requires_action', next_action: { type: 'redirect_to_url', redirect_to_url: { url: 'https://hooks.stripe.com/3d_secure/x', return_url: 'r' } } });
  assert.ok(action?.kind === 'pending' && action.action === 'three_ds');
  assert.deepEqual(action.redirect, { url: 'https://hooks.stripe.com/3d_secure/x', method: 'GET', parameters: [] });
  assert.equal(outcomeOfIntent({ id: 'pi_4', status: 'requires_action', next_action: { type: 'use_stripe_sdk' } })?.kind, 'declined');
  assert.equal(outcomeOfRefund({ id: 're_1', status: 'pending' })?.kind, 'pending');
  assert.equal(outcomeOfRefund({ id: 're_1', status: 'failed' })?.kind, 'declined');
});

test('an authorization confirms with manual capture, multicapture and our attempt id; follow-ups act on the PaymentIntent', () => {
  const auth = formOf({ operation: 'authorize', attemptId: 'a'.repeat(32), amount: eur(9200), live: false, card, testParameters: {}, returnUrl: 'https://gw.example/r' });
  assert.equal(auth.path, '/v1/payment_intents');
  const b = Object.fromEntries(auth.body);
  assert.deepEqual([b.amount, b.currency, b.capture_method, b.confirm, b['payment_method_options[card][request_multicapture]'], b['metadata[switchyard_attempt]'], b.return_url, b['payment_method_data[card][exp_year]']],
    ['9200', 'eur', 'manual', 'true', 'if_available', 'a'.repeat(32), 'https://gw.example/r', '2034']);
  assert.equal(formOf({ operation: 'sale', attemptId: 'x', amount: eur(1), live: false, card, testParameters: {} }).body.get('error_on_requires_action'), 'true');
  const capture = formOf({ operation: 'capture', attemptId: 'c'.repeat(32), amount: eur(500), live: false, originalReference: 'pi_123', testParameters: {} });
  assert.equal(capture.path, '/v1/payment_intents/pi_123/capture');
  assert.equal(capture.body.get(`metadata[${captureKey('c'.repeat(32))}]`), '500');
  assert.equal(capture.body.get('final_capture'), 'false');
  assert.equal(formOf({ operation: 'refund', attemptId: 'r', amount: eur(5), live: false, originalReference: 'pi_123', testParameters: {} }).path, '/v1/refunds');
  assert.throws(() => formOf({ operation: 'void', attemptId: 'v', amount: eur(5), live: false, originalReference: 'ch_1', testParameters: {} }));
});

test('Stripe-Signature: verified against the body and the secret, within five minutes', () => {
  const body = '{"id":"evt_1"}';
  const secret = 'whsec_abcdefgh12345678';
  const t = 1_700_000_000;
  const header = signatureHeader(body, secret, t);
  assert.ok(verifySignature(header, body, secret, t + 10));
  assert.equal(verifySignature(header, body.replace('1', '2'), secret, t), false);
  assert.equal(verifySignature(header, body, 'whsec_other0000000', t), false);
  assert.equal(verifySignature(header, body, secret, t + 301), false, 'a replay after the tolerance');
  assert.ok(verifySignature(`t=${t},v1=${'0'.repeat(64)},${header.split(',')[1]}`, body, secret, t), 'one of several v1 signatures');
  assert.equal(verifySignature(undefined, body, secret, t), false);
});

test('settings: keys checked by shape and never repeated in an error', () => {
  assert.ok(parseSettings({ secretKey: 'sk_test_abcdefgh1234', webhookSecret: 'whsec_abcdefgh1234' }).ok);
  for (const bad of [{ secretKey: 'pk_test_abcdefgh1234', webhookSecret: 'whsec_abcdefgh1234' }, { secretKey: 'sk_test_abcdefgh1234', webhookSecret: 'nope' }, { secretKey: 'sk_test_abcdefgh1234', webhookSecret: 'whsec_abcdefgh1234', extra: 1 }]) {
    const r = parseSettings(bad);
    assert.equal(r.ok, false);
    if (!r.ok) assert.ok(!r.error.includes('abcdefgh1234'));
  }
});

test('amounts go in Stripe\'s own minor units: MGA whole, ISK and UGX in hundredths, three-decimal dinars only in tens', () => {
  const at = (op: 'authorize' | 'capture' | 'refund', amount: number, currency: string) => {
    const f = formOf({ operation: op, attemptId: 'a'.repeat(32), amount: money(amount, currency as Currency), live: false, card, testParameters: {}, originalReference: 'pi_123' });
    return Object.fromEntries(f.body);
  };
  assert.equal(at('authorize', 10_000, 'MGA').amount, '100', 'MGA 100.00: Stripe counts ariary whole');
  assert.equal(at('capture', 10_000, 'MGA').amount_to_capture, '100');
  assert.equal(at('authorize', 1500, 'ISK').amount, '150000', 'ISK 1500: two decimals in Stripe\'s API');
  assert.equal(at('refund', 500, 'UGX').amount, '50000');
  assert.equal(at('authorize', 1500, 'JPY').amount, '1500');
  assert.equal(at('authorize', 1230, 'KWD').amount, '1230');
  assert.throws(() => at('authorize', 10_050, 'MGA'), /cannot be sent/);
  assert.throws(() => at('authorize', 1234, 'KWD'), /cannot be sent/);
});

test('a refund Stripe reports failed after it succeeded takes the refund back; an idempotency_error is never a decline', async () => {
  const { createStripeConnector } = await import('./connector.ts');
  const { createServer } = await import('node:http');
  const secret = 'whsec_test0123456789';
  const c = createStripeConnector({ baseUrl: 'http://127.0.0.1:9', secretKey: 'sk_test_x', webhookSecret: secret } as never, 1000);
  const body = JSON.stringify({ id: 'evt_1', object: 'event', type: 'refund.failed', data: { object: { id: 're_1', object: 'refund', status: 'failed', failure_reason: 'expired_or_canceled_card', payment_intent: 'pi_1', metadata: { switchyard_attempt: 'r'.repeat(32) } } } });
  const r = await c.inbound!({ headers: { 'stripe-signature': signatureHeader(body, secret, Math.floor(Date.now() / 1000)) }, body });
  assert.equal(r.settled.length, 1);
  assert.equal(r.settled[0]!.outcome.kind, 'declined');
  assert.equal(r.settled[0]!.reverses, true, 'applied even to a refund already settled approved');
  const ok = JSON.stringify({ id: 'evt_2', object: 'event', type: 'refund.updated', data: { object: { id: 're_2', object: 'refund', status: 'succeeded', payment_intent: 'pi_1', metadata: { switchyard_attempt: 's'.repeat(32) } } } });
  const okr = await c.inbound!({ headers: { 'stripe-signature': signatureHeader(ok, secret, Math.floor(Date.now() / 1000)) }, body: ok });
  assert.equal(okr.settled[0]!.reverses, undefined);

  // The same key with other parameters: the first request under it may have charged.
  const server = createServer((_req, res) => { res.writeHead(400, { 'content-type': 'application/json' }); res.end(JSON.stringify({ error: { type: 'idempotency_error', message: 'Keys for idempotent requests can only be used with the same parameters they were first used with.' } })); });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  try {
    const port = (server.address() as { port: number }).port;
    const s = createStripeConnector({ baseUrl: `http://127.0.0.1:${port}`, secretKey: 'sk_test_x', webhookSecret: secret } as never, 2000);
    await assert.rejects(s.execute({ operation: 'authorize', attemptId: 'a'.repeat(32), amount: eur(9200), live: false, card, testParameters: {} }),
      /without a result/, 'unknown: the attempt is looked up, not declined and moved on from');
  } finally {
    server.close();
  }
});

test('a merchant-initiated charge of a stored card is sent off_session (exempt from 3-D Secure), with no return URL nobody would come back to', () => {
  const mit = Object.fromEntries(formOf({ operation: 'sale', attemptId: 'm', amount: eur(1200), live: false, card, testParameters: {}, merchantInitiated: true, returnUrl: 'https://gw.example/r' }).body);
  assert.equal(mit.off_session, 'true', 'Stripe is not told the shopper is away, so the issuer asks for authentication and the charge fails');
  assert.equal(mit.return_url, undefined);
  assert.equal(mit.error_on_requires_action, undefined);
  const shopperPresent = Object.fromEntries(formOf({ operation: 'sale', attemptId: 's', amount: eur(1200), live: false, card, testParameters: {} }).body);
  assert.equal(shopperPresent.off_session, undefined);
});

test('every request pins the API version the connector reads answers by (Stripe-Version): an account\'s default would decide otherwise', async () => {
  const seen: (string | undefined)[] = [];
  const server = createServer((req, res) => {
    seen.push(req.headers['stripe-version'] as string | undefined);
    req.resume();
    req.on('end', () => res.writeHead(200, { 'content-type': 'application/json' })
      .end(JSON.stringify({ id: 'pi_123', object: 'payment_intent', status: 'requires_capture', amount: 1000, currency: 'eur', metadata: { switchyard_attempt: 'a1' } })));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  try {
    const { port } = server.address() as AddressInfo;
    const c = createStripeConnector({ baseUrl: `http://127.0.0.1:${port}`, secretKey: 'sk_test_abcdefgh12345', webhookSecret: 'whsec_abcdefgh12345' }, 5000);
    assert.equal((await c.execute({ operation: 'authorize', attemptId: 'a1', amount: money(1000, 'EUR' as Currency), live: false, card, testParameters: {} })).kind, 'approved');
    // A lookup (its search answered here with a PaymentIntent, not a list: refused, but sent as any request).
    await c.lookup('a1', { operation: 'authorize', amount: money(1000, 'EUR' as Currency), originalReference: undefined, pspReference: undefined }).catch(() => undefined);
    assert.ok(seen.length >= 2);
    assert.deepEqual(new Set(seen), new Set([stripeApiVersion]));
  } finally {
    server.close();
  }
});

test('the shopper goes in the billing details and shipping, the statement text as the card statement\'s suffix, fitted to Stripe\'s rules', () => {
  const { body } = formOf({
    operation: 'authorize', attemptId: 'a1', amount: eur(500), live: false, card, testParameters: {}, statementText: 'Café "Müller" *1042*',
    shopper: {
      email: 'jane@example.com', ip: '203.0.113.7', billing: { street1: '12 Baker Street', postcode: 'NW1 6XE', country: 'GB' },
      shipping: { street1: '1 Main St', city: 'Springfield', country: 'US', givenName: 'Jane', surname: 'Jones' },
    },
  });
  assert.deepEqual(Object.fromEntries([...body].filter(([k]) => /billing_details|^shipping|statement/.test(k))), {
    'payment_method_data[billing_details][name]': 'Jane Jones', 'payment_method_data[billing_details][email]': 'jane@example.com',
    'payment_method_data[billing_details][address][line1]': '12 Baker Street', 'payment_method_data[billing_details][address][postal_code]': 'NW1 6XE',
    'payment_method_data[billing_details][address][country]': 'GB',
    'shipping[name]': 'Jane Jones', 'shipping[address][line1]': '1 Main St', 'shipping[address][city]': 'Springfield', 'shipping[address][country]': 'US',
    statement_descriptor_suffix: 'Cafe Mulle',
  });
  // A shipping address without a recipient, and a text of digits only: Stripe would refuse both, so neither goes.
  const bare = formOf({ operation: 'sale', attemptId: 'a2', amount: eur(500), live: false, card, testParameters: {}, statementText: '1042', shopper: { shipping: { street1: '1 Main St' } } }).body;
  assert.ok(![...bare.keys()].some((k) => k.startsWith('shipping') || k.startsWith('statement')));
});

test('a 3-D Secure result of the merchant\'s own server goes as Stripe takes one made elsewhere, only whole', () => {
  const external = { status: 'Y', eci: '05', flow: 'frictionless' as const, version: '2.2.0', authenticationValue: 'AAACBllleHchZTBWIGV4AAAAAAA=', dsTransactionId: 'f25084f0-5b16-4c0a-ae5d-b24808a95e4b' };
  const { body } = formOf({ operation: 'authorize', attemptId: 'a1', amount: eur(500), live: false, card, testParameters: {}, returnUrl: 'https://gw.example/r', authentication: external });
  assert.deepEqual(Object.fromEntries([...body].filter(([k]) => k.includes('three_d_secure'))), {
    'payment_method_options[card][three_d_secure][cryptogram]': 'AAACBllleHchZTBWIGV4AAAAAAA=',
    'payment_method_options[card][three_d_secure][electronic_commerce_indicator]': '05',
    'payment_method_options[card][three_d_secure][transaction_id]': 'f25084f0-5b16-4c0a-ae5d-b24808a95e4b',
    'payment_method_options[card][three_d_secure][version]': '2.2.0',
    'payment_method_options[card][three_d_secure][ares_trans_status]': 'Y',
  });
  assert.equal(body.get('return_url'), null, 'Stripe is not asked to authenticate again');
  const noVersion = formOf({ operation: 'authorize', attemptId: 'a2', amount: eur(500), live: false, card, testParameters: {}, authentication: { ...external, version: undefined } }).body;
  assert.ok(![...noVersion.keys()].some((k) => k.includes('three_d_secure')), 'Stripe requires the version: without it nothing is sent');
});
