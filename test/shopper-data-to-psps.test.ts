/**
 * What a /v1 payment's answer echoes of the shopper and the statement text (`customer.*`,
 * `billing.*`, `shipping.*`, `descriptor`) is what its PSP was told: the acquirer's and the issuer's
 * risk checks (3-D Secure 2, the address check) and the shopper's bank statement depend on it.
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { opp, testCard } from './support/harness.ts';
import { authorizeBody, call, configureCascade, instrument, poll, tokenOf, wf } from './support/executions.ts';
import { suiteCards } from './support/fake-psps/bank.ts';
import { oppFakeCredentials } from './support/fake-psps/opp.ts';
import { adyenFakeCredentials } from './support/fake-psps/adyen.ts';
import { gatewayAtRecordedPsps, sentTo } from './support/recorded-psps.ts';

const psps = await gatewayAtRecordedPsps();
after(() => psps.close());
const { gw, toAcquirer, toAdyen } = psps;

const shopper = {
  descriptor: 'ACME SHOES ORDER 1042',
  'billing.street1': '12 Baker Street', 'billing.city': 'London', 'billing.postcode': 'NW1 6XE', 'billing.country': 'GB',
  'shipping.street1': '1 Main St', 'shipping.city': 'Springfield', 'shipping.state': 'IL', 'shipping.postcode': '62701', 'shipping.country': 'US',
  'shipping.givenName': 'Jane', 'shipping.surname': 'Jones',
  'customer.email': 'jane@example.com', 'customer.ip': '203.0.113.7', 'customer.givenName': 'Jane', 'customer.surname': 'Jones',
  'customer.browser.acceptHeader': 'text/html', 'customer.browser.language': 'en-GB', 'customer.browser.userAgent': 'Mozilla/5.0',
  'customer.browser.screenHeight': '900', 'customer.browser.screenWidth': '1440', 'customer.browser.screenColorDepth': '24',
  'customer.browser.timezone': '-60', 'customer.browser.javaEnabled': 'false',
};

test('a /v1 payment\'s shopper, addresses and statement text reach an OPP-family acquirer as the merchant sent them', async () => {
  await configureCascade(gw, { acq: { connector: 'opp', settings: { baseUrl: toAcquirer.url, ...oppFakeCredentials } } }, ['acq']);
  const r = await opp(gw, 'POST', '/v1/payments', { amount: '40.00', currency: 'EUR', paymentType: 'PA', ...testCard, ...shopper });
  assert.match(r.body.result.code, /^000\.100\.11/, JSON.stringify(r.body));
  assert.equal(r.body.descriptor, shopper.descriptor);
  const form = new URLSearchParams(sentTo(toAcquirer, '/v1/payments'));
  assert.deepEqual(Object.keys(shopper).filter((k) => form.get(k) !== shopper[k as keyof typeof shopper]), [], 'each is sent as the answer echoes it');
});

test('a /v1 payment\'s shopper reaches Adyen as its risk checks and 3-D Secure 2 take them, the statement text as shopperStatement', async () => {
  await configureCascade(gw, { ady: { connector: 'adyen', settings: { baseUrl: toAdyen.url, ...adyenFakeCredentials } } }, ['ady']);
  const r = await opp(gw, 'POST', '/v1/payments', { amount: '40.00', currency: 'EUR', paymentType: 'PA', ...testCard, ...shopper });
  assert.match(r.body.result.code, /^000\.100\.11/, JSON.stringify(r.body));
  const body = JSON.parse(sentTo(toAdyen, '/payments')!);
  assert.equal(body.shopperStatement, 'ACME SHOES ORDER 1042');
  assert.equal(body.shopperEmail, 'jane@example.com');
  assert.equal(body.shopperIP, '203.0.113.7');
  assert.deepEqual(body.billingAddress, { street: '12 Baker Street', houseNumberOrName: 'NA', city: 'London', postalCode: 'NW1 6XE', country: 'GB' });
  assert.deepEqual(body.deliveryAddress, { street: '1 Main St', houseNumberOrName: 'NA', city: 'Springfield', postalCode: '62701', country: 'US', stateOrProvince: 'IL', firstName: 'Jane', lastName: 'Jones' });
  assert.deepEqual(body.browserInfo, {
    acceptHeader: 'text/html', userAgent: 'Mozilla/5.0', language: 'en-GB', colorDepth: 24, screenHeight: 900, screenWidth: 1440, timeZoneOffset: -60, javaEnabled: false,
  });
});

test('a merchant-initiated charge of a stored card tells no browser or IP address: the shopper is not there', async () => {
  await configureCascade(gw, { acq: { connector: 'opp', settings: { baseUrl: toAcquirer.url, ...oppFakeCredentials } } }, ['acq']);
  const registration = await opp(gw, 'POST', '/v1/registrations', { ...testCard });
  assert.equal(registration.status, 200, JSON.stringify(registration.body));
  const charged = await opp(gw, 'POST', `/v1/registrations/${registration.body.id}/payments`, {
    amount: '9.99', currency: 'EUR', paymentType: 'DB', 'standingInstruction.mode': 'REPEATED', 'standingInstruction.type': 'UNSCHEDULED',
    'standingInstruction.source': 'MIT', ...shopper,
  });
  assert.match(charged.body.result.code, /^000\.100\.11/, JSON.stringify(charged.body));
  const form = new URLSearchParams(sentTo(toAcquirer, '/v1/payments'));
  assert.equal(form.get('standingInstruction.source'), 'MIT');
  assert.deepEqual([...form.keys()].filter((k) => k === 'customer.ip' || k.startsWith('customer.browser.')), []);
  assert.equal(form.get('billing.postcode'), 'NW1 6XE', 'the address still goes, for the address check');
  assert.equal(form.get('descriptor'), shopper.descriptor);
});

test('an executions authorization tells the PSP the shopper\'s browser the SDK put in its meta, the IP and the e-mail of the execution\'s', async () => {
  await configureCascade(gw, { ady: { connector: 'adyen', settings: { baseUrl: toAdyen.url, ...adyenFakeCredentials } } }, ['ady']);
  const token = await tokenOf(gw);
  const created = await call(gw, 'POST', wf, {
    token, body: {
      merchantReference: 'order-7', holderReference: 'customer-7', workspaceId: gw.merchant.workspaceId,
      meta: { customer: { reference: 'c-7', email: 'jane@example.com' }, clientContext: { ipAddress: '203.0.113.7', osType: 'web' } },
    },
  });
  assert.equal(created.status, 201, JSON.stringify(created.body));
  const clientContext = {
    userAgent: 'Mozilla/5.0', language: 'en-GB', screenHeight: 900, screenWidth: 1440, colorDepth: 24, timeZoneOffset: -60,
    acceptHeader: 'text/html', javaEnabled: false, javaScriptEnabled: true, osType: 'web',
  };
  const instrumentId = await instrument(gw, token, suiteCards.approved, 'customer-7');
  const ack = await call(gw, 'POST', `${wf}/${created.body.id}/authorize`, { token, body: { ...authorizeBody(instrumentId, '20.00'), meta: { clientContext } } });
  assert.equal(ack.status, 200, JSON.stringify(ack.body));
  assert.equal((await poll(gw, token, created.body.id, ['created', 'authorizeRequested'])).status, 'authorized');
  const body = JSON.parse(sentTo(toAdyen, '/payments')!);
  assert.equal(body.shopperEmail, 'jane@example.com');
  assert.equal(body.shopperIP, '203.0.113.7');
  assert.deepEqual(body.browserInfo, {
    acceptHeader: 'text/html', userAgent: 'Mozilla/5.0', language: 'en-GB', colorDepth: 24, screenHeight: 900, screenWidth: 1440,
    timeZoneOffset: -60, javaEnabled: false, javaScriptEnabled: true,
  });
});

test('a browser value with a control character, or past 2048 characters, is refused naming it: it would go to the PSP', async () => {
  for (const [name, value] of [['customer.browser.userAgent', 'Mozilla/5.0\u0000'], ['customer.browser.acceptHeader', 'x'.repeat(2049)]] as const) {
    const r = await opp(gw, 'POST', '/v1/payments', { amount: '40.00', currency: 'EUR', paymentType: 'DB', ...testCard, [name]: value });
    assert.equal(r.status, 400, JSON.stringify(r.body));
    assert.deepEqual(r.body.result.parameterErrors.map((e: { name: string }) => e.name), [name]);
  }
});
