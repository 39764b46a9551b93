/**
 * A registration's card details follow a later payment with it: a renewed expiry
 * (`card.expiryMonth` + `card.expiryYear`) or another brand of the same card (`paymentBrand`, e.g.
 * the Cartes Bancaires side of a co-badged Visa) updates the registration, with a REGISTRATION
 * UPDATED notification; the payment uses the new details; earlier payments keep theirs. Details
 * that fail the card checks refuse the payment and change nothing.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { opp, startGateway, testCard, type Gateway } from './support/harness.ts';

const success = '000.100.110';
let gw: Gateway;
before(async () => { gw = await startGateway(); });
after(() => gw.close());

const register = (card: Record<string, string> = {}) => opp(gw, 'POST', '/v1/registrations', { ...testCard, ...card });
const payWith = (id: string, params: Record<string, string> = {}) =>
  opp(gw, 'POST', `/v1/registrations/${id}/payments`, { amount: '25.00', currency: 'EUR', paymentType: 'DB', ...params });
const show = (id: string) => opp(gw, 'GET', `/v1/registrations/${id}`);
const events = async (id: string) => (await gw.app.storage.db.selectFrom('outbox').selectAll().where('subject_id', '=', id).orderBy('created_at').execute())
  .map((e) => ({ type: e.type, registration: JSON.parse(e.payload).registration }));

describe('/v1 registration updates from later payments', () => {
  test('a renewed expiry sent with a payment updates the registration; the payment shows it; the first payment keeps the old one', async () => {
    const reg = await register();
    const first = await payWith(reg.body.id);
    assert.equal(first.body.card.expiryYear, '2034');
    const renewed = await payWith(reg.body.id, { 'card.expiryMonth': '08', 'card.expiryYear': '2036', 'card.cvv': '123' });
    assert.equal(renewed.body.result.code, success);
    assert.deepEqual([renewed.body.card.expiryMonth, renewed.body.card.expiryYear], ['08', '2036']);
    assert.equal(renewed.body.registrationId, reg.body.id);
    const now = await show(reg.body.id);
    assert.deepEqual([now.body.card.expiryMonth, now.body.card.expiryYear, now.body.card.last4Digits], ['08', '2036', '0000']);
    const before = await opp(gw, 'GET', `/v1/query/${first.body.id}`);
    assert.deepEqual([before.body.card.expiryMonth, before.body.card.expiryYear], ['05', '2034'], 'earlier payments keep the card as they made it');
    const notified = await events(reg.body.id);
    assert.deepEqual(notified.map((e) => e.type), ['registration.created', 'registration.updated']);
    assert.deepEqual(notified[1]!.registration.card, { bin: '420000', last4Digits: '0000', holder: 'Jane Jones', expiryMonth: '08', expiryYear: '2036' });
    // The same details again change nothing and notify nothing.
    assert.equal((await payWith(reg.body.id, { 'card.expiryMonth': '08', 'card.expiryYear': '2036' })).body.result.code, success);
    assert.equal((await events(reg.body.id)).length, 2);
  });

  test('another brand of the same card (a co-badged Cartes Bancaires Visa) updates the registration\'s brand', async () => {
    const reg = await register({ 'card.number': '4360000001000005', paymentBrand: 'VISA' });
    assert.equal(reg.body.paymentBrand, 'VISA');
    const r = await payWith(reg.body.id, { paymentBrand: 'CARTEBLEUE' });
    assert.equal(r.body.result.code, success);
    assert.equal(r.body.paymentBrand, 'CARTEBLEUE');
    assert.equal((await show(reg.body.id)).body.paymentBrand, 'CARTEBLEUE');
    assert.equal((await events(reg.body.id)).at(-1)!.registration.paymentBrand, 'CARTEBLEUE');
  });

  test('details that fail the card checks refuse the payment and leave the registration as it was', async () => {
    const reg = await register();
    const expired = await payWith(reg.body.id, { 'card.expiryMonth': '01', 'card.expiryYear': '2020' });
    assert.equal(expired.status, 400);
    assert.equal(expired.body.result.code, '100.100.303');
    const wrongBrand = await payWith(reg.body.id, { paymentBrand: 'AMEX' });
    assert.equal(wrongBrand.body.result.code, '100.100.700');
    const half = await payWith(reg.body.id, { 'card.expiryMonth': '09' });
    assert.equal(half.body.result.parameterErrors[0].name, 'card.expiryYear');
    const month = await payWith(reg.body.id, { 'card.expiryMonth': '13', 'card.expiryYear': '2035' });
    assert.equal(month.body.result.parameterErrors[0].name, 'card.expiryMonth');
    const number = await payWith(reg.body.id, { 'card.number': '4200000000000000' });
    assert.equal(number.body.result.parameterErrors[0].name, 'card.number');
    assert.ok(!JSON.stringify(number.body).includes('4200000000000000'));
    const still = await show(reg.body.id);
    assert.deepEqual([still.body.paymentBrand, still.body.card.expiryMonth, still.body.card.expiryYear], ['VISA', '05', '2034']);
    assert.deepEqual((await events(reg.body.id)).map((e) => e.type), ['registration.created']);
    assert.equal((await opp(gw, 'GET', '/v1/query', { merchantTransactionId: 'none' })).status, 400);
  });

  test('new details sent with a payment refused before it is recorded (no shopperResultUrl for a challenge) change nothing: the registration changes with the intent of the payment', async () => {
    const reg = await register({ 'card.number': '4200000000000042' });
    const noReturn = await payWith(reg.body.id, { 'card.expiryMonth': '08', 'card.expiryYear': '2036' });
    assert.equal(noReturn.status, 400);
    assert.equal(noReturn.body.result.code, '100.370.101');
    const still = await show(reg.body.id);
    assert.deepEqual([still.body.card.expiryMonth, still.body.card.expiryYear], ['05', '2034'], 'the registration keeps its card');
    assert.deepEqual((await events(reg.body.id)).map((e) => e.type), ['registration.created'], 'no REGISTRATION UPDATED for a payment that never was');
    // With the return URL the same details are taken, with the payment.
    const taken = await payWith(reg.body.id, { 'card.expiryMonth': '08', 'card.expiryYear': '2036', shopperResultUrl: 'https://shop.example/back' });
    assert.equal(taken.body.result.code, '000.200.000', JSON.stringify(taken.body));
    assert.deepEqual([taken.body.card.expiryMonth, taken.body.card.expiryYear], ['08', '2036']);
    assert.deepEqual((await events(reg.body.id)).map((e) => e.type), ['registration.created', 'registration.updated']);
  });

  test('a deregistered registration is not updated', async () => {
    const reg = await register();
    await opp(gw, 'DELETE', `/v1/registrations/${reg.body.id}`);
    const r = await payWith(reg.body.id, { 'card.expiryMonth': '08', 'card.expiryYear': '2036' });
    assert.equal(r.body.result.code, '100.150.202');
  });
});
