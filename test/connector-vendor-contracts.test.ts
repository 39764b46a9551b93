/**
 * The connectors and their fakes checked against the vendors' own published documents, where a
 * copy is present (SWITCHYARD_VENDOR_DIR, else ../shared/vendor beside the repository): every
 * request the Adyen connector sends is validated against Adyen's Checkout API v71 OpenAPI
 * document, as are the fake's answers and webhooks; the Stripe fake's objects carry exactly the
 * fields of Stripe's own fixtures. Skipped, with a notice, when the documents are absent.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { randomBytes } from 'node:crypto';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { parse as parseYaml } from 'yaml';
import { Cvv, Pan } from '../src/vault/card.ts';
import { money, type Currency } from '../src/money/money.ts';
import type { ConnectorRequest } from '../src/processors/connector.ts';
import { createAdyenConnector } from '../src/processors/adyen/connector.ts';
import { createStripeConnector } from '../src/processors/stripe/connector.ts';
import { startAdyenFake, adyenFakeCredentials, type AdyenFake } from './support/fake-psps/adyen.ts';
import { startStripeFake, stripeFakeCredentials } from './support/fake-psps/stripe.ts';
import { suiteCards } from './support/fake-psps/bank.ts';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const vendorDir = process.env.SWITCHYARD_VENDOR_DIR ?? join(root, '..', 'shared', 'vendor');
const checkout = join(vendorDir, 'adyen', 'CheckoutService-v71.yaml');
const webhooks = join(vendorDir, 'adyen', 'Webhooks-v1.yaml');
const stripeFixtures = join(vendorDir, 'stripe', 'fixtures3.json');
const absent = (file: string) => existsSync(file) ? false : `vendor document absent (${file}); set SWITCHYARD_VENDOR_DIR to validate against it`;
for (const file of [checkout, webhooks, stripeFixtures]) if (!existsSync(file)) console.log(`# notice: ${absent(file)}`);

const card = (n: string) => ({ pan: new Pan(n), cvv: new Cvv('737'), brand: 'VISA' as const, holder: 'Jane Jones', expiryMonth: '03', expiryYear: '30' });
const eur = (minor: number) => money(minor, 'EUR' as Currency);
const id = () => randomBytes(16).toString('hex');

const validators = new Map<string, ReturnType<typeof compile>>();
/** A validator for the named component schemas of an OpenAPI 3.1 document, compiled once per run. */
function validatorOf(file: string) {
  if (!validators.has(file)) validators.set(file, compile(file));
  return validators.get(file)!;
}

/** Vendor extensions and examples are ignored (not strict); formats are not checked. */
function compile(file: string) {
  const doc = parseYaml(readFileSync(file, 'utf8'), { maxAliasCount: -1 });
  const ajv = new Ajv2020({ strict: false, allErrors: true, validateFormats: false });
  ajv.addSchema({ $id: 'vendor', components: doc.components }, 'vendor');
  return (schema: string, value: unknown) => {
    const validate = ajv.getSchema(`vendor#/components/schemas/${schema}`);
    assert.ok(validate, `${schema} is in the document`);
    const ok = validate(value);
    return ok ? [] : (validate.errors ?? []).map((e) => `${e.instancePath} ${e.message}`);
  };
}

let fake: AdyenFake;
before(async () => { fake = await startAdyenFake(); });
after(async () => { await fake?.close(); });

test('every request the Adyen connector sends is valid under Adyen\'s Checkout API v71 document', { skip: absent(checkout) }, async () => {
  const check = validatorOf(checkout);
  const adyen = createAdyenConnector({ baseUrl: fake.url, ...adyenFakeCredentials }, 2000);
  const base = { live: false, testParameters: {} } as const;
  const auth = await adyen.execute({ ...base, operation: 'authorize', attemptId: id(), amount: eur(9_200), card: card(suiteCards.approved), returnUrl: 'https://gw.example/hosted/psp-return/a' });
  assert.equal(auth.kind, 'approved');
  await adyen.execute({ ...base, operation: 'sale', attemptId: id(), amount: eur(100), card: card(suiteCards.soft) });
  // The shopper and the statement text, each where and as the contract puts them.
  await adyen.execute({
    ...base, operation: 'authorize', attemptId: id(), amount: eur(100), card: card(suiteCards.approved), returnUrl: 'https://gw.example/hosted/psp-return/c',
    statementText: 'Café Müller order 1042', shopper: {
      email: 'jane@example.com', ip: '203.0.113.7',
      browser: { acceptHeader: 'text/html', userAgent: 'Mozilla/5.0', language: 'en-GB', screenHeight: '900', screenWidth: '1440', screenColorDepth: '24', timezone: '-60', javaEnabled: 'false', javascriptEnabled: 'true' },
      billing: { street1: '12 Baker Street', city: 'London', postcode: 'NW1 6XE', country: 'GB' },
      shipping: { street1: '1 Main St', street2: 'Apt 4', city: 'Springfield', state: 'IL', postcode: '62701', country: 'US', givenName: 'Jane', surname: 'Jones' },
    },
  });
  const withShopper = fake.requests.at(-1)!.body as Record<string, unknown>;
  assert.deepEqual(Object.keys(withShopper).filter((k) => ['shopperEmail', 'shopperIP', 'browserInfo', 'billingAddress', 'deliveryAddress', 'shopperStatement'].includes(k)).sort(),
    ['billingAddress', 'browserInfo', 'deliveryAddress', 'shopperEmail', 'shopperIP', 'shopperStatement']);
  await adyen.execute({ ...base, operation: 'authorize', attemptId: id(), amount: eur(100), card: card(suiteCards.approved), authentication: { status: 'Y', eci: '05', flow: 'frictionless', version: '2.2.0' } });
  await adyen.execute({ ...base, operation: 'authorize', attemptId: id(), amount: eur(100), card: card(suiteCards.approved), authentication: { status: 'Y', eci: '05', flow: 'challenge', version: '2.2.0' } });
  const challengedId = id();
  const challenged = await adyen.execute({ ...base, operation: 'authorize', attemptId: challengedId, amount: eur(100), card: card(suiteCards.challenge), returnUrl: 'https://gw.example/hosted/psp-return/b' });
  assert.ok(challenged.kind === 'pending' && challenged.redirect);
  const back = new URL((await fetch(challenged.redirect.url, { redirect: 'manual' })).headers.get('location')!);
  await adyen.complete!({ attemptId: challengedId, amount: eur(100), pspReference: challenged.pspReference, parameters: Object.fromEntries(back.searchParams) });
  const follow = (operation: ConnectorRequest['operation'], minor: number): ConnectorRequest => ({ ...base, operation, attemptId: id(), amount: eur(minor), originalReference: auth.pspReference! });
  for (const r of [follow('capture', 5_000), follow('refund', 1_000), follow('void', 4_200)]) await adyen.execute(r);

  const schemaOfPath = (path: string) => path === '/payments' ? 'PaymentRequest' : path === '/payments/details' ? 'PaymentDetailsRequest'
    : path.endsWith('/captures') ? 'PaymentCaptureRequest' : path.endsWith('/refunds') ? 'PaymentRefundRequest' : path.endsWith('/cancels') ? 'PaymentCancelRequest' : undefined;
  assert.deepEqual(new Set(fake.requests.map((r) => schemaOfPath(r.path))), new Set(['PaymentRequest', 'PaymentDetailsRequest', 'PaymentCaptureRequest', 'PaymentRefundRequest', 'PaymentCancelRequest']));
  // The validator does refuse what the contract refuses (so this test can fail).
  assert.notDeepEqual(check('PaymentRequest', { amount: { value: '1.00' }, reference: 'x' }), []);
  for (const r of fake.requests) {
    const schema = schemaOfPath(r.path)!;
    assert.deepEqual(check(schema, r.body), [], `${r.path} as ${schema}`);
    // The card travels only where the contract puts it (paymentMethod), and only to /payments.
    if (schema !== 'PaymentRequest') assert.ok(!JSON.stringify(r.body).includes(suiteCards.approved));
  }
});

test('the Adyen fake answers and notifies as Adyen\'s documents describe', { skip: absent(checkout) || absent(webhooks) }, async () => {
  const check = validatorOf(checkout);
  const post = async (path: string, body: unknown): Promise<any> => (await fetch(fake.url + path, { method: 'POST', headers: { 'x-api-key': adyenFakeCredentials.apiKey, 'content-type': 'application/json' }, body: JSON.stringify(body) })).json();
  const payment = await post('/payments', { merchantAccount: adyenFakeCredentials.merchantAccount, amount: { value: 100, currency: 'EUR' }, reference: id(), returnUrl: 'https://gw.example/r', paymentMethod: { type: 'scheme', number: suiteCards.challenge, expiryMonth: '03', expiryYear: '2030', cvc: '737' } });
  assert.deepEqual(check('PaymentResponse', payment), []);
  const declined = await post('/payments', { merchantAccount: adyenFakeCredentials.merchantAccount, amount: { value: 100, currency: 'EUR' }, reference: id(), returnUrl: 'https://gw.example/r', paymentMethod: { type: 'scheme', number: suiteCards.hard, expiryMonth: '03', expiryYear: '2030' } });
  assert.deepEqual(check('PaymentResponse', declined), []);
  const ok = await post('/payments', { merchantAccount: adyenFakeCredentials.merchantAccount, amount: { value: 100, currency: 'EUR' }, reference: id(), returnUrl: 'https://gw.example/r', paymentMethod: { type: 'scheme', number: suiteCards.approved, expiryMonth: '03', expiryYear: '2030' } });
  const capture = await post(`/payments/${ok.pspReference}/captures`, { merchantAccount: adyenFakeCredentials.merchantAccount, amount: { value: 100, currency: 'EUR' }, reference: id() });
  assert.deepEqual(check('PaymentCaptureResponse', capture), []);
  const checkHooks = validatorOf(webhooks);
  const bodies = fake.takeNotifications().map((b) => JSON.parse(b));
  assert.ok(bodies.some((b) => b.notificationItems[0].NotificationRequestItem.eventCode === 'CAPTURE'));
  for (const b of bodies) {
    const schema = b.notificationItems[0].NotificationRequestItem.eventCode === 'AUTHORISATION' ? 'AuthorisationNotificationRequest' : 'ModificationNotificationRequest';
    assert.deepEqual(checkHooks(schema, b), [], schema);
  }
});

test('the Stripe fake\'s PaymentIntents and Refunds carry the fields of Stripe\'s own fixtures', { skip: absent(stripeFixtures) }, async () => {
  const fixtures = JSON.parse(readFileSync(stripeFixtures, 'utf8')).resources;
  const stripe = await startStripeFake();
  try {
    const connector = createStripeConnector({ baseUrl: stripe.url, ...stripeFakeCredentials }, 2000);
    const auth = await connector.execute({ operation: 'authorize', attemptId: id(), amount: eur(500), live: false, card: card(suiteCards.approved), testParameters: {} });
    await connector.execute({ operation: 'capture', attemptId: id(), amount: eur(500), live: false, originalReference: auth.pspReference!, testParameters: {} });
    await connector.execute({ operation: 'refund', attemptId: id(), amount: eur(200), live: false, originalReference: auth.pspReference!, testParameters: {} });
    const keys = (o: object) => Object.keys(o).sort();
    assert.deepEqual(keys(stripe.intent(auth.pspReference!)!), keys(fixtures.payment_intent));
    assert.deepEqual(keys(stripe.refunds()[0]!), keys(fixtures.refund));
    const [event] = stripe.takeEvents();
    assert.deepEqual(keys(JSON.parse(event!.body)), keys(fixtures.event));
  } finally {
    await stripe.close();
  }
});
