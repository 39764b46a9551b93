/**
 * The rows of docs/test-cards.md (and the README's "Test cards and switches") that
 * test/test-cards.test.ts and test/test-cards-3ds.test.ts do not try, in both dialects: the other
 * approved cards (AMEX with its four-digit code), the Luhn-invalid numbers, an unknown valid card,
 * declines on PA, the Mastercard 3-D Secure rows and their ECIs, the no-answer card settled by the
 * reconciler, the documented cascade rescue, the pending timeout, Cancel, and bank transfers.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { opp, pay, startGateway, type Gateway } from './support/harness.ts';
import { authorizeBody, call, configureCascade, execution, instrument, poll, tokenOf, wf } from './support/executions.ts';
import { answer, openRedirect } from './support/shopper.ts';

let gw: Gateway;
let token: string;
before(async () => {
  gw = await startGateway({ env: { SWITCHYARD_PSP_TIMEOUT_MS: '300', SWITCHYARD_ASYNC_TIMEOUT_MS: '800' } });
  token = await tokenOf(gw);
});
after(() => gw.close());

const ret = 'https://shop.example/return';
let n = 0;
async function authorize(card: string, securityCode = '737') {
  const holder = `walk-${n++}`;
  const inst = await call(gw, 'POST', '/payment/instruments', {
    token, body: { holderReference: holder, paymentMethod: 'card', data: { cardNumber: card, expiryMonth: '03', expiryYear: '30', securityCode, holderName: 'John Doe' } },
  });
  assert.equal(inst.status, 201, JSON.stringify(inst.body));
  const id = await execution(gw, token, holder);
  assert.equal((await call(gw, 'POST', `${wf}/${id}/authorize`, { token, body: authorizeBody(inst.body.id) })).status, 200);
  return { id, x: await poll(gw, token, id, ['created', 'authorizeRequested']) };
}
const settle = async () => { await new Promise((r) => setTimeout(r, 700)); await gw.app.payments.reconcile(); await gw.app.payments.idle(); };

describe('approved cards', () => {
  for (const [card, brand, cvv] of [['4242424242424242', 'VISA', '123'], ['4111111111111111', 'VISA', '123'], ['377777777777770', 'AMEX', '1234'], ['4012888888881881', 'VISA', '123']] as const) {
    test(`${card} (${brand}) is approved in /v1 and executions`, async () => {
      const r = await pay(gw, { 'card.number': card, paymentBrand: brand, 'card.cvv': cvv });
      assert.equal(r.body.result.code, '000.100.110');
      assert.equal((await authorize(card, cvv === '1234' ? '1234' : '737')).x.status, 'authorized');
    });
  }
  test('AMEX with a three-digit CVV is refused (100.100.601)', async () => {
    assert.equal((await pay(gw, { 'card.number': '377777777777770', paymentBrand: 'AMEX' })).body.result.code, '100.100.601');
  });
});

describe('Luhn-invalid numbers', () => {
  for (const card of ['4200000000000001', '4444444444444444']) {
    test(`${card}: 100.100.101 in /v1, a refused instrument in executions`, async () => {
      const r = await pay(gw, { 'card.number': card });
      assert.equal(r.body.result.code, '100.100.101');
      const i = await call(gw, 'POST', '/payment/instruments', { token, body: { holderReference: 'l', paymentMethod: 'card', data: { cardNumber: card, expiryMonth: '03', expiryYear: '30', securityCode: '737', holderName: 'J D' } } });
      assert.equal(i.status, 400);
    });
  }
});

test('decline cards decline a PA as well as a DB', async () => {
  for (const [card, code] of [['4000000000000002', '800.100.152'], ['4000000000000069', '800.100.157'], ['4100000000000019', '100.400.319']]) {
    assert.equal((await pay(gw, { 'card.number': card!, paymentType: 'PA' })).body.result.code, code);
  }
});

describe('3-D Secure, Mastercard rows', () => {
  for (const [card, eci] of [['5200000000000007', '02'], ['5200000000000023', '01']]) {
    test(`${card}: frictionless, ECI ${eci}, both dialects`, async () => {
      const r = await pay(gw, { 'card.number': card!, paymentBrand: 'MASTER', shopperResultUrl: ret });
      assert.deepEqual([r.body.result.code, r.body.threeDSecure?.eci], ['000.100.110', eci]);
      const { x } = await authorize(card!);
      assert.equal(x.status, 'authorized');
      assert.equal(x.paymentComposition[0].attempts.at(-1).authenticated, true);
    });
  }
  test('5386024192625914: challenge, Complete → 000.100.110 ECI 02; executions authorizePending then authorized', async () => {
    const r = await pay(gw, { 'card.number': '5386024192625914', paymentBrand: 'MASTER', shopperResultUrl: ret });
    assert.equal(r.body.result.code, '000.200.000');
    await answer(await openRedirect(r.body.redirect), 'completed');
    const g = await opp(gw, 'GET', `/v1/payments/${r.body.id}`);
    assert.deepEqual([g.body.result.code, g.body.threeDSecure?.eci], ['000.100.110', '02']);
    const { id, x } = await authorize('5386024192625914');
    assert.deepEqual([x.status, x.actionRequired], ['authorizePending', '3ds']);
    await answer(await openRedirect({ url: x.requiredAction.href, method: 'GET', parameters: [] }), 'completed');
    assert.equal((await poll(gw, token, id, ['authorizePending'])).status, 'authorized');
  });
});

test('switches: 3DS2_enrolled=true makes a decline card challenge and then decline; =false takes a table card out; forceResultCode wins', async () => {
  const r = await pay(gw, { 'card.number': '4000000000009995', shopperResultUrl: ret, 'customParameters[3DS2_enrolled]': 'true' });
  assert.equal(r.body.result.code, '000.200.000');
  await answer(await openRedirect(r.body.redirect), 'completed');
  assert.equal((await opp(gw, 'GET', `/v1/payments/${r.body.id}`)).body.result.code, '800.100.155');
  assert.equal((await pay(gw, { 'card.number': '4012001037141112', 'customParameters[3DS2_enrolled]': 'false' })).body.result.code, '000.100.110');
  assert.equal((await pay(gw, { 'customParameters[forceResultCode]': '800.100.151' })).body.result.code, '800.100.151');
  assert.equal((await pay(gw, { testMode: 'EXTERNAL' })).body.result.code, '000.100.112');
});

test('4000000000003006: unknown at first, the reconciler settles it approved, in both dialects', async () => {
  const r = await pay(gw, { 'card.number': '4000000000003006', paymentType: 'PA' });
  assert.equal(r.body.result.code, '900.100.300');
  const { id, x } = await authorize('4000000000003006');
  assert.equal(x.status, 'unknown');
  await settle();
  assert.equal((await opp(gw, 'GET', `/v1/payments/${r.body.id}`)).body.result.code, '000.100.110');
  assert.equal((await poll(gw, token, id, ['unknown'])).status, 'authorized');
});

test('a challenge nobody finishes ends with 100.396.103; Cancel on the page with 100.396.101', async () => {
  const r = await pay(gw, { 'card.number': '4200000000000042', shopperResultUrl: ret });
  const c = await pay(gw, { 'card.number': '4200000000000042', shopperResultUrl: ret });
  await answer(await openRedirect(c.body.redirect), 'cancelled');
  assert.equal((await opp(gw, 'GET', `/v1/payments/${c.body.id}`)).body.result.code, '100.396.101');
  await new Promise((res) => setTimeout(res, 1000));
  await gw.app.payments.expireAwaiting();
  assert.equal((await opp(gw, 'GET', `/v1/payments/${r.body.id}`)).body.result.code, '100.396.103');
});

test('bank transfer: pending with a GET redirect, Complete authorizes, RC receives; Cancel → 100.396.101', async () => {
  const bank = { amount: '10.00', currency: 'EUR', paymentType: 'PA', paymentBrand: 'SOFORTUEBERWEISUNG', 'bankAccount.country': 'DE', shopperResultUrl: ret };
  const b = await opp(gw, 'POST', '/v1/payments', bank);
  assert.deepEqual([b.body.result.code, b.body.redirect.method], ['000.200.000', 'GET']);
  await answer(await openRedirect(b.body.redirect), 'completed');
  assert.equal((await opp(gw, 'GET', `/v1/payments/${b.body.id}`)).body.result.code, '000.100.110');
  assert.equal((await opp(gw, 'POST', `/v1/payments/${b.body.id}`, { paymentType: 'RC', amount: '10.00', currency: 'EUR' })).body.result.code, '000.100.110');
  const c = await opp(gw, 'POST', '/v1/payments', bank);
  await answer(await openRedirect(c.body.redirect), 'cancelled');
  assert.equal((await opp(gw, 'GET', `/v1/payments/${c.body.id}`)).body.result.code, '100.396.101');
});

test('the documented cascade rescue: a soft decline rule on psp-a, psp-b approves', async () => {
  await configureCascade(gw, { 'psp-a': { declines: [{ cardSuffixes: ['1111'], category: 'soft' }] }, 'psp-b': {} }, ['psp-a', 'psp-b']);
  const { x } = await authorize('4111111111111111');
  assert.equal(x.status, 'authorized');
  assert.deepEqual(x.paymentComposition[0].attempts.map((a: any) => [a.pspAccount, a.resultCode]), [['psp-a', '800.100.152'], ['psp-b', '000.100.110']]);
  assert.equal((await pay(gw, { 'card.number': '4111111111111111' })).body.result.code, '000.100.110');
});
