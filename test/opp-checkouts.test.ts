/**
 * COPYandPAY over HTTP (the widget's own calls made by hand; test/browser-copyandpay.test.ts drives
 * the real widget): `POST /v1/checkouts`, the widget's view and payment of a checkout, the merchant's
 * `GET /v1/checkouts/{id}/payment` with its two-a-minute rule, expiry after 30 minutes, one payment
 * per checkout (a decline opens it again), saved registrations, and 3-D Secure landing on the
 * checkout's resourcePath.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { manualClock } from '../src/runtime/clock.ts';
import { opp, startGateway, testCard, type Gateway } from './support/harness.ts';
import { answer, openRedirect } from './support/shopper.ts';

const success = '000.100.110';
const clock = manualClock(Date.now());
const resultUrl = 'https://shop.example/result?order=7';
let gw: Gateway;
before(async () => { gw = await startGateway({ clock }); });
after(() => gw.close());

const create = (params: Record<string, string> = {}) =>
  opp(gw, 'POST', '/v1/checkouts', { amount: '48.99', currency: 'EUR', paymentType: 'DB', merchantTransactionId: 'order-7', 'customer.email': 'jane@example.com', ...params });
/** What the widget (its card frame) posts: no bearer token, the checkout id is the credential. */
async function widgetPay(id: string, params: Record<string, string>) {
  const res = await fetch(`${gw.url}/v1/checkouts/${id}/payment`, {
    method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams({ shopperResultUrl: resultUrl, ...params }),
  });
  return { status: res.status, headers: res.headers, body: await res.json() as any };
}
const card = (pan = '4200000000000000') => ({
  'card.number': pan, 'card.holder': 'Jane Jones', 'card.expiryMonth': '05', 'card.expiryYear': '2034', 'card.cvv': '123',
});
const status = (id: string) => opp(gw, 'GET', `/v1/checkouts/${id}/payment`);

describe('COPYandPAY checkouts', () => {
  test('POST /v1/checkouts answers 000.200.100 with the checkout id (also the ndc); bad input is refused naming the field', async () => {
    const r = await create();
    assert.equal(r.status, 200);
    assert.deepEqual(r.body.result, { code: '000.200.100', description: 'successfully created checkout' });
    assert.match(r.body.id, /^[0-9A-F]{32}\.sy01$/);
    assert.equal(r.body.ndc, r.body.id);
    const bad = await create({ paymentType: 'RF', 'card.number': '4200000000000000' });
    assert.equal(bad.status, 400);
    assert.deepEqual(bad.body.result.parameterErrors.map((e: any) => e.name).sort(), ['card.number', 'paymentType']);
    assert.ok(!JSON.stringify(bad.body).includes('4200000000000000'));
    assert.equal((await create({ amount: '1.5' })).body.result.parameterErrors[0].name, 'amount');
    const unauth = await opp(gw, 'POST', '/v1/checkouts', { amount: '1.00', currency: 'EUR', paymentType: 'DB' }, 'nope');
    assert.equal(unauth.status, 401);
    // An outside 3-D Secure result is of one card; the shopper has not entered theirs yet.
    const mpi = await create({
      'threeDSecure.eci': '05', 'threeDSecure.verificationId': 'AAACBllleHchZTBWIGV4AAAAAAA=',
      'threeDSecure.dsTransactionId': 'f25084f0-5b16-4c0a-ae5d-b24808a95e4b', 'threeDSecure.version': '2.2.0',
    });
    assert.equal(mpi.status, 400, JSON.stringify(mpi.body));
    assert.deepEqual(mpi.body.result.parameterErrors.map((e: { name: string }) => e.name), ['threeDSecure.verificationId', 'threeDSecure.dsTransactionId']);
  });

  test('an amount sent with leading zeros is shown and charged as the gateway prints amounts: 048.99 becomes 48.99', async () => {
    const c = await create({ amount: '048.99', merchantTransactionId: 'order-leading-zero' });
    assert.equal(c.status, 200, JSON.stringify(c.body));
    const view = await (await fetch(`${gw.url}/v1/checkouts/${c.body.id}/widget`)).json() as any;
    assert.equal(view.amount, '48.99');
    const paid = await widgetPay(c.body.id, card());
    assert.equal(paid.body.result.code, success, JSON.stringify(paid.body));
    assert.equal(paid.body.amount, '48.99');
  });

  test('the widget pays with a card; the shopper lands on shopperResultUrl with id and resourcePath; GET resourcePath reads the payment, twice a minute', async () => {
    const c = await create();
    const id = c.body.id;
    const before = await status(id);
    assert.equal(before.body.result.code, '000.200.000', 'open, nothing paid yet');
    const w = await fetch(`${gw.url}/v1/checkouts/${id}/widget`);
    assert.equal(w.headers.get('access-control-allow-origin'), '*');
    const view = await w.json() as any;
    assert.equal(view.amount, '48.99');
    assert.deepEqual(view.registrations, []);
    // The shopper's browser cannot change what the merchant's backend set.
    const paid = await widgetPay(id, { ...card(), amount: '0.01', paymentType: 'PA', merchantTransactionId: 'forged' });
    assert.equal(paid.status, 200, JSON.stringify(paid.body));
    assert.equal(paid.headers.get('access-control-allow-origin'), null, 'the card is posted by the gateway\'s own frame: no other origin reads the answer');
    assert.equal(paid.body.result.code, success);
    assert.equal(paid.body.amount, '48.99');
    assert.equal(paid.body.paymentType, 'DB');
    assert.equal(paid.body.paymentBrand, 'VISA');
    assert.equal(paid.body.merchantTransactionId, 'order-7');
    assert.ok(!JSON.stringify(paid.body).includes('4200000000000000'));
    const landing = new URL(paid.body.resultUrl);
    assert.equal(landing.origin + landing.pathname, 'https://shop.example/result');
    assert.equal(landing.searchParams.get('order'), '7');
    assert.equal(landing.searchParams.get('id'), id);
    assert.equal(landing.searchParams.get('resourcePath'), `/v1/checkouts/${id}/payment`);
    // before's call counted: one more is allowed in the minute, the next is throttled.
    const read = await opp(gw, 'GET', landing.searchParams.get('resourcePath')!);
    assert.equal(read.status, 200);
    assert.equal(read.body.id, paid.body.id);
    assert.equal(read.body.result.code, success);
    assert.equal(read.body.ndc, id);
    assert.equal(read.body.customer.email, 'jane@example.com');
    const third = await status(id);
    assert.equal(third.status, 429);
    assert.equal(third.body.result.code, '800.120.100');
    assert.equal(third.body.ndc, id, 'every answer about the checkout carries its id as the ndc');
    assert.ok(Number(third.headers.get('retry-after')) >= 1);
    clock.advance(61_000);
    assert.equal((await status(id)).status, 200);
    // Paying twice is refused, and nothing new is recorded.
    const again = await widgetPay(id, card());
    assert.equal(again.status, 400);
    assert.match(again.body.result.parameterErrors[0].message, /paid already/);
    assert.equal((await opp(gw, 'GET', '/v1/query', { merchantTransactionId: 'order-7' })).body.records, 1);
  });

  test('a declined card leaves the checkout open for another card; the status shows the latest payment', async () => {
    const c = await create({ merchantTransactionId: 'order-decline' });
    const declined = await widgetPay(c.body.id, card('4000000000000002'));
    assert.equal(declined.status, 400);
    assert.match(declined.body.result.code, /^800\./);
    assert.equal((await status(c.body.id)).body.id, declined.body.id);
    const ok = await widgetPay(c.body.id, card());
    assert.equal(ok.body.result.code, success);
    assert.equal((await status(c.body.id)).body.id, ok.body.id);
  });

  test('two payments of one checkout at once: exactly one is made', async () => {
    const c = await create({ merchantTransactionId: 'order-race' });
    const both = await Promise.all([widgetPay(c.body.id, card()), widgetPay(c.body.id, card())]);
    assert.deepEqual(both.map((r) => r.body.result.code === success).sort(), [false, true]);
    assert.equal((await opp(gw, 'GET', '/v1/query', { merchantTransactionId: 'order-race' })).body.records, 1);
  });

  test('a checkout expires after 30 minutes: the widget cannot pay it and the status call finds no session', async () => {
    const c = await create();
    clock.advance(30 * 60_000);
    const late = await widgetPay(c.body.id, card());
    assert.equal(late.status, 400);
    assert.equal(late.body.result.code, '200.300.404');
    assert.equal(late.body.result.parameterErrors[0].message, 'No payment session found for the requested id');
    const s = await status(c.body.id);
    assert.equal(s.status, 400);
    assert.equal(s.body.result.parameterErrors[0].message, 'No payment session found for the requested id');
  });

  test('another merchant cannot read a checkout; an unknown id finds no session', async () => {
    const c = await create();
    const other = await gw.app.merchants.create({ name: 'Other Shop' });
    const foreign = await opp({ ...gw, merchant: other }, 'GET', `/v1/checkouts/${c.body.id}/payment`);
    assert.equal(foreign.status, 400);
    assert.equal((await status('0123456789ABCDEF0123456789ABCDEF.sy01')).status, 400);
    assert.equal((await widgetPay('not-a-checkout', card())).status, 400);
  });

  test('registrations offered for one-click: the widget lists them masked and pays with the chosen one; createRegistration makes one', async () => {
    const reg = await opp(gw, 'POST', '/v1/registrations', { ...testCard });
    const unknown = await create({ 'registrations[0].id': '0123456789abcdef0123456789abcdef' });
    assert.equal(unknown.status, 400);
    const c = await create({ 'registrations[0].id': reg.body.id, merchantTransactionId: 'order-oneclick' });
    assert.equal(c.body.result.code, '000.200.100');
    const view = await (await fetch(`${gw.url}/v1/checkouts/${c.body.id}/widget`)).json() as any;
    assert.deepEqual(view.registrations, [{ id: reg.body.id, brand: 'VISA', last4Digits: '0000', expiryMonth: '05', expiryYear: '2034', holder: 'Jane Jones' }]);
    const notOffered = await widgetPay(c.body.id, { registrationId: 'ffffffffffffffffffffffffffffffff' });
    assert.equal(notOffered.body.result.code, '100.150.200');
    const paid = await widgetPay(c.body.id, { registrationId: reg.body.id });
    assert.equal(paid.body.result.code, success, JSON.stringify(paid.body));
    assert.equal(paid.body.registrationId, reg.body.id);
    const keep = await create({ createRegistration: 'true' });
    const made = await widgetPay(keep.body.id, card());
    assert.match(made.body.registrationId, /^[0-9a-f]{32}$/);
  });

  test('3-D Secure: the widget gets the challenge redirect; afterwards the shopper lands on the checkout\'s resourcePath', async () => {
    const c = await create({ merchantTransactionId: 'order-3ds' });
    const r = await widgetPay(c.body.id, card('4012000000003119'));
    assert.equal(r.body.result.code, '000.200.000');
    assert.ok(r.body.redirect, JSON.stringify(r.body));
    const page = await openRedirect(r.body.redirect);
    const done = await answer(page, 'completed');
    assert.equal(done.status, 303);
    const landing = new URL(done.location!);
    assert.equal(landing.searchParams.get('id'), c.body.id);
    assert.equal(landing.searchParams.get('resourcePath'), `/v1/checkouts/${c.body.id}/payment`);
    const read = await opp(gw, 'GET', landing.searchParams.get('resourcePath')!);
    assert.equal(read.body.result.code, success);
    assert.equal(read.body.threeDSecure.eci, '05');
  });

  test('a failed challenge opens the checkout again', async () => {
    const c = await create();
    const r = await widgetPay(c.body.id, card('4012000000003119'));
    await answer(await openRedirect(r.body.redirect), 'failed');
    const retry = await widgetPay(c.body.id, card());
    assert.equal(retry.body.result.code, success);
  });

  test('while another tab\'s payment of the checkout is under way, a second card is told to try again (800.700.100), not "paid already"; once that payment fails, the second card pays', async () => {
    const c = await create({ merchantTransactionId: 'order-two-tabs' });
    const first = await widgetPay(c.body.id, card('4012000000003119'));
    assert.equal(first.body.result.code, '000.200.000', JSON.stringify(first.body));
    const second = await widgetPay(c.body.id, card());
    assert.equal(second.body.result.code, '800.700.100', `told while the first payment's challenge is open: ${JSON.stringify(second.body.result)}`);
    assert.deepEqual(second.body.result.parameterErrors?.map((e: { name: string }) => e.name), ['id']);
    const view = await fetch(`${gw.url}/v1/checkouts/${c.body.id}/widget`);
    assert.equal(((await view.json()) as any).result.code, '800.700.100', 'the widget\'s view says the same');
    await answer(await openRedirect(first.body.redirect), 'failed');
    const again = await widgetPay(c.body.id, card());
    assert.equal(again.body.result.code, success, JSON.stringify(again.body.result));
    const paidAlready = await widgetPay(c.body.id, card());
    assert.equal(paidAlready.body.result.code, '200.300.404');
    assert.match(paidAlready.body.result.parameterErrors[0].message, /paid already/);
  });

  test('two tabs paying at the same instant, one card declined and one good: the good card is never told "paid already" while nothing was paid', async () => {
    for (let i = 0; i < 6; i++) {
      const c = await create({ merchantTransactionId: `order-race-${i}` });
      const [declined, good] = await Promise.all([widgetPay(c.body.id, card('4000000000000002')), widgetPay(c.body.id, card())]);
      assert.match(declined.body.result.code, /^(800\.|200\.300\.404)/, JSON.stringify(declined.body.result));
      const toldPaid = (good.body.result.parameterErrors ?? []).some((e: { message: string }) => /paid already/.test(e.message));
      if (!toldPaid) continue;
      const read = await status(c.body.id);
      assert.equal(read.body.result.code, success, `try ${i}: the good card was told "paid already", but the checkout's payment was declined (${read.body.result.code})`);
    }
  });

  test('the widget script is served to any origin', async () => {
    const res = await fetch(`${gw.url}/v1/paymentWidgets.js?checkoutId=X`);
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type')!, /javascript/);
    assert.equal(res.headers.get('access-control-allow-origin'), '*');
    assert.match(await res.text(), /paymentWidgets/);
  });
});

test('one-click does not offer a registration whose card has expired since (paying it would be refused 100.100.303)', async () => {
  const now = new Date(clock.now());
  const expiry = { 'card.expiryMonth': String(now.getUTCMonth() + 1).padStart(2, '0'), 'card.expiryYear': String(now.getUTCFullYear()) };
  const [expiring, lasting] = [await opp(gw, 'POST', '/v1/registrations', { ...testCard, ...expiry }), await opp(gw, 'POST', '/v1/registrations', testCard)];
  assert.equal(expiring.status, 200, JSON.stringify(expiring.body));
  // Its month ends: the card has expired.
  clock.advance(40 * 24 * 3600 * 1000);
  const direct = await opp(gw, 'POST', `/v1/registrations/${expiring.body.id}/payments`, { amount: '5.00', currency: 'EUR', paymentType: 'DB' });
  assert.equal(direct.body.result.code, '100.100.303');
  const c = await opp(gw, 'POST', '/v1/checkouts', { amount: '10.00', currency: 'EUR', paymentType: 'DB', 'registrations[0].id': expiring.body.id, 'registrations[1].id': lasting.body.id });
  assert.equal(c.status, 200, JSON.stringify(c.body));
  const view = await (await fetch(`${gw.url}/v1/checkouts/${c.body.id}/widget`)).json() as { registrations: { id: string }[] };
  assert.deepEqual(view.registrations.map((r) => r.id), [lasting.body.id]);
});

describe('the brands a checkout\'s form takes (the widget\'s data-brands)', () => {
  const electron = '4917610000000000';
  const pay = async (pan: string, brands: string, reference: string) => {
    const c = await create({ merchantTransactionId: reference });
    assert.equal(c.status, 200, JSON.stringify(c.body));
    return widgetPay(c.body.id, { ...card(pan), brands });
  };

  test('a Visa Electron card pays a form listing VISA alone, recorded as VISA (the widget showed it as Visa; server-to-server it is paid as VISA)', async () => {
    const r = await pay(electron, 'VISA MASTER AMEX', 'order-brands-electron');
    assert.equal(r.body.result.code, success, `the shopper's Visa card was refused: ${JSON.stringify(r.body.result)}`);
    assert.equal(r.body.paymentBrand, 'VISA');
  });

  test('a form listing VISAELECTRON records the card as such; a brand the form does not list is refused naming it, and nothing is paid', async () => {
    const listed = await pay(electron, 'VISAELECTRON VISA', 'order-brands-listed');
    assert.equal(listed.body.result.code, success, JSON.stringify(listed.body.result));
    assert.equal(listed.body.paymentBrand, 'VISAELECTRON');
    const master = await pay('5454545454545454', 'VISA AMEX', 'order-brands-master');
    assert.equal(master.body.result.code, '100.100.501', JSON.stringify(master.body.result));
    assert.deepEqual(master.body.result.parameterErrors, [{ name: 'paymentBrand', value: 'MASTER', message: 'this brand is not accepted here' }]);
    assert.equal((await opp(gw, 'GET', '/v1/query', { merchantTransactionId: 'order-brands-master' })).body.payments?.length ?? 0, 0);
  });
});
