import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Cvv, Pan } from '../../vault/card.ts';
import { money, type Currency } from '../../money/money.ts';
import type { ConnectorRequest } from '../connector.ts';
import { createOppConnector, formOf, outcomeOfPayment } from './connector.ts';
import type { OppSettings } from './settings.ts';

const settings: OppSettings = { baseUrl: 'http://127.0.0.1:1', accessToken: 'secret-token-1234', entityId: 'entity1' };
const card = { pan: new Pan('4200000000000000'), cvv: new Cvv('123'), brand: 'VISA' as const, holder: 'Jane Jones', expiryMonth: '05', expiryYear: '34' };
const eur = (minor: number) => money(minor, 'EUR' as Currency);
const request = (over: Partial<ConnectorRequest> = {}): ConnectorRequest => ({
  operation: 'authorize', attemptId: 'a'.repeat(32), amount: eur(9200), live: false, card, testParameters: {}, ...over,
});

test('result codes map to neutral outcomes by their class', () => {
  const cases: [string, string, string?][] = [
    ['000.000.000', 'approved'], ['000.100.110', 'approved'], ['000.400.000', 'approved'],
    ['000.200.000', 'pending'], ['800.400.500', 'pending'],
    ['800.100.152', 'declined', 'soft'], ['800.100.151', 'declined', 'hard'], ['100.400.319', 'declined', 'fraud'],
    ['200.300.404', 'declined', 'invalid_request'], ['900.100.100', 'declined', 'provider_error'],
  ];
  for (const [code, kind, reason] of cases) {
    const o = outcomeOfPayment({ id: 'p1', result: { code, description: 'd' }, resultDetails: { AcquirerResponse: 'X', card: '4200000000000000' } });
    assert.ok(o, code);
    assert.equal(o.kind, kind, code);
    assert.equal(o.acquirerCode, code);
    assert.equal(o.pspReference, 'p1');
    if (reason) assert.equal(o.kind === 'declined' && o.reason, reason, code);
    // Only the listed details are kept: nothing else the acquirer echoes is stored.
    assert.deepEqual(o.details, { AcquirerResponse: 'X' });
  }
  assert.equal(outcomeOfPayment({ id: 'p1', result: {} }), undefined);
  assert.equal(outcomeOfPayment({ id: 'p1', result: { code: 'garbage' } }), undefined);
});

test('an initial payment is sent with the card, major units by the currency exponent and our attempt id', () => {
  const { path, body } = formOf(settings, request({ testParameters: { forceResultCode: '800.100.152' } }));
  assert.equal(path, '/v1/payments');
  assert.deepEqual(Object.fromEntries(body), {
    entityId: 'entity1', amount: '92.00', currency: 'EUR', paymentType: 'PA', merchantTransactionId: 'a'.repeat(32),
    paymentBrand: 'VISA', 'card.number': '4200000000000000', 'card.holder': 'Jane Jones', 'card.expiryMonth': '05',
    'card.expiryYear': '2034', 'card.cvv': '123', 'customParameters[forceResultCode]': '800.100.152',
  });
  assert.equal(formOf(settings, request({ amount: money(1500, 'JPY' as Currency), operation: 'sale' })).body.get('amount'), '1500');
  // The platform takes at most two decimals: KWD 1.250 goes as 1.25, unless the account takes three.
  assert.equal(formOf(settings, request({ amount: money(1250, 'KWD' as Currency) })).body.get('amount'), '1.25');
  assert.equal(formOf(settings, request({ amount: money(10, 'BHD' as Currency) })).body.get('amount'), '0.01');
  assert.throws(() => formOf(settings, request({ amount: money(1255, 'KWD' as Currency) })), /KWD 1\.255 cannot be sent: this acquirer takes at most two decimals/);
  assert.equal(formOf({ ...settings, currencyDecimals: true }, request({ amount: money(1255, 'KWD' as Currency) })).body.get('amount'), '1.255');
  // A live system never gets test switches.
  assert.equal(formOf(settings, request({ live: true, testParameters: { forceResultCode: '800.100.152' } })).body.has('customParameters[forceResultCode]'), false);
});

test('follow-ups reference the original payment and carry no card', () => {
  for (const [operation, type] of [['capture', 'CP'], ['void', 'RV'], ['refund', 'RF'], ['rebill', 'RB']] as const) {
    const { path, body } = formOf(settings, request({ operation, originalReference: 'orig1', amount: eur(500) }));
    assert.equal(path, '/v1/payments/orig1');
    assert.equal(body.get('paymentType'), type);
    assert.equal(body.get('amount'), '5.00');
    assert.equal(body.has('card.number'), false);
  }
  assert.throws(() => formOf(settings, request({ operation: 'capture' })), /original payment/);
});

/** A stand-in acquirer answering each request with what `answer` says. */
async function acquirer(answer: (req: IncomingMessage, body: string, res: ServerResponse) => void) {
  const seen: { method: string; url: string; auth: string | undefined; body: string }[] = [];
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (c) => { body += c; });
    req.on('end', () => { seen.push({ method: req.method!, url: req.url!, auth: req.headers.authorization, body }); answer(req, body, res); });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return { url, seen, close: () => new Promise<void>((r) => { server.closeAllConnections(); server.close(() => r()); }) };
}

const json = (res: ServerResponse, status: number, body: unknown) => { res.writeHead(status, { 'content-type': 'application/json' }); res.end(JSON.stringify(body)); };

test('execute answers the acquirer\'s outcome, declines included; lost answers are thrown for the reconciler', async (t) => {
  let mode = 'approve';
  const acq = await acquirer((_req, _body, res) => {
    if (mode === 'approve') return json(res, 200, { id: 'p1', result: { code: '000.100.110', description: 'ok' } });
    if (mode === 'decline') return json(res, 400, { id: 'p2', result: { code: '800.100.151', description: 'transaction declined (invalid card)' } });
    if (mode === 'uncertain') return json(res, 200, { id: 'p3', result: { code: '900.100.300', description: 'timeout, uncertain result' } });
    if (mode === 'broken') return json(res, 502, { message: 'bad gateway' });
    // 'silent': never answers; the connector's own timeout abandons the call.
  });
  t.after(() => acq.close());
  // Long enough for a first call on a loaded machine; the silent case waits it out.
  const c = createOppConnector({ ...settings, baseUrl: acq.url }, 1500);

  assert.deepEqual(await c.execute(request()), { kind: 'approved', pspReference: 'p1', acquirerCode: '000.100.110', details: {} });
  assert.equal(acq.seen[0]!.auth, 'Bearer secret-token-1234');
  assert.equal(acq.seen[0]!.url, '/v1/payments');
  mode = 'decline';
  const declined = await c.execute(request());
  assert.equal(declined.kind, 'declined');
  assert.equal(declined.kind === 'declined' && declined.reason, 'hard');
  assert.equal(declined.kind === 'declined' && declined.message, 'transaction declined (invalid card)');
  for (mode of ['uncertain', 'broken', 'silent']) {
    const err: unknown = await c.execute(request()).then(() => undefined, (e: unknown) => e);
    assert.ok(err instanceof Error, mode);
    // Whatever is thrown is logged by the engine: it must hold neither the card nor the token.
    assert.ok(!err.message.includes('4200000000000000') && !err.message.includes('123&') && !err.message.includes('secret-token'), err.message);
  }
  // Nothing is sent for a follow-up lacking its reference.
  const before = acq.seen.length;
  assert.equal((await c.execute(request({ operation: 'capture' }))).kind, 'declined');
  assert.equal(acq.seen.length, before);
});

test('lookup finds an attempt by merchantTransactionId, and knows an unknown one was never received', async (t) => {
  const acq = await acquirer((req, _body, res) => {
    const q = new URL(req.url!, 'http://x').searchParams;
    if (q.get('merchantTransactionId') === 'known') {
      return json(res, 200, { result: { code: '000.000.100' }, payments: [{ id: 'p9', paymentType: 'PA', result: { code: '000.100.110' } }] });
    }
    if (q.get('merchantTransactionId') === 'uncertain') {
      return json(res, 200, { result: { code: '000.000.100' }, payments: [{ id: 'p8', paymentType: 'PA', result: { code: '900.100.300' } }] });
    }
    return json(res, 400, { result: { code: '700.400.580', description: 'cannot find transaction' } });
  });
  t.after(() => acq.close());
  const c = createOppConnector({ ...settings, baseUrl: acq.url }, 1000);
  assert.deepEqual(await c.lookup('known'), { kind: 'approved', pspReference: 'p9', acquirerCode: '000.100.110', details: {} });
  assert.equal(acq.seen[0]!.url, '/v1/query?entityId=entity1&merchantTransactionId=known');
  assert.equal(acq.seen[0]!.method, 'GET');
  assert.equal(await c.lookup('other'), undefined);
  // An acquirer that itself lost the answer knows no outcome yet: never settled as a decline.
  await assert.rejects(c.lookup('uncertain'), /does not know the outcome yet/);
});

test('a three-decimal amount is declined before anything is sent where the acquirer takes two; the answer\'s two-decimal echo reads as the amount sent', async () => {
  const sent: string[] = [];
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (c) => { body += c; }).on('end', () => {
      sent.push(new URLSearchParams(body).get('amount') ?? '');
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ id: 'p1', amount: '1.25', currency: 'KWD', paymentType: 'PA', result: { code: '000.100.110', description: 'ok' } }));
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  try {
    const c = createOppConnector({ ...settings, baseUrl: `http://127.0.0.1:${(server.address() as AddressInfo).port}` }, 5000);
    const refused = await c.execute(request({ amount: money(1255, 'KWD' as Currency) }));
    assert.equal(refused.kind === 'declined' && refused.reason, 'not_supported');
    assert.deepEqual(sent, [], 'nothing was sent');
    const approved = await c.execute(request({ amount: money(1250, 'KWD' as Currency) }));
    assert.equal(approved.kind, 'approved', JSON.stringify(approved));
    assert.deepEqual(sent, ['1.25']);
  } finally {
    server.closeAllConnections();
    await new Promise<void>((r) => server.close(() => r()));
  }
});

test('a zero-decimal amount echoed with two decimals ("1500.00") is the amount sent; a fraction the currency has not is another amount', async () => {
  const sent: string[] = [];
  let echo = '';
  const psp = await acquirer((_req, body, res) => {
    const amount = new URLSearchParams(body).get('amount') ?? '';
    sent.push(amount);
    json(res, 200, { id: 'p1', amount: echo || `${amount}.00`, currency: 'JPY', paymentType: 'PA', result: { code: '000.100.110', description: 'ok' } });
  });
  try {
    const c = createOppConnector({ ...settings, baseUrl: psp.url }, 5000);
    const jpy = money(1500, 'JPY' as Currency);
    const approved = await c.execute(request({ amount: jpy }));
    assert.equal(approved.kind, 'approved', JSON.stringify(approved));
    assert.deepEqual(sent, ['1500'], 'sent in whole yen');
    echo = '1500.50';
    await assert.rejects(c.execute(request({ amount: jpy })), /1500\.50/, 'half a yen is not the amount asked');
  } finally {
    await psp.close();
  }
});

test('card.holder is sent within the platform\'s 45 characters, cut between characters', () => {
  const holder = 'Ana ' + '𠮷'.repeat(60);
  const { body } = formOf({ baseUrl: 'http://127.0.0.1:1', accessToken: 't', entityId: 'e' }, {
    operation: 'authorize', attemptId: 'a'.repeat(32), amount: money(100, 'EUR' as Currency), live: false, testParameters: {},
    card: { pan: new Pan('4200000000000000'), cvv: new Cvv('123'), brand: 'VISA', holder, expiryMonth: '05', expiryYear: '34' },
  });
  const sent = body.get('card.holder')!;
  assert.ok(sent.length <= 45 && sent.length >= 44, `sent ${sent.length} UTF-16 units`);
  assert.ok(sent.isWellFormed());
  assert.ok(holder.startsWith(sent));
});

test('the shopper and the statement text go under the platform\'s own names, on payments that reach the issuer only', () => {
  const shopper = {
    email: 'jane@example.com', ip: '203.0.113.7', givenName: 'Jane', browser: { acceptHeader: 'text/html', screenColorDepth: '24', timezone: '-60' },
    billing: { street1: '12 Baker Street', city: 'London', postcode: 'NW1 6XE', country: 'GB' }, shipping: { street1: '1 Main St', surname: 'Jones' },
  };
  const { body } = formOf(settings, request({ shopper, statementText: 'ACME SHOES ORDER 1042' }));
  assert.deepEqual(Object.fromEntries([...body].filter(([k]) => /^(customer|billing|shipping)\.|^descriptor$/.test(k))), {
    'customer.email': 'jane@example.com', 'customer.ip': '203.0.113.7', 'customer.givenName': 'Jane',
    'customer.browser.acceptHeader': 'text/html', 'customer.browser.screenColorDepth': '24', 'customer.browser.timezone': '-60',
    'billing.street1': '12 Baker Street', 'billing.city': 'London', 'billing.postcode': 'NW1 6XE', 'billing.country': 'GB',
    'shipping.street1': '1 Main St', 'shipping.surname': 'Jones', descriptor: 'ACME SHOES ORDER 1042',
  });
  const capture = formOf(settings, request({ operation: 'capture', originalReference: 'ref1', shopper, statementText: 'X' })).body;
  assert.ok(![...capture.keys()].some((k) => /^(customer|billing|descriptor)/.test(k)), 'a capture carries none of it');
});
