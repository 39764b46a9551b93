/**
 * Answers a client written against the platform's own behaviour relies on: a back-office call sent
 * to `/v1/payments/` with an empty id (a client that lost the payment's id) fails as an initial
 * payment's validation, and every result code the gateway answers is in its catalogue with the
 * platform's words.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { opp, pay, startGateway, type Gateway } from './support/harness.ts';

let gw: Gateway;
before(async () => { gw = await startGateway(); });
after(() => gw.close());

describe('POST /v1/payments/ with an empty id', () => {
  // The platform answers 200.300.404 "invalid or missing parameter" with paymentType "must be one of
  // [PA, DB, CD, PA.CP]"; clients' tests of a failed void or refund match that description.
  test('an RV answers as an initial payment\'s validation error', async () => {
    const r = await opp(gw, 'POST', '/v1/payments/', { paymentType: 'RV' });
    assert.equal(r.status, 400);
    assert.equal(r.body.result.code, '200.300.404', JSON.stringify(r.body.result));
    assert.equal(r.body.result.description, 'invalid or missing parameter');
    const paymentType = r.body.result.parameterErrors.find((e: { name: string }) => e.name === 'paymentType');
    assert.deepEqual(paymentType, { name: 'paymentType', value: 'RV', message: 'must be one of [PA, DB, CD, PA.CP]' });
  });

  test('an RF answers as an initial payment\'s validation error, and nothing is created', async () => {
    const before = await gw.app.storage.db.selectFrom('payments').select('id').execute();
    const r = await opp(gw, 'POST', '/v1/payments/', { paymentType: 'RF', amount: '1.00', currency: 'EUR' });
    assert.equal(r.status, 400);
    assert.equal(r.body.result.code, '200.300.404', JSON.stringify(r.body.result));
    assert.equal(r.body.result.description, 'invalid or missing parameter');
    assert.equal((await gw.app.storage.db.selectFrom('payments').select('id').execute()).length, before.length);
  });

  test('a DB sent there is an initial payment like any other', async () => {
    const r = await opp(gw, 'POST', '/v1/payments/', { amount: '92.00', currency: 'EUR', paymentType: 'DB', paymentBrand: 'VISA', 'card.number': '4200000000000000', 'card.holder': 'Jane Jones', 'card.expiryMonth': '05', 'card.expiryYear': '2034', 'card.cvv': '123' });
    assert.match(r.body.result.code, /^000\.100\.1/, JSON.stringify(r.body.result));
    assert.equal((await pay(gw)).body.paymentType, r.body.paymentType);
  });
});

describe('result codes the gateway answers are in its catalogue', () => {
  test('GET /v1/resultcodes lists 000.200.103 "checkout is pending"', async () => {
    const r = await opp(gw, 'GET', '/v1/resultcodes');
    assert.equal(r.status, 200);
    assert.deepEqual(r.body.resultCodes.find((c: { code: string }) => c.code === '000.200.103'), { code: '000.200.103', description: 'checkout is pending' });
  });

  test('the checkout widget\'s answer describes 000.200.103 in its own words, not as a connector error', async () => {
    const c = await opp(gw, 'POST', '/v1/checkouts', { amount: '92.00', currency: 'EUR', paymentType: 'DB' });
    assert.equal(c.status, 200, JSON.stringify(c.body));
    const body = await (await fetch(`${gw.url}/v1/checkouts/${c.body.id}/widget`)).json() as { result: { code: string; description: string } };
    assert.deepEqual(body.result, { code: '000.200.103', description: 'checkout is pending' });
  });

  test('customParameters[forceResultCode] takes a code the platform documents with its words (a duplicate-protection refusal)', async () => {
    const r = await pay(gw, { 'customParameters[forceResultCode]': '200.200.106' });
    assert.equal(r.body.result.code, '200.200.106', JSON.stringify(r.body.result));
    assert.equal(r.body.result.description, 'duplicate transaction. Please verify that the UUID is unique');
  });
});
