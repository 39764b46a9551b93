/**
 * Who starts a payment, and with which card: a checkout is paid by the shopper on the page, so it is
 * never merchant-initiated (3-D Secure is not skipped), whatever the backend or the browser sends;
 * a /v1 payment naming a registration and sending card data is refused, not paid with either in silence.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { opp, startGateway, testCard, type Gateway } from './support/harness.ts';

let gw: Gateway;
before(async () => { gw = await startGateway(); });
after(() => gw.close());

const shopperCard = { 'card.number': '4200000000000042', 'card.holder': 'Jane Jones', 'card.expiryMonth': '05', 'card.expiryYear': '2034', 'card.cvv': '123' };

async function widgetPay(checkoutId: string, extra: Record<string, string> = {}) {
  const res = await fetch(`${gw.url}/v1/checkouts/${checkoutId}/payment`, {
    method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ ...shopperCard, shopperResultUrl: 'https://shop.example/r', ...extra }).toString(),
  });
  return { status: res.status, body: await res.json() as any };
}

test('a shopper posting standingInstruction.source=MIT to the widget endpoint is still challenged', async () => {
  const co = await opp(gw, 'POST', '/v1/checkouts', { amount: '15.00', currency: 'EUR', paymentType: 'DB', shopperResultUrl: 'https://shop.example/r' });
  const p = await widgetPay(co.body.id, { 'standingInstruction.source': 'MIT' });
  assert.equal(p.body.result.code, '000.200.000');
});

test('a COPYandPAY checkout (shopper present, typing the card) is never paid as merchant-initiated, skipping 3-D Secure', async () => {
  const co = await opp(gw, 'POST', '/v1/checkouts', { amount: '15.00', currency: 'EUR', paymentType: 'DB', shopperResultUrl: 'https://shop.example/r', 'standingInstruction.source': 'MIT' });
  assert.equal(co.status, 400, JSON.stringify(co.body));
  assert.equal(co.body.result.parameterErrors[0].name, 'standingInstruction.source');
  // The older flag of a charge without the shopper is refused there too, naming it.
  const repeated = await opp(gw, 'POST', '/v1/checkouts', { amount: '15.00', currency: 'EUR', paymentType: 'DB', shopperResultUrl: 'https://shop.example/r', recurringType: 'REPEATED' });
  assert.equal(repeated.status, 400, JSON.stringify(repeated.body));
  assert.equal(repeated.body.result.parameterErrors[0].name, 'recurringType');
  const customer = await opp(gw, 'POST', '/v1/checkouts', { amount: '15.00', currency: 'EUR', paymentType: 'DB', shopperResultUrl: 'https://shop.example/r', recurringType: 'REPEATED', 'standingInstruction.source': 'CIT' });
  assert.equal(customer.status, 200, 'a repeated charge the shopper makes on the page is a checkout');
});

test('POST /v1/payments with registrationId AND card data is refused, not paid with the other card in silence', async () => {
  const reg = await opp(gw, 'POST', '/v1/registrations', testCard);
  const r = await opp(gw, 'POST', '/v1/payments', {
    ...testCard, 'card.number': '5454545454545454', paymentBrand: 'MASTER', amount: '15.00', currency: 'EUR', paymentType: 'DB', registrationId: reg.body.id,
  });
  assert.equal(r.status, 400, `paid card ${r.body.card?.last4Digits}, registrationId answered: ${r.body.registrationId}, result ${r.body.result.code}`);
  assert.equal(r.body.result.code, '200.300.404');
  assert.equal(r.body.result.parameterErrors[0].name, 'registrationId');
  // A CVV typed again for the stored card is not card data of another card.
  const withCvv = await opp(gw, 'POST', '/v1/payments', { 'card.cvv': '123', amount: '15.00', currency: 'EUR', paymentType: 'DB', registrationId: reg.body.id });
  assert.equal(withCvv.body.result.code, '000.100.110', JSON.stringify(withCvv.body.result));
});
