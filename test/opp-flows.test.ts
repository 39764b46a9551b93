import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { manualClock } from '../src/runtime/clock.ts';
import { brokenInvariants } from '../src/payments/model.ts';
import { opp, pay, startGateway, testCard, type Gateway } from './support/harness.ts';
import { configureCascade } from './support/executions.ts';

const success = '000.100.110';
const clock = manualClock(Date.now());
let gw: Gateway;
before(async () => { gw = await startGateway({ clock }); });
after(() => gw.close());

const pa = (amount = '92.00', extra: Record<string, string> = {}) => pay(gw, { paymentType: 'PA', amount, ...extra });
const backOffice = (id: string, paymentType: string, params: Record<string, string> = {}) =>
  opp(gw, 'POST', `/v1/payments/${id}`, { paymentType, ...params });
const eur = (amount: string) => ({ amount, currency: 'EUR' });

/** The independent invariant check of reliability.md, run over the stored transactions. */
async function assertInvariants(paymentId: string) {
  const txs = await gw.app.storage.db.selectFrom('transactions').selectAll().where('payment_id', '=', paymentId).execute();
  const broken = brokenInvariants(txs.map((t) => ({
    id: t.id, paymentId: t.payment_id, kind: t.type as never, status: t.status as never,
    amount: { amount: t.amount, currency: t.currency as never }, referencedId: t.referenced_id ?? undefined, createdAt: t.created_at,
  })));
  assert.deepEqual(broken, []);
}

function assertEnvelope(body: any) {
  assert.match(body.buildNumber, /^[0-9a-f]{40}@\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2} \+0000$/);
  assert.match(body.timestamp, /^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}\+0000$/);
  assert.match(body.ndc, /^[0-9a-f]{32}_[0-9a-f]{32}$/);
}

describe('initial payments', () => {
  test('PA authorizes with the full response shape', async () => {
    const r = await pa('92.00', { merchantTransactionId: 'order-1', 'customer.givenName': 'Jane', 'billing.city': 'Graz', 'shipping.surname': 'Doe', 'cart.items[0].name': 'Hat', descriptor: 'My Shop', 'customParameters[SHOPPER_promo]': 'AT052' });
    assert.equal(r.status, 200);
    assert.equal(r.headers.get('content-type'), 'application/json;charset=UTF-8');
    const b = r.body;
    assert.match(b.id, /^[0-9a-f]{32}$/);
    assert.equal(b.paymentType, 'PA');
    assert.equal(b.paymentBrand, 'VISA');
    assert.equal(b.amount, '92.00');
    assert.equal(b.currency, 'EUR');
    assert.equal(b.descriptor, 'My Shop');
    assert.equal(b.merchantTransactionId, 'order-1');
    assert.deepEqual(b.result, { code: success, description: "Request successfully processed in 'Merchant in Integrator Test Mode'" });
    assert.deepEqual(b.card, { bin: '420000', last4Digits: '0000', holder: 'Jane Jones', expiryMonth: '05', expiryYear: '2034' });
    assert.deepEqual(b.customer, { givenName: 'Jane' });
    assert.deepEqual(b.billing, { city: 'Graz' });
    assert.deepEqual(b.shipping, { surname: 'Doe' });
    assert.deepEqual(b.cart, { items: [{ name: 'Hat' }] });
    assert.deepEqual(b.customParameters, { SHOPPER_promo: 'AT052' });
    assertEnvelope(b);
  });

  test('descriptor defaults to short id and channel name', async () => {
    const r = await pay(gw);
    assert.match(r.body.descriptor, /^\d{4}\.\d{4}\.\d{4} Test_Merchant_Channel$/);
  });

  test('DB debits and PA.CP authorizes and captures in one call', async () => {
    for (const paymentType of ['DB', 'PA.CP']) {
      const r = await pay(gw, { paymentType });
      assert.equal(r.status, 200);
      assert.equal(r.body.paymentType, paymentType);
      assert.equal(r.body.result.code, success);
      const rf = await backOffice(r.body.id, 'RF', eur('92.00'));
      assert.equal(rf.body.result.code, success, `${paymentType} is refundable in full`);
      const cp = await backOffice(r.body.id, 'CP', eur('1.00'));
      assert.equal(cp.body.result.code, '700.400.510', `${paymentType} cannot be captured`);
    }
  });

  test('testMode EXTERNAL answers 000.100.112', async () => {
    const r = await pay(gw, { testMode: 'EXTERNAL' });
    assert.equal(r.body.result.code, '000.100.112');
    const rf = await backOffice(r.body.id, 'RF', eur('1.00'));
    assert.equal(rf.body.result.code, '000.100.112', 'follow-ups keep the payment’s test mode');
  });

  test('forceResultCode decides the outcome; a decline is HTTP 400 with an id', async () => {
    const r = await pay(gw, { 'customParameters[forceResultCode]': '800.100.151' });
    assert.equal(r.status, 400);
    assert.equal(r.body.result.code, '800.100.151');
    assert.equal(r.body.result.description, 'transaction declined (invalid card)');
    assert.match(r.body.id, /^[0-9a-f]{32}$/);
    assert.deepEqual(r.body.customParameters, { forceResultCode: '800.100.151' });
    const rf = await backOffice(r.body.id, 'RF', eur('1.00'));
    assert.equal(rf.body.result.code, '700.400.520');
    const status = await opp(gw, 'GET', `/v1/query/${r.body.id}`);
    assert.equal(status.body.result.code, '800.100.151');
  });

  test('AMEX test card with a 4-digit CVV succeeds', async () => {
    const r = await pay(gw, { paymentBrand: 'AMEX', 'card.number': '377777777777770', 'card.cvv': '1234' });
    assert.equal(r.body.result.code, success);
    assert.equal(r.body.card.bin, '377777');
  });

  test('a live merchant is answered with 000.000.000 and may not send testMode', async () => {
    const live = await gw.app.merchants.create({ name: 'Live Shop', live: true });
    const lgw = { url: gw.url, merchant: live };
    // Live payments reach real PSPs only: here an OPP-family account whose acquirer is this gateway's test merchant.
    await configureCascade({ ...gw, merchant: live }, { acq: { connector: 'opp', settings: { baseUrl: gw.url, accessToken: gw.merchant.accessToken, entityId: gw.merchant.entityId } } }, ['acq']);
    const r = await opp(lgw, 'POST', '/v1/payments', { ...testCard, amount: '10.00', currency: 'EUR', paymentType: 'DB' });
    assert.equal(r.body.result.code, '000.000.000');
    assert.equal(r.body.result.description, 'Transaction succeeded');
    const t = await opp(lgw, 'POST', '/v1/payments', { ...testCard, amount: '10.00', currency: 'EUR', paymentType: 'DB', testMode: 'INTERNAL' });
    assert.equal(t.status, 400);
    assert.equal(t.body.result.code, '100.300.101');
  });

  test('merchantTransactionId is not unique by default, and unique when the entity asks for it', async () => {
    await pay(gw, { merchantTransactionId: 'dup-1' });
    const second = await pay(gw, { merchantTransactionId: 'dup-1' });
    assert.equal(second.body.result.code, success);
    const strict = await gw.app.merchants.create({ name: 'Strict', uniqueMerchantTransactionId: true });
    const sgw = { url: gw.url, merchant: strict };
    const params = { ...testCard, amount: '10.00', currency: 'EUR', paymentType: 'DB', merchantTransactionId: 'once' };
    assert.equal((await opp(sgw, 'POST', '/v1/payments', params)).body.result.code, success);
    const again = await opp(sgw, 'POST', '/v1/payments', params);
    assert.equal(again.status, 400);
    assert.equal(again.body.result.code, '800.130.100');
    assert.equal(again.body.id, undefined);
  });

  test('JPY and KWD amounts follow the currency exponent', async () => {
    const jpy = await pay(gw, { amount: '1500', currency: 'JPY' });
    assert.equal(jpy.body.amount, '1500');
    const kwd = await pay(gw, { amount: '1.250', currency: 'KWD' });
    assert.equal(kwd.body.amount, '1.250');
  });
});

describe('back-office rules (reference §6)', () => {
  test('several partial captures up to the authorized amount, never beyond', async () => {
    const id = (await pa('100.00')).body.id;
    const c1 = await backOffice(id, 'CP', eur('30.00'));
    assert.equal(c1.status, 200);
    assert.equal(c1.body.paymentType, 'CP');
    assert.equal(c1.body.referencedId, id);
    assert.notEqual(c1.body.id, id);
    assert.equal(c1.body.amount, '30.00');
    assertEnvelope(c1.body);
    assert.equal((await backOffice(id, 'CP', eur('70.00'))).body.result.code, success);
    const over = await backOffice(id, 'CP', eur('0.01'));
    assert.equal(over.status, 400);
    assert.equal(over.body.result.code, '700.400.100');
    await assertInvariants(id);
  });

  test('capture more than authorized in one go is refused', async () => {
    const id = (await pa('10.00')).body.id;
    assert.equal((await backOffice(id, 'CP', eur('10.01'))).body.result.code, '700.400.100');
  });

  test('capture in another currency is refused', async () => {
    const id = (await pa('10.00')).body.id;
    assert.equal((await backOffice(id, 'CP', { amount: '10.00', currency: 'USD' })).body.result.code, '700.100.500');
  });

  test('several partial refunds of a capture up to its amount, never beyond; a refund names the capture, not the authorization', async () => {
    const id = (await pa('50.00')).body.id;
    const cp = (await backOffice(id, 'CP', eur('40.00'))).body.id;
    assert.equal((await backOffice(cp, 'RF', eur('15.00'))).body.result.code, success);
    const rf2 = await backOffice(cp, 'RF', eur('25.00'));
    assert.equal(rf2.body.result.code, success);
    assert.equal(rf2.body.referencedId, cp);
    assert.equal((await backOffice(cp, 'RF', eur('0.01'))).body.result.code, '700.400.200');
    assert.equal((await backOffice(id, 'RF', eur('0.01'))).body.result.code, '700.400.200', 'naming the authorization names the payment: nothing left either');
    await assertInvariants(id);
  });

  test('refund of an uncaptured authorization is refused', async () => {
    const id = (await pa()).body.id;
    assert.equal((await backOffice(id, 'RF', eur('1.00'))).body.result.code, '700.400.520');
  });

  test('reversal releases an uncaptured authorization, once; capture and refund after it are refused', async () => {
    const id = (await pa('20.00')).body.id;
    const rv = await backOffice(id, 'RV');
    assert.equal(rv.status, 200);
    assert.equal(rv.body.paymentType, 'RV');
    assert.equal(rv.body.amount, '20.00');
    assert.equal((await backOffice(id, 'RV')).body.result.code, '700.400.300');
    assert.equal((await backOffice(id, 'CP', eur('1.00'))).body.result.code, '700.400.100');
    assert.equal((await backOffice(id, 'RF', eur('1.00'))).body.result.code, '700.400.200');
  });

  test('reversal after a partial capture releases only the open remainder; after a full capture it is refused', async () => {
    const id = (await pa('20.00')).body.id;
    const cp = (await backOffice(id, 'CP', eur('5.00'))).body.id;
    const rv = await backOffice(id, 'RV');
    assert.equal(rv.body.result.code, success);
    assert.equal(rv.body.amount, '15.00');
    assert.equal((await backOffice(cp, 'RF', eur('5.00'))).body.result.code, success, 'captured money stays refundable');
    const full = (await pa('20.00')).body.id;
    await backOffice(full, 'CP', eur('20.00'));
    assert.equal((await backOffice(full, 'RV')).body.result.code, '700.300.300');
  });

  test('a reversal that names an amount must name the open remainder in the payment\'s currency; otherwise nothing is released', async () => {
    const id = (await pa('100.00')).body.id;
    await backOffice(id, 'CP', eur('30.00'));
    const part = await backOffice(id, 'RV', eur('10.00'));
    assert.equal(part.status, 400);
    assert.equal(part.body.result.code, '700.100.200', 'a partial release is refused, not widened to the whole hold');
    assert.equal((await backOffice(id, 'RV', { amount: '70.00', currency: 'USD' })).body.result.code, '700.100.500');
    assert.equal((await backOffice(id, 'RV', { currency: 'USD' })).body.result.code, '700.100.500', 'a currency alone is checked too');
    const alone = await backOffice(id, 'RV', { amount: '70.00' });
    assert.equal(alone.status, 400);
    assert.ok(alone.body.result.parameterErrors?.some((e: { name: string }) => e.name === 'currency'), JSON.stringify(alone.body));
    assert.equal((await opp(gw, 'GET', `/v1/payments/${id}`)).body.result.code, success, 'still authorized: nothing was released');
    const rv = await backOffice(id, 'RV', eur('70.00'));
    assert.equal(rv.body.result.code, success);
    assert.equal(rv.body.amount, '70.00');
  });

  test('refunds standing on a capture its PSP reported failed keep the hold: no RV until a new capture covers them', async () => {
    const id = (await pa('100.00')).body.id;
    const cp = await backOffice(id, 'CP', eur('100.00'));
    assert.equal(cp.body.result.code, success);
    assert.equal((await backOffice(cp.body.id, 'RF', eur('60.00'))).body.result.code, success);
    const capture = await gw.app.storage.db.selectFrom('attempts').select('id').where('transaction_id', '=', cp.body.id).executeTakeFirstOrThrow();
    // Days later the card scheme rejects the capture the PSP had confirmed (Adyen's CAPTURE_FAILED).
    const failed = { kind: 'declined' as const, reason: 'provider_error' as const, acquirerCode: 'CAPTURE_FAILED', message: 'rejected', pspReference: undefined, details: {} };
    assert.equal(await gw.app.payments.settleFromPsp('default', capture.id, failed, { reverses: true }), true);
    // The shopper has 60.00 back that was never taken: a void would give up the hold it can be recovered from.
    const rv = await backOffice(id, 'RV');
    assert.equal(rv.status, 400);
    assert.equal(rv.body.result.code, '700.400.300', JSON.stringify(rv.body));
    const payment = (await gw.app.storage.db.selectFrom('transactions').select('payment_id').where('id', '=', id).executeTakeFirstOrThrow()).payment_id;
    // A new capture covers the refunds; the rest may then be voided.
    assert.equal((await backOffice(id, 'CP', eur('60.00'))).body.result.code, success);
    const rest = await backOffice(id, 'RV');
    assert.equal(rest.body.result.code, success);
    assert.equal(rest.body.amount, '40.00');
    assert.deepEqual(brokenInvariants((await gw.app.payments.details(payment))!.operations), []);
  });

  test('a debit cannot be reversed', async () => {
    const id = (await pay(gw)).body.id;
    assert.equal((await backOffice(id, 'RV')).body.result.code, '700.300.700');
  });

  test('a declined authorization cannot be captured or reversed', async () => {
    const id = (await pa('10.00', { 'customParameters[forceResultCode]': '800.100.152' })).body.id;
    assert.equal((await backOffice(id, 'CP', eur('10.00'))).body.result.code, '700.400.510');
    assert.equal((await backOffice(id, 'RV')).body.result.code, '700.400.530');
  });

  test('rebill charges more on a captured payment and makes it refundable', async () => {
    const id = (await pay(gw, { amount: '10.00' })).body.id;
    const rb = await backOffice(id, 'RB', eur('5.00'));
    assert.equal(rb.body.result.code, success);
    assert.equal(rb.body.paymentType, 'RB');
    assert.equal((await backOffice(rb.body.id, 'RF', eur('5.01'))).body.result.code, '700.400.200', 'a refund naming the rebill gives back at most what it charged');
    assert.equal((await backOffice(id, 'RF', eur('15.00'))).body.result.code, success, 'naming the debit names the whole payment');
    const auth = (await pa('10.00')).body.id;
    assert.equal((await backOffice(auth, 'RB', eur('5.00'))).body.result.code, '700.100.700', 'nothing captured to rebill');
    await assertInvariants(id);
  });

  test('chargeback only on captured money, once; refunds and reversals after it are refused', async () => {
    const auth = (await pa('10.00')).body.id;
    assert.equal((await backOffice(auth, 'CB', eur('10.00'))).body.result.code, '700.400.550');
    const id = (await pay(gw, { amount: '30.00' })).body.id;
    await backOffice(id, 'RF', eur('10.00'));
    assert.equal((await backOffice(id, 'CB', eur('20.01'))).body.result.code, '700.400.400', 'not more than what is left after refunds');
    const cb = await backOffice(id, 'CB', eur('20.00'));
    assert.equal(cb.body.result.code, success);
    assert.equal(cb.body.paymentType, 'CB');
    assert.equal((await backOffice(id, 'CB', eur('1.00'))).body.result.code, '700.300.500');
    assert.equal((await backOffice(id, 'RF', eur('1.00'))).body.result.code, '700.300.600');
    assert.equal((await backOffice(id, 'RV')).body.result.code, '700.300.600');
    await assertInvariants(id);
  });

  test('chargeback reversal only on a chargeback, not beyond it; it makes money refundable again', async () => {
    const id = (await pay(gw, { amount: '30.00' })).body.id;
    assert.equal((await backOffice(id, 'CR', eur('1.00'))).body.result.code, '700.400.420', 'CR must name a CB');
    const cb = (await backOffice(id, 'CB', eur('30.00'))).body.id;
    assert.equal((await backOffice(cb, 'CR', eur('30.01'))).body.result.code, '700.400.410');
    const cr = await backOffice(cb, 'CR', eur('10.00'));
    assert.equal(cr.body.result.code, success);
    assert.equal(cr.body.referencedId, cb);
    assert.equal((await backOffice(cb, 'CR', eur('20.00'))).body.result.code, success);
    assert.equal((await backOffice(cb, 'CR', eur('0.01'))).body.result.code, '700.400.410');
    assert.equal((await backOffice(id, 'RF', eur('30.00'))).body.result.code, success);
    await assertInvariants(id);
  });

  test('unknown ids answer per operation (decision 2)', async () => {
    const ghost = 'ab'.repeat(16);
    assert.equal((await backOffice(ghost, 'CP', eur('1.00'))).body.result.code, '700.400.510');
    assert.equal((await backOffice(ghost, 'RV')).body.result.code, '700.400.530');
    assert.equal((await backOffice(ghost, 'RF', eur('1.00'))).body.result.code, '600.200.500');
  });

  test('another merchant’s payment is treated exactly as a missing one', async () => {
    const id = (await pa('10.00')).body.id;
    const other = { url: gw.url, merchant: await gw.app.merchants.create({ name: 'Intruder' }) };
    const cp = await opp(other, 'POST', `/v1/payments/${id}`, { paymentType: 'CP', ...eur('10.00') });
    assert.equal(cp.body.result.code, '700.400.510');
    const st = await opp(other, 'GET', `/v1/payments/${id}`);
    assert.equal(st.status, 400);
    assert.equal(st.body.result.code, '700.400.580');
    assert.equal((await opp(other, 'GET', `/v1/query/${id}`)).body.result.code, '700.400.580');
    assert.equal((await backOffice(id, 'CP', eur('10.00'))).body.result.code, success, 'the owner’s payment was untouched');
  });

  test('concurrent captures never exceed the authorization', async () => {
    const id = (await pa('10.00')).body.id;
    const results = await Promise.all(Array.from({ length: 8 }, () => backOffice(id, 'CP', eur('3.00'))));
    const ok = results.filter((r) => r.body.result.code === success).length;
    assert.equal(ok, 3);
    await assertInvariants(id);
  });
});

describe('status and query', () => {
  test('status shows the transaction; the third call within a minute is throttled, query is not', async () => {
    const id = (await pa()).body.id;
    const s1 = await opp(gw, 'GET', `/v1/payments/${id}`);
    assert.equal(s1.status, 200);
    assert.equal(s1.body.id, id);
    assert.equal(s1.body.result.code, success);
    assert.equal(s1.body.card.last4Digits, '0000');
    assertEnvelope(s1.body);
    assert.equal((await opp(gw, 'GET', `/v1/payments/${id}`)).status, 200);
    const s3 = await opp(gw, 'GET', `/v1/payments/${id}`);
    assert.equal(s3.status, 429);
    assert.equal(s3.body.result.code, '800.120.100');
    assert.equal(s3.body.result.description, 'Rejected by Throttling.');
    assert.ok(Number(s3.headers.get('retry-after')) >= 1);
    assertEnvelope(s3.body);
    for (let i = 0; i < 5; i++) assert.equal((await opp(gw, 'GET', `/v1/query/${id}`)).status, 200);
    clock.advance(60_001);
    assert.equal((await opp(gw, 'GET', `/v1/payments/${id}`)).status, 200, 'the window rolls');
  });

  test('unknown ids: status and query answer 400 700.400.580', async () => {
    for (const path of [`/v1/payments/${'cd'.repeat(16)}`, `/v1/query/${'cd'.repeat(16)}`, '/v1/payments/not-an-id']) {
      const r = await opp(gw, 'GET', path);
      assert.equal(r.status, 400);
      assert.equal(r.body.result.code, '700.400.580');
    }
  });

  test('query by merchantTransactionId lists every transaction carrying it', async () => {
    const mtx = `order-${Date.now()}`;
    const id = (await pa('10.00', { merchantTransactionId: mtx })).body.id;
    await backOffice(id, 'CP', { ...eur('10.00'), merchantTransactionId: mtx });
    const r = await opp(gw, 'GET', '/v1/query', { merchantTransactionId: mtx });
    assert.equal(r.status, 200);
    assert.deepEqual(r.body.result, { code: '000.000.100', description: 'successful request' });
    assert.deepEqual(r.body.payments.map((p: any) => p.paymentType), ['PA', 'CP']);
    assert.equal(r.body.payments[0].id, id);
    assertEnvelope(r.body);
    const none = await opp(gw, 'GET', '/v1/query', { merchantTransactionId: 'never-used' });
    assert.equal(none.status, 400);
    assert.equal(none.body.result.code, '700.400.580');
  });
});
