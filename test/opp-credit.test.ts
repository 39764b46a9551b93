/**
 * `paymentType=CD`: a standalone credit to a card over /v1. It opens a payment of its own (no
 * authorization before it), is never sent through 3-D Secure, cannot be captured, refunded or
 * reversed, and posts `credits` against `receivable` in the ledger in the unit of work of its outcome.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { opp, startGateway, testCard, type Gateway } from './support/harness.ts';

const success = '000.100.110';
let gw: Gateway;
before(async () => { gw = await startGateway(); });
after(() => gw.close());

const credit = (params: Record<string, string> = {}) =>
  opp(gw, 'POST', '/v1/payments', { ...testCard, amount: '45.50', currency: 'EUR', paymentType: 'CD', ...params });
const outbox = (subjectId: string) =>
  gw.app.storage.db.selectFrom('outbox').selectAll().where('subject_id', '=', subjectId).orderBy('created_at').execute();

describe('/v1 credit (CD)', () => {
  test('a CD with a card is credited at once and answers as a CD; the status call and the query agree', async () => {
    const r = await credit({ merchantTransactionId: 'payout-1' });
    assert.equal(r.status, 200);
    assert.equal(r.body.result.code, success);
    assert.equal(r.body.paymentType, 'CD');
    assert.equal(r.body.amount, '45.50');
    assert.equal(r.body.card.last4Digits, '0000');
    assert.equal(r.body.redirect, undefined);
    const status = await opp(gw, 'GET', `/v1/payments/${r.body.id}`);
    assert.equal(status.body.paymentType, 'CD');
    assert.equal(status.body.result.code, success);
    const q = await opp(gw, 'GET', '/v1/query', { merchantTransactionId: 'payout-1' });
    assert.deepEqual(q.body.payments.map((p: { paymentType: string }) => p.paymentType), ['CD']);
    const details = await gw.app.payments.details(r.body.id);
    assert.equal(details?.payment.status, 'credited');
    assert.equal(details?.payment.initialKind, 'credit');
  });

  test('the ledger posts the credit (credits against receivable) and the webhook outbox records it', async () => {
    const r = await credit({ amount: '12.34' });
    assert.equal(r.body.result.code, success);
    const postings = await gw.app.ledger.paymentPostings(r.body.id);
    assert.deepEqual(postings.map((p) => [p.phase, p.debit, p.credit, p.amount]), [['posted', 'credits', 'receivable', 1234]]);
    const events = await outbox(r.body.id);
    const succeeded = events.find((e) => e.type === 'operation.succeeded');
    assert.ok(succeeded, 'an operation.succeeded event for the credit');
    assert.equal(JSON.parse(succeeded.payload).kind, 'credit');
    assert.equal(await gw.app.ledger.verify(), undefined);
  });

  test('a credit is never challenged: a 3-D Secure challenge card and 3DS2_flow=challenge still credit at once', async () => {
    const r = await credit({
      'card.number': '4012000000003119', shopperResultUrl: 'https://shop.example/return',
      'customParameters[3DS2_enrolled]': 'true', 'customParameters[3DS2_flow]': 'challenge',
    });
    assert.equal(r.body.result.code, success);
    assert.equal(r.body.redirect, undefined);
  });

  test('its own amount rules: no capture, refund or reversal of a credit; the amount must be positive and in the currency\'s format', async () => {
    const r = await credit();
    for (const [type, amount] of [['CP', '45.50'], ['RF', '10.00'], ['RV', undefined], ['RB', '45.50']] as const) {
      const f = await opp(gw, 'POST', `/v1/payments/${r.body.id}`, { paymentType: type, ...(amount ? { amount, currency: 'EUR' } : {}) });
      assert.equal(f.status, 400, type);
      assert.equal(f.body.result.code, '700.100.700', type);
    }
    assert.equal((await credit({ amount: '0.00' })).body.result.code, '100.550.300');
    assert.equal((await credit({ amount: '1.5' })).body.result.code, '200.300.404');
    assert.equal((await credit({ amount: '100', currency: 'JPY' })).body.result.code, success);
    const details = await gw.app.payments.details(r.body.id);
    assert.equal(details?.operations.length, 1, 'the refused follow-ups recorded nothing');
  });

  test('a credit goes to a card: a bank-transfer brand is refused naming paymentType; a declined credit posts nothing', async () => {
    const bank = await opp(gw, 'POST', '/v1/payments', {
      amount: '10.00', currency: 'EUR', paymentType: 'CD', paymentBrand: 'SOFORTUEBERWEISUNG', 'bankAccount.country': 'DE',
    });
    assert.equal(bank.status, 400);
    assert.equal(bank.body.result.parameterErrors[0].name, 'paymentType');
    const declined = await credit({ 'customParameters[forceResultCode]': '800.100.151' });
    assert.equal(declined.status, 400);
    assert.equal(declined.body.result.code, '800.100.151');
    assert.deepEqual(await gw.app.ledger.paymentPostings(declined.body.id), []);
  });

  test('a registration receives a credit too', async () => {
    const reg = await opp(gw, 'POST', '/v1/registrations', { ...testCard });
    const r = await opp(gw, 'POST', `/v1/registrations/${reg.body.id}/payments`, { amount: '5.00', currency: 'EUR', paymentType: 'CD' });
    assert.equal(r.body.result.code, success);
    assert.equal(r.body.paymentType, 'CD');
    assert.equal(r.body.registrationId, reg.body.id);
  });
});
