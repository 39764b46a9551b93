import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { beforeNextUnitOfWork, opp, pay, startGateway, testCard, type Gateway } from './support/harness.ts';

const success = '000.100.110';
let gw: Gateway;
before(async () => { gw = await startGateway(); });
after(() => gw.close());

const register = (card: Record<string, string> = {}, extra: Record<string, string> = {}) =>
  opp(gw, 'POST', '/v1/registrations', { ...testCard, ...card, ...extra });
const payWith = (id: string, params: Record<string, string> = {}) =>
  opp(gw, 'POST', `/v1/registrations/${id}/payments`, { amount: '25.00', currency: 'EUR', paymentType: 'DB', ...params });
const outbox = (subjectId: string) =>
  gw.app.storage.db.selectFrom('outbox').selectAll().where('subject_id', '=', subjectId).orderBy('created_at').execute();

describe('/v1 registrations', () => {
  test('POST /v1/registrations stores the card and answers with the registration and the masked card only', async () => {
    const r = await register({}, { 'customer.merchantCustomerId': 'cust-7' });
    assert.equal(r.status, 200);
    assert.match(r.body.id, /^[0-9a-f]{32}$/);
    assert.equal(r.body.result.code, success);
    assert.equal(r.body.paymentBrand, 'VISA');
    assert.deepEqual(r.body.card, { bin: '420000', last4Digits: '0000', holder: 'Jane Jones', expiryMonth: '05', expiryYear: '2034' });
    assert.deepEqual(r.body.customer, { merchantCustomerId: 'cust-7' });
    assert.match(r.body.ndc, /^[0-9a-f]{32}_[0-9a-f]{32}$/);
    assert.doesNotMatch(JSON.stringify(r.body), /4200000000000000|"123"/);
    const events = await outbox(r.body.id);
    assert.deepEqual(events.map((e) => e.type), ['registration.created']);
    const payload = JSON.parse(events[0]!.payload);
    assert.equal(payload.entityId, gw.merchant.entityId);
    assert.equal(payload.registration.card.last4Digits, '0000');
  });

  test('a registration pays again: DB, and PA then CP, with standing-instruction fields echoed; no card data sent', async () => {
    const reg = await register();
    const db = await payWith(reg.body.id, {
      'standingInstruction.mode': 'REPEATED', 'standingInstruction.type': 'UNSCHEDULED', 'standingInstruction.source': 'MIT',
      recurringType: 'REPEATED', merchantTransactionId: 'sub-1',
    });
    assert.equal(db.status, 200);
    assert.equal(db.body.result.code, success);
    assert.equal(db.body.registrationId, reg.body.id);
    assert.equal(db.body.card.last4Digits, '0000');
    assert.deepEqual(db.body.standingInstruction, { mode: 'REPEATED', type: 'UNSCHEDULED', source: 'MIT' });
    assert.equal(db.body.recurringType, 'REPEATED');
    const pa = await payWith(reg.body.id, { paymentType: 'PA', 'card.cvv': '321' });
    assert.equal(pa.body.result.code, success);
    const cp = await opp(gw, 'POST', `/v1/payments/${pa.body.id}`, { paymentType: 'CP', amount: '25.00', currency: 'EUR' });
    assert.equal(cp.body.result.code, success);
    const q = await opp(gw, 'GET', '/v1/query', { merchantTransactionId: 'sub-1' });
    assert.equal(q.body.payments[0].registrationId, reg.body.id);
  });

  test('createRegistration=true on a payment returns registrationId, which then pays', async () => {
    const first = await opp(gw, 'POST', '/v1/payments', { ...testCard, amount: '10.00', currency: 'EUR', paymentType: 'DB', createRegistration: 'true', 'standingInstruction.mode': 'INITIAL', 'standingInstruction.source': 'CIT' });
    assert.equal(first.body.result.code, success);
    assert.match(first.body.registrationId, /^[0-9a-f]{32}$/);
    assert.notEqual(first.body.registrationId, first.body.id);
    const again = await payWith(first.body.registrationId);
    assert.equal(again.body.result.code, success);
    assert.equal(again.body.registrationId, first.body.registrationId);
    assert.deepEqual((await outbox(first.body.registrationId)).map((e) => e.type), ['registration.created']);
    const plain = await opp(gw, 'POST', '/v1/payments', { ...testCard, amount: '10.00', currency: 'EUR', paymentType: 'DB' });
    assert.equal(plain.body.registrationId, undefined);
  });

  test('DELETE deregisters once; a deregistered or unknown registration cannot pay (100.150.202 / 100.150.200)', async () => {
    const reg = await register();
    const del = await opp(gw, 'DELETE', `/v1/registrations/${reg.body.id}`);
    assert.equal(del.status, 200);
    assert.equal(del.body.id, reg.body.id);
    assert.equal(del.body.result.code, success);
    const again = await opp(gw, 'DELETE', `/v1/registrations/${reg.body.id}`);
    assert.equal(again.status, 400);
    assert.equal(again.body.result.code, '100.150.202');
    assert.equal((await payWith(reg.body.id)).body.result.code, '100.150.202');
    assert.equal((await payWith('0'.repeat(32))).body.result.code, '100.150.200');
    assert.equal((await payWith('nonsense')).body.result.code, '100.150.200');
    assert.equal((await opp(gw, 'DELETE', `/v1/registrations/${'0'.repeat(32)}`)).body.result.code, '100.150.200');
    assert.deepEqual((await outbox(reg.body.id)).map((e) => e.type), ['registration.created', 'registration.deleted']);
  });

  test('GET /v1/registrations/{id} answers the stored registration, masked; unknown, foreign and deregistered ones are refused', async () => {
    const reg = await register({ 'card.holder': 'Max Mustermann', 'card.expiryMonth': '11', 'card.expiryYear': '2031' });
    const got = await opp(gw, 'GET', `/v1/registrations/${reg.body.id}`);
    assert.equal(got.status, 200);
    assert.equal(got.headers.get('cache-control'), 'no-store');
    assert.equal(got.body.id, reg.body.id);
    assert.equal(got.body.result.code, success);
    assert.equal(got.body.paymentBrand, 'VISA');
    assert.deepEqual(got.body.card, { bin: '420000', last4Digits: '0000', holder: 'Max Mustermann', expiryMonth: '11', expiryYear: '2031' });
    assert.match(got.body.timestamp, /^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}\+0000$/);
    assert.ok(got.body.ndc.startsWith(gw.merchant.entityId + '_'));
    assert.doesNotMatch(JSON.stringify(got.body), /4200000000000000|"123"/);
    // Another registration answers with its own card.
    const amex = await register({ paymentBrand: 'AMEX', 'card.number': '377777777777770', 'card.cvv': '1234' });
    const gotAmex = await opp(gw, 'GET', `/v1/registrations/${amex.body.id}`);
    assert.deepEqual([gotAmex.body.paymentBrand, gotAmex.body.card.last4Digits], ['AMEX', '7770']);

    const unknown = await opp(gw, 'GET', `/v1/registrations/${'0'.repeat(32)}`);
    assert.deepEqual([unknown.status, unknown.body.result.code, unknown.body.card], [400, '100.150.200', undefined]);
    assert.equal((await opp(gw, 'GET', '/v1/registrations/not-an-id')).body.result.code, '100.150.200');
    const other = await gw.app.merchants.create({ name: 'Nosy Shop' });
    const foreign = await opp({ url: gw.url, merchant: other }, 'GET', `/v1/registrations/${reg.body.id}`);
    assert.deepEqual([foreign.body.result.code, foreign.body.card], ['100.150.200', undefined]);
    const noToken = await opp(gw, 'GET', `/v1/registrations/${reg.body.id}`, {}, null);
    assert.deepEqual([noToken.status, noToken.body.result.code], [401, '800.900.300']);

    await opp(gw, 'DELETE', `/v1/registrations/${reg.body.id}`);
    const gone = await opp(gw, 'GET', `/v1/registrations/${reg.body.id}`);
    assert.deepEqual([gone.status, gone.body.result.code, gone.body.card], [400, '100.150.202', undefined]);
  });

  test("another merchant's registration does not exist for this merchant", async () => {
    const reg = await register();
    const other = await gw.app.merchants.create({ name: 'Other Shop' });
    const asOther = { url: gw.url, merchant: other };
    const r = await opp(asOther, 'POST', `/v1/registrations/${reg.body.id}/payments`, { amount: '1.00', currency: 'EUR', paymentType: 'DB' });
    assert.equal(r.body.result.code, '100.150.200');
    assert.equal((await opp(asOther, 'DELETE', `/v1/registrations/${reg.body.id}`)).body.result.code, '100.150.200');
    assert.equal((await payWith(reg.body.id)).body.result.code, success, 'still usable by its owner');
  });

  test('bad input is refused with the field named and stores nothing', async () => {
    const before = (await gw.app.storage.db.selectFrom('instruments').select('id').execute()).length;
    const luhn = await register({ 'card.number': '4200000000000001' });
    assert.equal(luhn.body.result.code, '100.100.101');
    const missing = await opp(gw, 'POST', '/v1/registrations', { paymentBrand: 'VISA', 'card.expiryMonth': '05', 'card.expiryYear': '2034' });
    assert.equal(missing.body.result.code, '100.100.100');
    assert.equal(missing.body.result.parameterErrors[0].name, 'card.number');
    const expired = await register({ 'card.expiryYear': '2020' });
    assert.equal(expired.body.result.code, '100.100.303');
    assert.equal((await gw.app.storage.db.selectFrom('instruments').select('id').execute()).length, before);
    const reg = await register();
    const withCard = await payWith(reg.body.id, { 'card.number': '4242424242424242' });
    assert.equal(withCard.status, 400);
    assert.equal(withCard.body.result.parameterErrors[0].name, 'card.number');
    assert.equal(withCard.body.result.parameterErrors[0].value, '[REDACTED]');
    const noAmount = await opp(gw, 'POST', `/v1/registrations/${reg.body.id}/payments`, { paymentType: 'DB', currency: 'EUR' });
    assert.equal(noAmount.body.result.parameterErrors[0].name, 'amount');
    const bad = await opp(gw, 'POST', '/v1/payments', { ...testCard, amount: '1.00', currency: 'EUR', paymentType: 'DB', createRegistration: 'yes' });
    assert.equal(bad.body.result.parameterErrors[0].name, 'createRegistration');
  });

  test('3-D Secure: a customer-initiated payment with a challenge card is challenged; a merchant-initiated one is not', async () => {
    const reg = await register({ 'card.number': '4200000000000042' });
    const cit = await payWith(reg.body.id, { shopperResultUrl: 'https://shop.example/back', 'standingInstruction.source': 'CIT' });
    assert.equal(cit.body.result.code, '000.200.000');
    assert.match(cit.body.redirect.url, /\/hosted\/3ds\//);
    assert.equal(cit.body.registrationId, reg.body.id);
    const mit = await payWith(reg.body.id, { 'standingInstruction.source': 'MIT', 'standingInstruction.mode': 'REPEATED' });
    assert.equal(mit.body.result.code, success);
    assert.equal(mit.body.redirect, undefined);
  });
});

test('a registration deleted while a payment with it is on its way is not charged: the delete acknowledged first refuses the payment (100.150.202)', async () => {
  const reg = await opp(gw, 'POST', '/v1/registrations', { ...testCard });
  assert.equal(reg.status, 200);
  let deleted: Awaited<ReturnType<typeof opp>> | undefined;
  // The delete lands between the route's check of the registration and the payment's intent.
  const undo = beforeNextUnitOfWork(gw, async () => { deleted = await opp(gw, 'DELETE', `/v1/registrations/${reg.body.id}`); });
  const paid = await opp(gw, 'POST', `/v1/registrations/${reg.body.id}/payments`, { amount: '25.00', currency: 'EUR', paymentType: 'DB' });
  undo();
  assert.equal(deleted?.status, 200, 'the merchant was told the registration is deleted');
  assert.equal(paid.body.result.code, '100.150.202', `charged a deregistered card: ${JSON.stringify(paid.body.result)}`);

  // `standingInstruction` is echoed plus `initialTransactionId` after success: merchants keep it
  // from the INITIAL CIT and send it back on every REPEATED MIT.
  test('a successful INITIAL CIT answers standingInstruction.initialTransactionId, which a later MIT can send back', async () => {
    const first = await pay(gw, {
      paymentType: 'DB', amount: '10.00', createRegistration: 'true',
      'standingInstruction.mode': 'INITIAL', 'standingInstruction.type': 'UNSCHEDULED', 'standingInstruction.source': 'CIT',
    });
    assert.equal(first.body.result.code, '000.100.110', JSON.stringify(first.body));
    const initialTransactionId = first.body.standingInstruction?.initialTransactionId;
    assert.equal(typeof initialTransactionId, 'string', `no standingInstruction.initialTransactionId in ${JSON.stringify(first.body.standingInstruction)}`);
    assert.notEqual(initialTransactionId, '');
    const status = await opp(gw, 'GET', `/v1/query/${first.body.id}`);
    assert.equal(status.body.standingInstruction?.initialTransactionId, initialTransactionId);
    const mit = await opp(gw, 'POST', `/v1/registrations/${first.body.registrationId}/payments`, {
      amount: '10.00', currency: 'EUR', paymentType: 'DB', 'standingInstruction.mode': 'REPEATED', 'standingInstruction.type': 'UNSCHEDULED',
      'standingInstruction.source': 'MIT', 'standingInstruction.initialTransactionId': initialTransactionId,
    });
    assert.equal(mit.body.result.code, '000.100.110');
    assert.equal(mit.body.standingInstruction.initialTransactionId, initialTransactionId);
  });

  // The report API's `paymentTypes=PA,CP,RV` filter: ignored, it would hand a client asking for the
  // capture of an order the authorization instead (the oldest comes first).
  test('GET /v1/query?merchantTransactionId=&paymentTypes=CP lists only the captures of the reference', async () => {
    const pa = await pay(gw, { paymentType: 'PA', merchantTransactionId: 'order-types-1' });
    assert.equal(pa.body.result.code, '000.100.110');
    const cp = await opp(gw, 'POST', `/v1/payments/${pa.body.id}`, { paymentType: 'CP', amount: '92.00', currency: 'EUR', merchantTransactionId: 'order-types-1' });
    assert.equal(cp.body.result.code, '000.100.110');
    const all = await opp(gw, 'GET', '/v1/query', { merchantTransactionId: 'order-types-1' });
    assert.deepEqual(all.body.payments.map((p: any) => p.paymentType), ['PA', 'CP']);
    const q = await opp(gw, 'GET', '/v1/query', { merchantTransactionId: 'order-types-1', paymentTypes: 'CP' });
    assert.equal(q.status, 200);
    assert.deepEqual(q.body.payments.map((p: any) => p.paymentType), ['CP'], 'the paymentTypes filter is honoured, never ignored');
    assert.equal(q.body.records, 1);
    const bad = await opp(gw, 'GET', '/v1/query', { merchantTransactionId: 'order-types-1', paymentTypes: 'CP,XX' });
    assert.equal(bad.status, 400);
    assert.deepEqual(bad.body.result.parameterErrors.map((e: any) => e.name), ['paymentTypes']);
  });

  // DB and PA.CP are both sales to the engine: the filter tells them apart by the letters each was asked with.
  test('GET /v1/query?paymentTypes=DB lists the DB transactions only, not the PA.CP ones, and the reverse; records and pages count what is listed', async () => {
    const db = await pay(gw, { paymentType: 'DB', merchantTransactionId: 'order-types-2' });
    const pacp = await pay(gw, { paymentType: 'PA.CP', merchantTransactionId: 'order-types-2' });
    const db2 = await pay(gw, { paymentType: 'DB', merchantTransactionId: 'order-types-2' });
    assert.deepEqual([db.body.paymentType, pacp.body.paymentType, db2.body.paymentType], ['DB', 'PA.CP', 'DB']);
    const onlyDb = await opp(gw, 'GET', '/v1/query', { merchantTransactionId: 'order-types-2', paymentTypes: 'DB' });
    assert.equal(onlyDb.status, 200);
    assert.deepEqual(onlyDb.body.payments.map((p: any) => p.id), [db.body.id, db2.body.id]);
    assert.equal(onlyDb.body.records, 2);
    const onlyPaCp = await opp(gw, 'GET', '/v1/query', { merchantTransactionId: 'order-types-2', paymentTypes: 'PA.CP' });
    assert.deepEqual(onlyPaCp.body.payments.map((p: any) => p.id), [pacp.body.id]);
    assert.equal(onlyPaCp.body.records, 1);
    const both = await opp(gw, 'GET', '/v1/query', { merchantTransactionId: 'order-types-2', paymentTypes: 'PA.CP,DB' });
    assert.equal(both.body.records, 3);
    const none = await opp(gw, 'GET', '/v1/query', { merchantTransactionId: 'order-types-1', paymentTypes: 'DB' });
    assert.equal(none.body.result.code, '700.400.580', 'a reference without a DB lists none');
  });

  // The CVV rule of a card payment (a brand's own length, reference: AMEX 4, others 3) holds for the
  // CVV a shopper types again for a registration: the registration's brand is known.
  test('a registration payment refuses a CVV of the wrong length for the stored card\'s brand, as a card payment does', async () => {
    const direct = await pay(gw, { 'card.cvv': '1234' });
    assert.equal(direct.status, 400);
    const code = direct.body.result.code;
    const reg = await opp(gw, 'POST', '/v1/registrations', { ...testCard });
    assert.equal(reg.status, 200);
    const viaPath = await opp(gw, 'POST', `/v1/registrations/${reg.body.id}/payments`, { amount: '10.00', currency: 'EUR', paymentType: 'DB', 'card.cvv': '1234' });
    assert.equal(viaPath.status, 400, `a 4-digit CVV for a VISA registration was accepted: ${viaPath.body.result.code}`);
    assert.equal(viaPath.body.result.code, code);
    const viaField = await opp(gw, 'POST', '/v1/payments', { amount: '10.00', currency: 'EUR', paymentType: 'DB', registrationId: reg.body.id, 'card.cvv': '1234' });
    assert.equal(viaField.status, 400);
    assert.equal(viaField.body.result.code, code);
  });
});
