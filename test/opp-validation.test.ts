/**
 * /v1 request validation against a real gateway: authentication, initial-payment parameters,
 * hostile input and back-office parameters. Every answer must carry the platform envelope
 * (`result`, `buildNumber`, `timestamp`, `ndc`), and every refused request must leave no trace:
 * nothing stored (the query API still answers 700.400.580 for the request's merchantTransactionId)
 * and no call to the acquirer.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { opp, pay, startGateway, testCard, type Gateway, type OppResponse } from './support/harness.ts';
import type { MerchantCredentials } from '../src/merchants/service.ts';

/** The descriptions clients match on (reference §5.2 where it lists the code, else the platform's list). */
const descriptions: Record<string, string> = {
  '000.000.100': 'successful request',
  '000.100.110': "Request successfully processed in 'Merchant in Integrator Test Mode'",
  '100.100.100': 'request contains no creditcard, bank account number or bank name',
  '100.100.101': 'invalid creditcard, bank account number or bank name',
  '100.100.201': 'invalid month',
  '100.100.300': 'request contains no year',
  '100.100.303': 'card expired',
  '100.100.401': 'cc/bank account holder too short or too long',
  '100.100.500': 'request contains no credit card brand',
  '100.100.501': 'invalid credit card brand',
  '100.100.601': 'invalid CVV/brand combination',
  '100.100.700': 'invalid cc number/brand combination',
  '100.300.101': 'invalid test mode (please use LIVE or INTEGRATOR_TEST or CONNECTOR_TEST)',
  '100.370.102': 'malformed responseUrl in Transaction/Frontend',
  '100.550.300': 'request contains no amount or too low amount',
  '100.550.401': 'invalid currency',
  '100.700.201': 'customer.givenName length must be between 0 and 50',
  '100.700.101': 'customer.surname length must be between 0 and 50',
  '100.800.201': 'zip too long',
  '100.800.301': 'city too long',
  '100.900.300': "invalid mobile phone number (has to start with a digit or a '+', at least 7 and max 25 chars long)",
  '100.800.101': 'The combination of street1 and street2 must not exceed 201 characters.',
  '100.800.501': 'invalid country',
  '100.900.101': 'invalid email address (probably invalid syntax)',
  '100.900.105': 'email address too long (max 50 chars)',
  '100.900.200': "invalid phone number (has to start with a digit or a '+', at least 7 and max 25 chars long)",
  '100.900.401': 'invalid ip number',
  '100.900.450': 'invalid birthdate',
  '200.300.404': 'invalid or missing parameter',
  '600.200.500': 'Invalid payment data. You are not configured for this currency or sub type (country or brand)',
  '700.400.510': 'capture needs at least one successful transaction of type (PA)',
  '700.400.530': 'reversal needs at least one successful transaction of type (CP or DB or RB or PA)',
  '700.400.580': 'cannot find transaction',
  '800.900.300': 'invalid authentication information',
};

const amountRule = 'must match ^[0-9]{1,12}(\\.[0-9]{2})?$';
const hex32 = /^[0-9a-f]{32}$/;

let gw: Gateway;
let other: MerchantCredentials;
/** Every result code a response in this file carried, checked against GET /v1/resultcodes at the end. */
const seen = new Set<string>();

before(async () => {
  gw = await startGateway();
  other = await gw.app.merchants.create({ name: 'Other' });
});
after(async () => { await gw?.close(); });

const otherGw = () => ({ url: gw.url, merchant: other });
const uniqueMtx = (label: string) => `val-${label}-${randomBytes(8).toString('hex')}`;

/** Acquirer calls so far: a refused request must not reach the PSP. */
function pspCalls(): number {
  const received = (gw.app.processor as { received?: ReadonlyMap<string, unknown> }).received;
  assert.ok(received, 'the test gateway runs the simulated acquirer');
  return received.size;
}

interface RawResponse extends OppResponse { text: string }

/** A request built by hand: any header, any body, any content type. */
async function raw(method: string, path: string, options: { headers?: Record<string, string>; body?: string } = {}): Promise<RawResponse> {
  const res = await fetch(gw.url + path, { method, headers: options.headers ?? {}, ...(options.body !== undefined ? { body: options.body } : {}) });
  const text = await res.text();
  let body: any;
  try { body = text ? JSON.parse(text) : undefined; } catch { body = undefined; }
  return { status: res.status, headers: res.headers, body, text };
}

const bearer = (token = gw.merchant.accessToken) => ({ authorization: `Bearer ${token}` });
const formHeaders = (token?: string) => ({ ...bearer(token), 'content-type': 'application/x-www-form-urlencoded;charset=UTF-8' });

interface Expect {
  /** The parameter the refusal names in result.parameterErrors. */
  field?: string;
  /** Its message, when the platform's wording is known. */
  message?: string | RegExp;
  /** The entity id the ndc must start with (the caller's, once authenticated). */
  ndcEntity?: string;
}

/** Status, result code + catalogue description, envelope; returns the named parameter error, if any. */
function expectAnswer(res: OppResponse, status: number, code: string, expect: Expect = {}) {
  const body = res.body;
  assert.ok(body && typeof body === 'object', `a JSON body (HTTP ${res.status})`);
  assert.equal(res.status, status, `HTTP status; body ${JSON.stringify(body)}`);
  assert.match(res.headers.get('content-type') ?? '', /^application\/json/);
  assert.equal(body.result?.code, code, `result code; body ${JSON.stringify(body.result)}`);
  seen.add(code);
  // The catalogue's words, or those words followed by what to do (docs/errors.md).
  const description = String(body.result.description);
  assert.ok(description === descriptions[code] || description.startsWith(`${descriptions[code]}: `), `description of ${code}: ${description}`);
  assertEnvelope(body, expect.ndcEntity);
  if (status >= 400) assert.equal(body.id, undefined, 'a refusal carries no transaction id');
  if (expect.field === undefined) return undefined;
  const errors = body.result.parameterErrors;
  assert.ok(Array.isArray(errors), `parameterErrors present; result ${JSON.stringify(body.result)}`);
  const entry = errors.find((e: { name: string }) => e.name === expect.field);
  assert.ok(entry, `parameterErrors names ${expect.field}: ${JSON.stringify(errors)}`);
  assert.equal(typeof entry.message, 'string');
  assert.ok('value' in entry, 'each parameter error carries its value (null when absent)');
  if (typeof expect.message === 'string') assert.equal(entry.message, expect.message);
  else if (expect.message) assert.match(entry.message, expect.message);
  return entry as { name: string; value: string | null; message: string };
}

/** The four envelope fields every answer carries (decision 3). */
function assertEnvelope(body: Record<string, unknown>, ndcEntity?: string) {
  assert.match(String(body.buildNumber), /^[0-9a-f]{40}@\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2} \+0000$/, 'buildNumber');
  const ts = String(body.timestamp);
  assert.match(ts, /^\d{4}-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01]) ([01]\d|2[0-3]):[0-5]\d:[0-5]\d\+0000$/, 'timestamp');
  const at = Date.parse(ts.replace(' ', 'T').replace('+0000', 'Z'));
  assert.ok(Math.abs(at - Date.now()) < 10 * 60_000, `timestamp ${ts} is now, in UTC`);
  assert.match(String(body.ndc), /^[0-9a-f]{32}_[0-9a-f]{32}$/, 'ndc is <entityId>_<32 hex>');
  if (ndcEntity !== undefined) assert.ok(String(body.ndc).startsWith(`${ndcEntity}_`), `ndc ${body.ndc} names entity ${ndcEntity}`);
}

/** Nothing was stored under this merchantTransactionId (for the given merchant, ours by default). */
async function assertNothingStored(mtx: string, as: { url: string; merchant: MerchantCredentials } = gw) {
  const q = await opp(as, 'GET', '/v1/query', { merchantTransactionId: mtx });
  expectAnswer(q, 400, '700.400.580', { ndcEntity: as.merchant.entityId });
}

/** A valid initial payment apart from `overrides` ('' removes a parameter: empty counts as absent). */
const validPayment = (overrides: Record<string, string> = {}) =>
  ({ entityId: gw.merchant.entityId, amount: '92.00', currency: 'EUR', paymentType: 'DB', ...testCard, ...overrides });

/** Sends an initial payment that must be refused, and checks it left nothing behind. */
async function refusedPayment(overrides: Record<string, string>, status: number, code: string, expect: Expect = {}) {
  const mtx = uniqueMtx('refused');
  const calls = pspCalls();
  const res = await pay(gw, { ...overrides, merchantTransactionId: mtx });
  // Once authenticated, the ndc names the caller's entity.
  const ndcEntity = 'entityId' in overrides || status === 401 ? undefined : gw.merchant.entityId;
  const entry = expectAnswer(res, status, code, { ndcEntity, ...expect });
  assert.equal(pspCalls(), calls, 'the acquirer was not called');
  await assertNothingStored(mtx);
  return { res, entry, mtx };
}

/** Sends an initial payment that must succeed, and checks it is stored. */
async function acceptedPayment(overrides: Record<string, string>) {
  const mtx = uniqueMtx('ok');
  const res = await pay(gw, { ...overrides, merchantTransactionId: mtx });
  expectAnswer(res, 200, '000.100.110', { ndcEntity: gw.merchant.entityId });
  assert.match(res.body.id, hex32);
  const q = await opp(gw, 'GET', '/v1/query', { merchantTransactionId: mtx });
  expectAnswer(q, 200, '000.000.100', { ndcEntity: gw.merchant.entityId });
  assert.deepEqual(q.body.payments.map((p: { id: string }) => p.id), [res.body.id]);
  return res;
}

// ---------------------------------------------------------------------------------------------
// Authentication (reference §2)
// ---------------------------------------------------------------------------------------------

test('the nothing-stored check can see a stored payment (so its 700.400.580 means something)', async () => {
  await acceptedPayment({});
});

for (const [label, headers] of [
  ['missing Authorization header', () => ({})],
  ['an unknown bearer token', () => bearer('d3Jvbmd8dG9rZW4=')],
  ['a malformed header (Basic scheme)', () => ({ authorization: `Basic ${Buffer.from('user:pass').toString('base64')}` })],
  ['the right token under the Basic scheme', () => ({ authorization: `Basic ${gw.merchant.accessToken}` })],
  ['a Bearer scheme without a token', () => ({ authorization: 'Bearer ' })],
  ['the right token followed by junk', () => ({ authorization: `Bearer ${gw.merchant.accessToken} junk` })],
  ['the bare right token without a scheme', () => ({ authorization: gw.merchant.accessToken })],
] as const) {
  test(`POST /v1/payments with ${label} → 401 800.900.300 + www-authenticate`, async () => {
    const mtx = uniqueMtx('auth');
    const calls = pspCalls();
    const res = await raw('POST', '/v1/payments', {
      headers: { ...headers(), 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams(validPayment({ merchantTransactionId: mtx })).toString(),
    });
    expectAnswer(res, 401, '800.900.300');
    assert.match(res.headers.get('www-authenticate') ?? '', /^Bearer\b.*error="invalid_token"/);
    assert.equal(pspCalls(), calls);
    await assertNothingStored(mtx);
  });
}

test('GET /v1/query with a wrong token → 401 800.900.300 + www-authenticate', async () => {
  const res = await opp(gw, 'GET', '/v1/query', { merchantTransactionId: 'x' }, 'not-a-token');
  expectAnswer(res, 401, '800.900.300');
  assert.match(res.headers.get('www-authenticate') ?? '', /^Bearer\b/);
  const none = await opp(gw, 'GET', '/v1/query', { merchantTransactionId: 'x' }, null);
  expectAnswer(none, 401, '800.900.300');
  assert.match(none.headers.get('www-authenticate') ?? '', /^Bearer\b/);
});

test('the entity the executions dialect keeps for its own payments is not a /v1 entity: 401 800.900.300, and /v1 lookups never show executions payments', async () => {
  const m = (await gw.app.merchants.byId(gw.merchant.merchantId))!;
  const hidden = await gw.app.merchants.executionsEntity(m);
  const mtx = uniqueMtx('exec-entity');
  const calls = pspCalls();
  const payment = await opp(gw, 'POST', '/v1/payments', validPayment({ merchantTransactionId: mtx, entityId: hidden.id }));
  expectAnswer(payment, 401, '800.900.300');
  assert.equal(pspCalls(), calls);
  const query = await opp(gw, 'GET', '/v1/query', { entityId: hidden.id, merchantTransactionId: mtx });
  expectAnswer(query, 401, '800.900.300');
});

test('valid token, missing entityId → 400 200.300.404 naming entityId', async () => {
  await refusedPayment({ entityId: '' }, 400, '200.300.404', { field: 'entityId', message: 'may not be empty' });
  const get = await opp(gw, 'GET', '/v1/query', { entityId: '', merchantTransactionId: 'x' });
  expectAnswer(get, 400, '200.300.404', { field: 'entityId' });
});

test("valid token with another merchant's entityId → 401 800.900.300 (and nothing stored for either)", async () => {
  const { mtx } = await refusedPayment({ entityId: other.entityId }, 401, '800.900.300');
  await assertNothingStored(mtx, otherGw());
  // The other way round: their token, our entity.
  const res = await opp(otherGw(), 'POST', '/v1/payments', validPayment({ merchantTransactionId: mtx }));
  expectAnswer(res, 401, '800.900.300');
  await assertNothingStored(mtx);
  await assertNothingStored(mtx, otherGw());
});

test('an entityId that is not an entity at all → 401 800.900.300', async () => {
  await refusedPayment({ entityId: 'f'.repeat(32) }, 401, '800.900.300');
});

test('ndc never echoes an unvalidated entityId', async () => {
  const res = await raw('POST', '/v1/payments', { headers: formHeaders('wrong'), body: 'entityId=%3Cscript%3Ealert(1)%3C%2Fscript%3E' });
  expectAnswer(res, 401, '800.900.300');
  assert.ok(!res.text.includes('<script>'));
});

test('authentication.entityId is accepted as an alias of entityId on POST', async () => {
  const res = await acceptedPayment({ entityId: '', 'authentication.entityId': gw.merchant.entityId });
  assert.equal(res.body.amount, '92.00');
});

test('GET takes entityId from the query string (status and query calls)', async () => {
  const paid = await acceptedPayment({});
  const status = await opp(gw, 'GET', `/v1/payments/${paid.body.id}`);
  expectAnswer(status, 200, '000.100.110', { ndcEntity: gw.merchant.entityId });
  assert.equal(status.body.id, paid.body.id);
  const query = await opp(gw, 'GET', `/v1/query/${paid.body.id}`, { entityId: '', 'authentication.entityId': gw.merchant.entityId });
  expectAnswer(query, 200, '000.100.110', { ndcEntity: gw.merchant.entityId });
  assert.equal(query.body.id, paid.body.id);
  // Someone else's entity in the query string: refused like on POST.
  const foreign = await opp(gw, 'GET', `/v1/query/${paid.body.id}`, { entityId: other.entityId });
  expectAnswer(foreign, 401, '800.900.300');
});

// ---------------------------------------------------------------------------------------------
// Initial payment validation (reference §3.2, §3.3, decision 4)
// ---------------------------------------------------------------------------------------------

const noCard = { 'card.number': '', 'card.holder': '', 'card.expiryMonth': '', 'card.expiryYear': '', 'card.cvv': '', paymentBrand: '' };

const refusals: { label: string; params: Record<string, string>; code: string; field?: string; message?: string | RegExp }[] = [
  { label: 'missing paymentType', params: { paymentType: '' }, code: '200.300.404', field: 'paymentType', message: 'may not be empty' },
  { label: 'paymentType RV on /v1/payments', params: { paymentType: 'RV' }, code: '200.300.404', field: 'paymentType', message: 'must be one of [PA, DB, CD, PA.CP]' },
  { label: 'missing amount', params: { amount: '' }, code: '200.300.404', field: 'amount', message: 'may not be empty' },
  { label: 'missing currency', params: { currency: '' }, code: '200.300.404', field: 'currency', message: 'may not be empty' },
  { label: 'amount -20.20', params: { amount: '-20.20' }, code: '200.300.404', field: 'amount', message: amountRule },
  { label: 'amount 92.0', params: { amount: '92.0' }, code: '200.300.404', field: 'amount', message: amountRule },
  { label: 'amount 92.001', params: { amount: '92.001' }, code: '200.300.404', field: 'amount', message: amountRule },
  { label: 'amount 1e3', params: { amount: '1e3' }, code: '200.300.404', field: 'amount', message: amountRule },
  { label: 'amount of 13 integer digits', params: { amount: '1234567890123.00' }, code: '200.300.404', field: 'amount', message: amountRule },
  { label: 'unicode digits in amount (９２.００)', params: { amount: '９２.００' }, code: '200.300.404', field: 'amount', message: amountRule },
  { label: 'JPY with decimals (92.00)', params: { currency: 'JPY', amount: '92.00' }, code: '200.300.404', field: 'amount', message: 'must match ^[0-9]{1,12}$' },
  { label: 'KWD with two decimals (1.25)', params: { currency: 'KWD', amount: '1.25' }, code: '200.300.404', field: 'amount', message: /^must match / },
  { label: 'amount 0.00', params: { amount: '0.00' }, code: '100.550.300', field: 'amount' },
  { label: 'currency eur (lower case)', params: { currency: 'eur' }, code: '200.300.404', field: 'currency', message: /^must match / },
  { label: 'currency EURO', params: { currency: 'EURO' }, code: '200.300.404', field: 'currency', message: /^must match / },
  { label: 'currency XYZ', params: { currency: 'XYZ' }, code: '100.550.401', field: 'currency' },
  { label: 'no card fields and no brand', params: noCard, code: '200.300.404', field: 'paymentBrand', message: 'card properties must be set' },
  { label: 'card fields without a brand', params: { paymentBrand: '' }, code: '100.100.500', field: 'paymentBrand' },
  { label: 'unknown brand FOO', params: { paymentBrand: 'FOO' }, code: '100.100.501', field: 'paymentBrand' },
  { label: 'brand without card fields', params: { ...noCard, paymentBrand: 'VISA' }, code: '200.300.404', field: 'paymentBrand', message: 'card properties must be set' },
  { label: 'card number with letters', params: { 'card.number': '4200abcd00000000' }, code: '100.100.101', field: 'card.number' },
  { label: 'card number too short', params: { 'card.number': '42000000' }, code: '100.100.101', field: 'card.number' },
  { label: 'card number too long', params: { 'card.number': '42000000000000000000' }, code: '100.100.101', field: 'card.number' },
  { label: 'missing card number', params: { 'card.number': '' }, code: '100.100.100', field: 'card.number' },
  { label: 'Luhn failure 4200000000000001', params: { 'card.number': '4200000000000001' }, code: '100.100.101' },
  { label: 'Luhn failure 4444444444444444', params: { 'card.number': '4444444444444444' }, code: '100.100.101' },
  { label: 'expired card (2020)', params: { 'card.expiryYear': '2020' }, code: '100.100.303' },
  { label: 'brand mismatch (MASTER with a 4200… number)', params: { paymentBrand: 'MASTER' }, code: '100.100.700' },
  { label: 'cvv 12', params: { 'card.cvv': '12' }, code: '100.100.601', field: 'card.cvv' },
  { label: 'cvv with letters', params: { 'card.cvv': '12a' }, code: '100.100.601', field: 'card.cvv' },
  { label: 'VISA with a 4-digit cvv', params: { 'card.cvv': '1234' }, code: '100.100.601' },
  { label: 'AMEX with a 3-digit cvv', params: { paymentBrand: 'AMEX', 'card.number': '377777777777770', 'card.cvv': '123' }, code: '100.100.601' },
  { label: 'expiryMonth 13', params: { 'card.expiryMonth': '13' }, code: '100.100.201', field: 'card.expiryMonth' },
  { label: 'missing expiryYear', params: { 'card.expiryYear': '' }, code: '100.100.300', field: 'card.expiryYear', message: 'may not be empty' },
  { label: 'holder of one character', params: { 'card.holder': 'J' }, code: '100.100.401', field: 'card.holder' },
  { label: 'invalid customer.email', params: { 'customer.email': 'not-an-email' }, code: '100.900.101', field: 'customer.email' },
  { label: 'customer.email over 50 chars', params: { 'customer.email': `${'a'.repeat(45)}@example.com` }, code: '100.900.105', field: 'customer.email' },
  { label: 'customer.givenName over 50 chars', params: { 'customer.givenName': 'G'.repeat(51) }, code: '100.700.201', field: 'customer.givenName' },
  { label: 'customer.phone with a control character', params: { 'customer.phone': '+49 30\u0007 1234567' }, code: '100.900.200', field: 'customer.phone' },
  { label: 'customer.mobile with a line break', params: { 'customer.mobile': '0151 234\n5678' }, code: '100.900.300', field: 'customer.mobile' },
  { label: 'customer.phone over 50 chars', params: { 'customer.phone': '1'.repeat(51) }, code: '100.900.200', field: 'customer.phone' },
  { label: 'customer.surname with a NUL', params: { 'customer.surname': 'Jo\u0000nes' }, code: '100.700.101', field: 'customer.surname' },
  { label: 'billing.city with a tab', params: { 'billing.city': 'Ber\tlin' }, code: '100.800.301', field: 'billing.city' },
  { label: 'shipping.postcode with an escape', params: { 'shipping.postcode': '10\u001b115' }, code: '100.800.201', field: 'shipping.postcode' },
  { label: 'billing.street1 with a C1 control', params: { 'billing.street1': 'Main St\u0085 1' }, code: '100.800.101', field: 'billing.street1' },
  { label: 'customer.email with a control character', params: { 'customer.email': 'jane\u0001@example.com' }, code: '100.900.101', field: 'customer.email' },
  { label: 'customer.ip 999.1.1.1', params: { 'customer.ip': '999.1.1.1' }, code: '100.900.401', field: 'customer.ip' },
  { label: 'customer.birthDate 1990-13-01', params: { 'customer.birthDate': '1990-13-01' }, code: '100.900.450', field: 'customer.birthDate' },
  { label: 'billing.country Germany', params: { 'billing.country': 'Germany' }, code: '100.800.501', field: 'billing.country' },
  { label: 'billing street1 + street2 over 201 chars', params: { 'billing.street1': 'S'.repeat(150), 'billing.street2': 'T'.repeat(52) }, code: '100.800.101', field: 'billing.street1' },
  { label: 'testMode LIVE', params: { testMode: 'LIVE' }, code: '100.300.101', field: 'testMode' },
  { label: 'shopperResultUrl javascript:alert(1)', params: { shopperResultUrl: 'javascript:alert(1)' }, code: '100.370.102', field: 'shopperResultUrl' },
  { label: 'shopperResultUrl not absolute', params: { shopperResultUrl: '/return' }, code: '100.370.102', field: 'shopperResultUrl' },
  { label: 'customParameters[forceResultCode] unknown (123.456.789)', params: { 'customParameters[forceResultCode]': '123.456.789' }, code: '200.300.404', field: 'customParameters[forceResultCode]' },
];

for (const c of refusals) {
  test(`initial payment: ${c.label} → 400 ${c.code}${c.field ? ` naming ${c.field}` : ''}`, async () => {
    const { entry } = await refusedPayment(c.params, 400, c.code, { field: c.field, message: c.message });
    if (!entry) return;
    const sent = c.params[c.field!] === '' ? null : (c.params[c.field!] ?? null);
    // The value is echoed as sent (null when absent), except card data.
    if (c.field === 'card.number' || c.field === 'card.cvv') assert.ok(entry.value === null || !entry.value.includes(sent ?? '\u0000'), `${c.field} value not echoed`);
    else assert.equal(entry.value, sent);
  });
}

test('phone and mobile numbers as people write them are accepted and echoed as sent', async () => {
  const written = [
    '+1 (555) 123-4567', '(030) 123 456 78', '030/1234-5678', '+44 20 7946 0958 ext. 1234', '555.123.4567', '+49-30-1234567 x12',
    '0049 (0)30 12 34 56', '-', '.', 'n/a', '000-000-0000', '+33 6 12 34 56 78 (mobile)', '#123*', '12',
  ];
  for (const phone of written) {
    const res = await acceptedPayment({ 'customer.phone': phone, 'customer.mobile': phone });
    assert.equal(res.body.customer.phone, phone);
    assert.equal(res.body.customer.mobile, phone);
  }
  await acceptedPayment({ 'customer.phone': '1'.repeat(50) });
});

test('names and addresses are not refused over their format: punctuation, other scripts, placeholders, a two-line street', async () => {
  const res = await acceptedPayment({
    'customer.givenName': 'Zoë-Anne', 'customer.surname': "O'Brien (née Müller)", 'customer.companyName': '株式会社 & Co. / #1',
    'billing.street1': 'Flat 3\nBuilding B, 12 High St.', 'billing.street2': 'c/o Ms. Ng; 2nd floor', 'billing.city': 'St. John\'s',
    'billing.postcode': 'SW1A 1AA', 'billing.state': '—', 'shipping.postcode': '00-950', 'shipping.city': '...',
  });
  assert.equal(res.body.billing.street1, 'Flat 3\nBuilding B, 12 High St.');
  assert.equal(res.body.customer.surname, "O'Brien (née Müller)");
});

test('the street-length check counts street1 + street2 exactly: 201 characters pass', async () => {
  await acceptedPayment({ 'billing.street1': 'S'.repeat(150), 'billing.street2': 'T'.repeat(51) });
});

test('JPY without decimals (92) is accepted and echoed as 92', async () => {
  const res = await acceptedPayment({ currency: 'JPY', amount: '92' });
  assert.equal(res.body.amount, '92');
  assert.equal(res.body.currency, 'JPY');
});

test('KWD with three decimals (1.250) is accepted and echoed as 1.250', async () => {
  const res = await acceptedPayment({ currency: 'KWD', amount: '1.250' });
  assert.equal(res.body.amount, '1.250');
});

test('AMEX 377777777777770 with a 4-digit cvv succeeds', async () => {
  const res = await acceptedPayment({ paymentBrand: 'AMEX', 'card.number': '377777777777770', 'card.cvv': '1234' });
  assert.equal(res.body.paymentBrand, 'AMEX');
  assert.deepEqual({ bin: res.body.card.bin, last4: res.body.card.last4Digits }, { bin: '377777', last4: '7770' });
});

test('an RV posted to /v1/payments with nothing else lists every missing field (reference §4.3 D)', async () => {
  const { res } = await refusedPayment({ ...noCard, paymentType: 'RV', amount: '', currency: '' }, 400, '200.300.404');
  const byName = Object.fromEntries(res.body.result.parameterErrors.map((e: { name: string; value: unknown; message: string }) => [e.name, e]));
  assert.deepEqual(Object.keys(byName).sort(), ['amount', 'currency', 'paymentBrand', 'paymentType']);
  assert.deepEqual(byName.paymentBrand, { name: 'paymentBrand', value: null, message: 'card properties must be set' });
  assert.deepEqual(byName.paymentType, { name: 'paymentType', value: 'RV', message: 'must be one of [PA, DB, CD, PA.CP]' });
  assert.deepEqual(byName.amount, { name: 'amount', value: null, message: 'may not be empty' });
  assert.deepEqual(byName.currency, { name: 'currency', value: null, message: 'may not be empty' });
});

test('several errors at once → 200.300.404 listing every field', async () => {
  const { res } = await refusedPayment({
    paymentType: 'XX', amount: '-1', currency: 'eur', 'card.cvv': '98765', 'card.expiryMonth': '00',
    'customer.email': 'nope', 'customer.ip': '1.2.3', 'billing.country': 'Germany', testMode: 'LIVE',
  }, 400, '200.300.404');
  const names = res.body.result.parameterErrors.map((e: { name: string }) => e.name).sort();
  assert.deepEqual(names, ['amount', 'billing.country', 'card.cvv', 'card.expiryMonth', 'currency', 'customer.email', 'customer.ip', 'paymentType', 'testMode']);
  assert.ok(!JSON.stringify(res.body).includes('98765'), 'the cvv is not echoed');
});

// ---------------------------------------------------------------------------------------------
// Card data never goes back out
// ---------------------------------------------------------------------------------------------

/** The answer's text without the envelope's random parts (short secrets could occur in hex by chance). */
function withoutEnvelope(text: string): string {
  const body = JSON.parse(text);
  delete body.ndc; delete body.timestamp; delete body.buildNumber;
  return JSON.stringify(body);
}

for (const [label, card, code] of [
  ['a Luhn failure', { 'card.number': '4200000000000001', 'card.cvv': '4713' }, '100.100.101'],
  ['a number with letters', { 'card.number': '4200000000x00000', 'card.cvv': '4713' }, '100.100.101'],
  ['a 20-digit number', { 'card.number': '42424242424242424242', 'card.cvv': '4713' }, '100.100.101'],
  ['a bad cvv', { 'card.number': '4242424242424242', 'card.cvv': '47135' }, '100.100.601'],
  ['a cvv of the wrong length for the brand', { 'card.number': '4242424242424242', 'card.cvv': '4713' }, '100.100.601'],
  ['an expired card', { 'card.number': '4242424242424242', 'card.cvv': '471', 'card.expiryYear': '2020' }, '100.100.303'],
] as const) {
  test(`PAN and cvv are not echoed when a payment is refused for ${label}`, async () => {
    const mtx = uniqueMtx('pan');
    const logsBefore = gw.logs.length;
    const res = await raw('POST', '/v1/payments', { headers: formHeaders(), body: new URLSearchParams(validPayment({ ...card, merchantTransactionId: mtx })).toString() });
    expectAnswer(res, 400, code, { ndcEntity: gw.merchant.entityId });
    assert.ok(!res.text.includes(card['card.number']), 'the card number is not in the answer');
    assert.ok(!withoutEnvelope(res.text).includes(card['card.cvv']), 'the cvv is not in the answer');
    for (const line of gw.logs.slice(logsBefore)) {
      assert.ok(!line.includes(card['card.number']), `the card number is not logged: ${line}`);
    }
    await assertNothingStored(mtx);
  });
}

// ---------------------------------------------------------------------------------------------
// Hostile input
// ---------------------------------------------------------------------------------------------

test('600 parameters → 400 200.300.404, not 5xx, nothing stored', async () => {
  const mtx = uniqueMtx('flood');
  const calls = pspCalls();
  const params = new URLSearchParams(validPayment({ merchantTransactionId: mtx }));
  for (let i = 0; i < 600; i++) params.append(`customParameters[p${i}]`, '1');
  const res = await raw('POST', '/v1/payments', { headers: formHeaders(), body: params.toString() });
  expectAnswer(res, 400, '200.300.404');
  assert.ok(res.body.result.parameterErrors?.length > 0);
  assert.equal(pspCalls(), calls);
  await assertNothingStored(mtx);
  // The same flood in a GET query string (short names, to stay under Node's header-size limit).
  const query = new URLSearchParams({ entityId: gw.merchant.entityId, merchantTransactionId: mtx });
  for (let i = 0; i < 600; i++) query.append(`p${i}`, '1');
  const get = await raw('GET', `/v1/query?${query.toString()}`, { headers: bearer() });
  expectAnswer(get, 400, '200.300.404');
});

test('an amount given twice with different values → 400 200.300.404 naming it, nothing stored: which one was meant cannot be known', async () => {
  const mtx = uniqueMtx('twice');
  const calls = pspCalls();
  const body = `${new URLSearchParams(validPayment({ merchantTransactionId: mtx })).toString()}&amount=9200.00`;
  const res = await raw('POST', '/v1/payments', { headers: formHeaders(), body });
  expectAnswer(res, 400, '200.300.404');
  assert.match(JSON.stringify(res.body.result.parameterErrors), /parameter amount is given twice with different values/);
  assert.equal(pspCalls(), calls);
  await assertNothingStored(mtx);
  // The same value twice is one value.
  const same = await raw('POST', '/v1/payments', { headers: formHeaders(), body: `${new URLSearchParams(validPayment({ merchantTransactionId: uniqueMtx('same') })).toString()}&amount=92.00` });
  assert.equal(same.status, 200, JSON.stringify(same.body));
});

test('a 100 KB body → 413 or 400 with the envelope, not 5xx, nothing stored', async () => {
  const mtx = uniqueMtx('big');
  const calls = pspCalls();
  const body = `${new URLSearchParams(validPayment({ merchantTransactionId: mtx })).toString()}&descriptor=${'d'.repeat(100 * 1024)}`;
  const res = await raw('POST', '/v1/payments', { headers: formHeaders(), body });
  assert.ok(res.status === 413 || res.status === 400, `HTTP ${res.status}`);
  expectAnswer(res, res.status, '200.300.404');
  assert.equal(pspCalls(), calls);
  await assertNothingStored(mtx);
});

test('one over-long parameter value → 400 200.300.404, not 5xx', async () => {
  const mtx = uniqueMtx('long');
  const res = await pay(gw, { merchantTransactionId: mtx, descriptor: 'd'.repeat(5000) });
  expectAnswer(res, 400, '200.300.404');
  await assertNothingStored(mtx);
});

test('prototype-polluting names (__proto__[x], customer.__proto__.polluted, constructor.prototype.polluted) stay inert', async () => {
  const hostile = {
    '__proto__[x]': '1', '__proto__.polluted': '1', 'customer.__proto__.polluted': '1', 'constructor.prototype.polluted': '1',
    'cart.items[0].__proto__.polluted': '1', 'billing.constructor.prototype.polluted': '1', 'customParameters[__proto__]': 'y',
  };
  const mtx = uniqueMtx('proto');
  const res = await raw('POST', '/v1/payments', { headers: formHeaders(), body: new URLSearchParams(validPayment({ ...hostile, merchantTransactionId: mtx })).toString() });
  assert.ok(res.status < 500, `no crash: HTTP ${res.status}`);
  assert.ok(res.body?.result?.code, 'a result');
  assertEnvelope(res.body, gw.merchant.entityId);
  seen.add(res.body.result.code);
  const get = await raw('GET', `/v1/query?${new URLSearchParams({ entityId: gw.merchant.entityId, merchantTransactionId: mtx, ...hostile }).toString()}`, { headers: bearer() });
  assert.ok(get.status < 500, `no crash on GET: HTTP ${get.status}`);
  assertEnvelope(get.body, gw.merchant.entityId);
  // Nothing reached the shared prototype, neither here nor in the server (same process).
  assert.equal(({} as Record<string, unknown>).polluted, undefined);
  assert.equal(({} as Record<string, unknown>).x, undefined);
  assert.equal(Object.prototype.hasOwnProperty.call(Object.prototype, 'polluted'), false);
  if (res.status === 200) {
    assert.equal(res.body.customer?.polluted, undefined);
    assert.equal(res.body.billing, undefined, 'billing.constructor… is not echoed as a billing group');
  }
  // The gateway still works afterwards.
  await acceptedPayment({});
});

test('a form body sent as text/plain is read as a form too, or refused with the envelope', async () => {
  const mtx = uniqueMtx('text');
  const res = await raw('POST', '/v1/payments', { headers: { ...bearer(), 'content-type': 'text/plain' }, body: new URLSearchParams(validPayment({ merchantTransactionId: mtx })).toString() });
  assert.ok(res.status < 500, `HTTP ${res.status}`);
  assertEnvelope(res.body);
  seen.add(res.body.result.code);
});

test('a JSON body without the form fields → 400 with parameterErrors (not 415/500)', async () => {
  const res = await raw('POST', '/v1/payments', { headers: { ...bearer(), 'content-type': 'application/json' }, body: JSON.stringify({ hello: 'world' }) });
  expectAnswer(res, 400, '200.300.404');
  assert.ok(res.body.result.parameterErrors?.length > 0);
});

test('malformed JSON → 400 with parameterErrors (not 415/500)', async () => {
  const res = await raw('POST', '/v1/payments', { headers: { ...bearer(), 'content-type': 'application/json' }, body: '{"entityId":' });
  expectAnswer(res, 400, '200.300.404');
  assert.ok(res.body.result.parameterErrors?.length > 0);
});

test('a complete payment sent as JSON is refused: 400 with parameterErrors, nothing stored', async () => {
    const mtx = uniqueMtx('json');
    const res = await raw('POST', '/v1/payments', { headers: { ...bearer(), 'content-type': 'application/json' }, body: JSON.stringify(validPayment({ merchantTransactionId: mtx })) });
    expectAnswer(res, 400, '200.300.404');
    assert.ok(res.body.result.parameterErrors?.length > 0);
    await assertNothingStored(mtx);
  });

test('JSON with non-string values is not a 5xx', async () => {
    const mtx = uniqueMtx('jsonobj');
    const res = await raw('POST', '/v1/payments', {
      headers: { ...bearer(), 'content-type': 'application/json' },
      body: JSON.stringify({ ...validPayment({ merchantTransactionId: mtx }), amount: { value: 92 } }),
    });
    assert.ok(res.status < 500, `HTTP ${res.status}: ${res.text}`);
    expectAnswer(res, 400, '200.300.404');
    await assertNothingStored(mtx);
  });

test('unknown path /v1/nope → 404 with the envelope', async () => {
  for (const method of ['GET', 'POST'] as const) {
    const res = await raw(method, '/v1/nope', { headers: formHeaders(), ...(method === 'POST' ? { body: `entityId=${gw.merchant.entityId}` } : {}) });
    expectAnswer(res, 404, '200.300.404');
  }
});

// ---------------------------------------------------------------------------------------------
// Back-office validation on POST /v1/payments/{id}
// ---------------------------------------------------------------------------------------------

async function authorization(): Promise<string> {
  const res = await acceptedPayment({ paymentType: 'PA' });
  assert.equal(res.body.paymentType, 'PA');
  return res.body.id;
}

/** A back-office call that must be refused and leave nothing behind. */
async function refusedBackOffice(id: string, params: Record<string, string>, code: string, expect: Expect = {}) {
  const mtx = uniqueMtx('bo');
  const calls = pspCalls();
  const res = await opp(gw, 'POST', `/v1/payments/${id}`, { ...params, merchantTransactionId: mtx });
  const entry = expectAnswer(res, 400, code, { ndcEntity: gw.merchant.entityId, ...expect });
  assert.equal(pspCalls(), calls, 'the acquirer was not called');
  await assertNothingStored(mtx);
  return entry;
}

/** The PA is untouched: its full amount can still be captured. */
async function assertStillCapturable(id: string) {
  const mtx = uniqueMtx('cp');
  const cp = await opp(gw, 'POST', `/v1/payments/${id}`, { paymentType: 'CP', amount: '92.00', currency: 'EUR', merchantTransactionId: mtx });
  expectAnswer(cp, 200, '000.100.110', { ndcEntity: gw.merchant.entityId });
  assert.equal(cp.body.referencedId, id);
  const q = await opp(gw, 'GET', '/v1/query', { merchantTransactionId: mtx });
  expectAnswer(q, 200, '000.000.100');
  assert.deepEqual(q.body.payments.map((p: { id: string }) => p.id), [cp.body.id], 'back-office transactions are visible to the nothing-stored check');
}

test('back-office: missing paymentType → 400 200.300.404 naming paymentType', async () => {
  const id = await authorization();
  await refusedBackOffice(id, { amount: '92.00', currency: 'EUR' }, '200.300.404', { field: 'paymentType', message: 'may not be empty' });
  await assertStillCapturable(id);
});

test('back-office: unknown paymentType XX → 400 200.300.404 naming paymentType', async () => {
  const id = await authorization();
  const entry = await refusedBackOffice(id, { paymentType: 'XX', amount: '92.00', currency: 'EUR' }, '200.300.404', { field: 'paymentType', message: /^must be one of \[/ });
  for (const t of ['CP', 'RV', 'RF', 'RB', 'CB', 'CR']) assert.match(entry!.message, new RegExp(`\\b${t}\\b`));
  assert.equal(entry!.value, 'XX');
  await assertStillCapturable(id);
});

test('back-office: an initial type (DB) is not a back-office type', async () => {
  const id = await authorization();
  await refusedBackOffice(id, { paymentType: 'DB', amount: '92.00', currency: 'EUR' }, '200.300.404', { field: 'paymentType' });
  await assertStillCapturable(id);
});

test('back-office: CP without amount → 400 200.300.404 naming amount', async () => {
  const id = await authorization();
  await refusedBackOffice(id, { paymentType: 'CP', currency: 'EUR' }, '200.300.404', { field: 'amount', message: 'may not be empty' });
  await assertStillCapturable(id);
});

test('back-office: CP with a malformed amount → 400 200.300.404 naming amount', async () => {
  const id = await authorization();
  await refusedBackOffice(id, { paymentType: 'CP', amount: '92.0', currency: 'EUR' }, '200.300.404', { field: 'amount', message: amountRule });
  await assertStillCapturable(id);
});

test('back-office: RF without amount/currency → 400 200.300.404 naming both', async () => {
  const id = await authorization();
  const mtx = uniqueMtx('rf');
  const res = await opp(gw, 'POST', `/v1/payments/${id}`, { paymentType: 'RF', merchantTransactionId: mtx });
  expectAnswer(res, 400, '200.300.404', { field: 'amount' });
  expectAnswer(res, 400, '200.300.404', { field: 'currency' });
  await assertNothingStored(mtx);
});

test('back-office: RV needs no amount (succeeds on a PA)', async () => {
  const id = await authorization();
  const res = await opp(gw, 'POST', `/v1/payments/${id}`, { paymentType: 'RV' });
  expectAnswer(res, 200, '000.100.110', { ndcEntity: gw.merchant.entityId });
  assert.equal(res.body.paymentType, 'RV');
  assert.equal(res.body.referencedId, id);
  assert.match(res.body.id, hex32);
  assert.notEqual(res.body.id, id);
});

test('back-office: RC (receipt, listed in the /v1 surface of opp.md) is not refused as an unknown paymentType', async () => {
    const paid = await acceptedPayment({});
    const res = await opp(gw, 'POST', `/v1/payments/${paid.body.id}`, { paymentType: 'RC', amount: '92.00', currency: 'EUR' });
    const names = (res.body.result.parameterErrors ?? []).map((e: { name: string }) => e.name);
    assert.ok(!names.includes('paymentType'), `RC refused as unknown: ${JSON.stringify(res.body.result)}`);
  });

for (const [type, code] of [['CP', '700.400.510'], ['RV', '700.400.530'], ['RF', '600.200.500']] as const) {
  const params: Record<string, string> = type === 'RV' ? { paymentType: type } : { paymentType: type, amount: '10.00', currency: 'EUR' };
  test(`back-office: ${type} on a malformed id (abc) → 400 ${code}`, async () => {
    await refusedBackOffice('abc', params, code);
  });
  test(`back-office: ${type} on an unknown or foreign id → 400 ${code} (no existence leak)`, async () => {
    await refusedBackOffice(randomBytes(16).toString('hex'), params, code);
    const theirs = await opp(otherGw(), 'POST', '/v1/payments', validPayment({ entityId: other.entityId, paymentType: 'PA' }));
    expectAnswer(theirs, 200, '000.100.110', { ndcEntity: other.entityId });
    await refusedBackOffice(theirs.body.id, params, code);
    // Their payment is untouched.
    const q = await opp(otherGw(), 'GET', `/v1/query/${theirs.body.id}`);
    expectAnswer(q, 200, '000.100.110');
    assert.equal(q.body.paymentType, 'PA');
  });
}

// ---------------------------------------------------------------------------------------------
// The catalogue (runs last: it checks every code seen above)
// ---------------------------------------------------------------------------------------------

test('GET /v1/resultcodes lists every code the gateway answered with, with the same description', async () => {
  const res = await opp(gw, 'GET', '/v1/resultcodes');
  expectAnswer(res, 200, '000.000.100');
  const list = res.body.resultCodes as { code: string; description: string }[];
  assert.ok(Array.isArray(list) && list.length > 0);
  assert.deepEqual(list.find((r) => r.code === '000.100.110'), { code: '000.100.110', description: "Request successfully processed in 'Merchant in Integrator Test Mode'" });
  const byCode = new Map(list.map((r) => [r.code, r.description]));
  assert.equal(byCode.size, list.length, 'no code is listed twice');
  for (const r of list) assert.match(r.code, /^\d{3}\.\d{3}\.\d{3}$/);
  assert.ok(seen.size > 20, `the tests above saw many codes (${seen.size})`);
  for (const code of seen) {
    assert.ok(byCode.has(code), `${code} is in the catalogue`);
    if (descriptions[code] !== undefined) assert.equal(byCode.get(code), descriptions[code], `description of ${code}`);
  }
});
