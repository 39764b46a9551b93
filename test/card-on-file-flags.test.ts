/**
 * Card-on-file and merchant-initiated payments as the card schemes require them, checked on what
 * the connectors send to recording PSPs: the first (customer-initiated) payment that stores the
 * card is flagged as such, later merchant-initiated ones carry the right model and the first
 * payment's scheme transaction reference.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { opp, startGateway, testCard, type Gateway } from './support/harness.ts';
import { configureCascade } from './support/executions.ts';
import { adyenFakeCredentials } from './support/fake-psps/adyen.ts';
import { oppFakeCredentials } from './support/fake-psps/opp.ts';

/** A PSP that approves every payment and records each request body. */
async function recordingPsp(answer: (path: string, body: any, n: number) => unknown, parse: (raw: string) => any) {
  const bodies: { path: string; body: any }[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = parse(Buffer.concat(chunks).toString('utf8'));
      bodies.push({ path: req.url ?? '', body });
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(answer(req.url ?? '', body, bodies.length)));
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return { url, bodies, close: () => new Promise<void>((r) => { server.closeAllConnections(); server.close(() => r()); }) };
}

const nti = (n: number) => `MCC0${String(n).padStart(6, '0')}0101`;
const acqFirstId = (n: number) => `SCHEME${String(n).padStart(9, '0')}`;
let adyenGivesNti = true;
/** Adyen's references, unique across the file's tests as a PSP's are. */
let adyenReferences = 0;
let adyen: Awaited<ReturnType<typeof recordingPsp>>;
let acq: Awaited<ReturnType<typeof recordingPsp>>;
let gw: Gateway;
before(async () => {
  adyen = await recordingPsp((_p, body, n) => ({
    pspReference: `ADYREF${String(++adyenReferences).padStart(10, '0')}`, merchantReference: body.reference, amount: body.amount, resultCode: 'Authorised',
    // What Adyen answers a payment when it does not tokenize the card: the scheme's transaction id
    // (an account not set up to return it answers none).
    ...(adyenGivesNti ? { additionalData: { networkTxReference: nti(n) } } : {}),
  }), (raw) => (raw ? JSON.parse(raw) : {}));
  acq = await recordingPsp((_p, body, n) => ({
    id: `8ac7a4a1${String(n).padStart(24, '0')}`, paymentType: body.get('paymentType'), amount: body.get('amount'), currency: body.get('currency'),
    merchantTransactionId: body.get('merchantTransactionId'), result: { code: '000.100.110', description: "Request successfully processed in 'Merchant in Integrator Test Mode'" },
    // As the acquirer answers a standing instruction's first payment: the id later charges refer to.
    ...(body.get('standingInstruction.mode') === 'INITIAL' ? { standingInstruction: { mode: 'INITIAL', initialTransactionId: acqFirstId(n) } } : {}),
    timestamp: new Date().toISOString().replace('T', ' ').slice(0, 23) + '+0000', ndc: 'x',
  }), (raw) => new URLSearchParams(raw));
  gw = await startGateway();
});
after(async () => { await gw?.close(); await Promise.all([adyen?.close(), acq?.close()]); });

const viaAdyen = () => configureCascade(gw, { adyenRec: { connector: 'adyen', settings: { baseUrl: adyen.url, ...adyenFakeCredentials } } }, ['adyenRec']);
const viaOpp = () => configureCascade(gw, { oppRec: { connector: 'opp', settings: { baseUrl: acq.url, ...oppFakeCredentials } } }, ['oppRec']);
const paymentBodies = (psp: typeof adyen) => psp.bodies.filter((b) => b.path === '/payments' || b.path === '/v1/payments');

/** The first, customer-initiated payment that stores the card for later merchant-initiated charges. */
async function initialCit(type: 'UNSCHEDULED' | 'RECURRING' = 'UNSCHEDULED') {
  const first = await opp(gw, 'POST', '/v1/payments', {
    ...testCard, amount: '10.00', currency: 'EUR', paymentType: 'DB', createRegistration: 'true',
    'standingInstruction.mode': 'INITIAL', 'standingInstruction.type': type, 'standingInstruction.source': 'CIT',
  });
  assert.match(first.body.result.code, /^000\.100\.11/, JSON.stringify(first.body));
  return first.body;
}
const mit = (registrationId: string, extra: Record<string, string> = {}) => opp(gw, 'POST', `/v1/registrations/${registrationId}/payments`, {
  amount: '10.00', currency: 'EUR', paymentType: 'DB', 'standingInstruction.mode': 'REPEATED', 'standingInstruction.type': 'UNSCHEDULED',
  'standingInstruction.source': 'MIT', ...extra,
});

// First, on the default simulator account (before any test points the workflow at a recording PSP).
test('recurringType=REPEATED (the platform\'s older flag for a repeated, shopper-absent charge) on a registration payment is not sent to a 3-D Secure challenge', async () => {
  const reg = await opp(gw, 'POST', '/v1/registrations', { ...testCard, 'card.number': '4200000000000042' });
  assert.equal(reg.status, 200, JSON.stringify(reg.body));
  const r = await opp(gw, 'POST', `/v1/registrations/${reg.body.id}/payments`, { amount: '10.00', currency: 'EUR', paymentType: 'DB', recurringType: 'REPEATED' });
  assert.equal(r.body.redirect, undefined, `a repeated charge (no shopper) asked for a 3-D Secure challenge: ${JSON.stringify(r.body.result)}`);
  assert.match(r.body.result.code, /^000\.100\.11/, JSON.stringify(r.body.result));
});

test('Adyen: the first customer-initiated payment that stores the card (createRegistration, standing instruction INITIAL) is sent with a recurringProcessingModel', async () => {
  await viaAdyen();
  adyen.bodies.length = 0;
  await initialCit();
  const sent = paymentBodies(adyen)[0]?.body;
  assert.equal(sent?.shopperInteraction, 'Ecommerce');
  assert.ok(['CardOnFile', 'UnscheduledCardOnFile', 'Subscription'].includes(sent?.recurringProcessingModel),
    `the payment that stores the card was sent as a one-off payment: recurringProcessingModel=${sent?.recurringProcessingModel} (Adyen: "Required when creating a token to store payment details")`);
});

test('Adyen: a merchant-initiated charge of a registration carries the first payment\'s networkTxReference (required when Adyen does not tokenize the card)', async () => {
  await viaAdyen();
  adyen.bodies.length = 0;
  const first = await initialCit();
  const firstNti = nti(adyen.bodies.length);
  adyen.bodies.length = 0;
  const r = await mit(first.registrationId, { 'standingInstruction.initialTransactionId': first.standingInstruction?.initialTransactionId ?? '' });
  assert.match(r.body.result.code, /^000\.100\.11/, JSON.stringify(r.body));
  const sent = paymentBodies(adyen)[0]?.body;
  assert.equal(sent?.shopperInteraction, 'ContAuth');
  assert.equal(sent?.paymentMethod?.cvc, undefined, 'no security code on a merchant-initiated charge');
  assert.equal(sent?.additionalData?.networkTxReference, firstNti,
    `the MIT was sent without the initial payment's scheme transaction id: additionalData=${JSON.stringify(sent?.additionalData)}`);
});

test('Adyen: a merchant-initiated charge of a subscription (standingInstruction.type=RECURRING) is sent as Subscription, not UnscheduledCardOnFile', async () => {
  await viaAdyen();
  const first = await initialCit('RECURRING');
  adyen.bodies.length = 0;
  const r = await mit(first.registrationId, { 'standingInstruction.type': 'RECURRING' });
  assert.match(r.body.result.code, /^000\.100\.11/, JSON.stringify(r.body));
  const sent = paymentBodies(adyen)[0]?.body;
  assert.equal(sent?.shopperInteraction, 'ContAuth');
  assert.equal(sent?.recurringProcessingModel, 'Subscription', `a scheduled subscription renewal was classified as ${sent?.recurringProcessingModel}`);
});

test('OPP acquirer: a merchant-initiated charge passes on the merchant\'s standing instruction (type RECURRING, initialTransactionId), not a fixed UNSCHEDULED without it', async () => {
  await viaOpp();
  acq.bodies.length = 0;
  const first = await initialCit('RECURRING');
  const sentFirst = paymentBodies(acq)[0]?.body as URLSearchParams;
  const initialId = first.standingInstruction?.initialTransactionId;
  assert.equal(typeof initialId, 'string');
  acq.bodies.length = 0;
  const r = await mit(first.registrationId, { 'standingInstruction.type': 'RECURRING', 'standingInstruction.initialTransactionId': initialId });
  assert.match(r.body.result.code, /^000\.100\.11/, JSON.stringify(r.body));
  const sent = paymentBodies(acq)[0]?.body as URLSearchParams;
  assert.equal(sent.get('standingInstruction.source'), 'MIT');
  assert.equal(sent.get('card.cvv'), null);
  const problems: string[] = [];
  if (sentFirst.get('standingInstruction.mode') !== 'INITIAL') problems.push(`the initial CIT went without standingInstruction.mode=INITIAL (sent ${sentFirst.get('standingInstruction.mode')})`);
  if (sent.get('standingInstruction.type') !== 'RECURRING') problems.push(`the MIT went as standingInstruction.type=${sent.get('standingInstruction.type')}`);
  if (!sent.get('standingInstruction.initialTransactionId')) problems.push('the MIT went without standingInstruction.initialTransactionId');
  assert.deepEqual(problems, []);
});


test('OPP acquirer: a later payment the cardholder makes with the registration (standing instruction CIT, REPEATED) is sent as such, not as a one-off', async () => {
  await viaOpp();
  const first = await initialCit();
  acq.bodies.length = 0;
  const r = await opp(gw, 'POST', `/v1/registrations/${first.registrationId as string}/payments`, {
    amount: '12.00', currency: 'EUR', paymentType: 'DB', 'standingInstruction.mode': 'REPEATED', 'standingInstruction.type': 'UNSCHEDULED', 'standingInstruction.source': 'CIT',
  });
  assert.match(r.body.result.code, /^000\.100\.11/, JSON.stringify(r.body));
  const sent = paymentBodies(acq)[0]?.body as URLSearchParams;
  assert.deepEqual([sent.get('standingInstruction.source'), sent.get('standingInstruction.mode'), sent.get('standingInstruction.type')], ['CIT', 'REPEATED', 'UNSCHEDULED']);
});

test('Adyen: a later payment the cardholder makes with the registration (CIT, REPEATED) is CardOnFile with the shopper there, and names no scheme id', async () => {
  await viaAdyen();
  const first = await initialCit('RECURRING');
  adyen.bodies.length = 0;
  const r = await opp(gw, 'POST', `/v1/registrations/${first.registrationId as string}/payments`, {
    amount: '12.00', currency: 'EUR', paymentType: 'DB', 'standingInstruction.mode': 'REPEATED', 'standingInstruction.type': 'RECURRING', 'standingInstruction.source': 'CIT',
  });
  assert.match(r.body.result.code, /^000\.100\.11/, JSON.stringify(r.body));
  const sent = paymentBodies(adyen)[0]?.body;
  assert.deepEqual([sent.shopperInteraction, sent.recurringProcessingModel, sent.additionalData?.networkTxReference], ['Ecommerce', 'CardOnFile', undefined]);
});

test('OPP acquirer: a later charge (merchant- or cardholder-initiated) of a card first stored at Adyen, whose answer carried no scheme id, names none (not Adyen\'s own reference)', async () => {
  adyenGivesNti = false;
  try {
    await viaAdyen();
    const first = await initialCit();
    const given = first.standingInstruction?.initialTransactionId as string;
    assert.match(given, /^ADYREF/, 'the merchant was given Adyen\'s own reference, no scheme id being answered');
    // The cascade now sends the card's charges to the acquirer (its order changed, or it moved on).
    await viaOpp();
    acq.bodies.length = 0;
    const r = await mit(first.registrationId, { 'standingInstruction.initialTransactionId': given });
    assert.match(r.body.result.code, /^000\.100\.11/, JSON.stringify(r.body));
    const sent = paymentBodies(acq)[0]?.body as URLSearchParams;
    assert.equal(sent.get('standingInstruction.source'), 'MIT');
    assert.equal(sent.get('standingInstruction.initialTransactionId'), null, 'the acquirer was told another PSP\'s reference as the scheme\'s id');
    // Nor when the cardholder makes the later payment (CIT, REPEATED) naming the same id.
    acq.bodies.length = 0;
    const cit = await mit(first.registrationId, { 'standingInstruction.source': 'CIT', 'standingInstruction.initialTransactionId': given });
    assert.match(cit.body.result.code, /^000\.100\.11/, JSON.stringify(cit.body));
    const sentCit = paymentBodies(acq)[0]?.body as URLSearchParams;
    assert.deepEqual([sentCit.get('standingInstruction.source'), sentCit.get('standingInstruction.initialTransactionId')], ['CIT', null]);
    // Nor with the card typed in rather than kept.
    acq.bodies.length = 0;
    const typed = await opp(gw, 'POST', '/v1/payments', {
      ...testCard, amount: '11.00', currency: 'EUR', paymentType: 'DB', 'standingInstruction.mode': 'REPEATED', 'standingInstruction.type': 'UNSCHEDULED',
      'standingInstruction.source': 'CIT', 'standingInstruction.initialTransactionId': given,
    });
    assert.match(typed.body.result.code, /^000\.100\.11/, JSON.stringify(typed.body));
    assert.equal((paymentBodies(acq)[0]?.body as URLSearchParams).get('standingInstruction.initialTransactionId'), null);
  } finally {
    adyenGivesNti = true;
  }
});

test('OPP acquirer: the first payment of a standing instruction answers the first transaction\'s id as the acquirer gave it, and a later charge sends that id back', async () => {
  await viaOpp();
  acq.bodies.length = 0;
  const first = await initialCit('RECURRING');
  assert.equal(first.standingInstruction?.initialTransactionId, acqFirstId(acq.bodies.length),
    `the merchant was given ${first.standingInstruction?.initialTransactionId}, not the id the acquirer answered for later charges to refer to`);
  acq.bodies.length = 0;
  const r = await mit(first.registrationId, { 'standingInstruction.type': 'RECURRING', 'standingInstruction.initialTransactionId': first.standingInstruction.initialTransactionId });
  assert.match(r.body.result.code, /^000\.100\.11/, JSON.stringify(r.body));
  assert.equal((paymentBodies(acq)[0]?.body as URLSearchParams).get('standingInstruction.initialTransactionId'), first.standingInstruction.initialTransactionId);
});

test('Adyen: a merchant-initiated charge naming a first payment whose answer carried no scheme id sends none, not the acquirer\'s reference the merchant was given', async () => {
  await viaAdyen();
  adyenGivesNti = false;
  try {
    adyen.bodies.length = 0;
    const first = await initialCit();
    const given = first.standingInstruction?.initialTransactionId;
    assert.equal(given, `ADYREF${String(adyenReferences).padStart(10, '0')}`, 'the answer falls back to the acquirer\'s reference');
    adyen.bodies.length = 0;
    const r = await mit(first.registrationId, { 'standingInstruction.initialTransactionId': given });
    assert.match(r.body.result.code, /^000\.100\.11/, JSON.stringify(r.body));
    const sent = paymentBodies(adyen)[0]?.body;
    assert.equal(sent?.shopperInteraction, 'ContAuth');
    assert.equal(sent?.additionalData?.networkTxReference, undefined, 'Adyen\'s own reference is no card scheme\'s transaction id');
  } finally {
    adyenGivesNti = true;
  }
});

test('Adyen: a merchant-initiated charge naming a first transaction the gateway does not know (a card on file from elsewhere) sends that id as the scheme\'s', async () => {
  await viaAdyen();
  const reg = await opp(gw, 'POST', '/v1/registrations', { ...testCard });
  assert.equal(reg.status, 200, JSON.stringify(reg.body));
  adyen.bodies.length = 0;
  const r = await mit(reg.body.id, { 'standingInstruction.initialTransactionId': 'MCC0999999990101' });
  assert.match(r.body.result.code, /^000\.100\.11/, JSON.stringify(r.body));
  assert.equal(paymentBodies(adyen)[0]?.body?.additionalData?.networkTxReference, 'MCC0999999990101');
});
