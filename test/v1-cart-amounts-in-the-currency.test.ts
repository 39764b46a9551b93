/**
 * Cart item amounts (`cart.items[n].price`, `.tax`, `.discount`) are in the amount format of the
 * payment's currency, as its amount is: no decimals for JPY, three for KWD. The check always used
 * two decimals: a KWD payment whose cart item costs `1.250` was refused (on /v1/payments,
 * /v1/registrations/{id}/payments, /v1/checkouts and follow-ups), and a JPY cart priced `500.00` taken.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { opp, pay, startGateway, testCard, type Gateway } from './support/harness.ts';

let gw: Gateway;
before(async () => { gw = await startGateway(); });
after(async () => { await gw?.close(); });

const kwdCart = { currency: 'KWD', amount: '2.500', 'cart.items[0].name': 'Dates', 'cart.items[0].quantity': '2', 'cart.items[0].price': '1.250', 'cart.items[0].tax': '0.125' };

test('KWD payment with a cart item priced 1.250 (three decimals, the currency\'s) is accepted on /v1/payments', async () => {
  const res = await pay(gw, { ...kwdCart, merchantTransactionId: `cart-${randomBytes(6).toString('hex')}` });
  assert.equal(res.body.result.code, '000.100.110', `KWD cart amounts with KWD's three decimals must be accepted; got ${res.status} ${JSON.stringify(res.body.result)}`);
  assert.equal(res.body.cart?.items?.[0]?.price, '1.250');
});

test('KWD payment with a registration and a cart priced 1.250 is accepted', async () => {
  const reg = await opp(gw, 'POST', '/v1/registrations', { ...testCard });
  assert.equal(reg.status, 200);
  const { 'card.number': _n, 'card.holder': _h, 'card.expiryMonth': _m, 'card.expiryYear': _y, 'card.cvv': _c, paymentBrand: _b, ...rest } = { ...testCard, ...kwdCart };
  const res = await opp(gw, 'POST', `/v1/registrations/${reg.body.id}/payments`, { paymentType: 'DB', ...rest });
  assert.equal(res.body.result.code, '000.100.110', `got ${res.status} ${JSON.stringify(res.body.result)}`);
});

test('KWD checkout with a cart priced 1.250 is created', async () => {
  const res = await opp(gw, 'POST', '/v1/checkouts', { paymentType: 'DB', ...kwdCart });
  assert.equal(res.body.result.code, '000.200.100', `got ${res.status} ${JSON.stringify(res.body.result)}`);
});

test('KWD capture carrying a cart priced 1.000 is accepted', async () => {
  const pa = await pay(gw, { paymentType: 'PA', currency: 'KWD', amount: '10.000' });
  assert.equal(pa.status, 200);
  const cp = await opp(gw, 'POST', `/v1/payments/${pa.body.id}`, { paymentType: 'CP', currency: 'KWD', amount: '1.000', 'cart.items[0].price': '1.000' });
  assert.equal(cp.body.result.code, '000.100.110', `got ${cp.status} ${JSON.stringify(cp.body.result)}`);
});

test('JPY payment with a cart item priced 500.00 (JPY has no decimals) → 400 200.300.404 naming cart.items[0].price, nothing stored', async () => {
  const mtx = `cart-${randomBytes(6).toString('hex')}`;
  const res = await pay(gw, { currency: 'JPY', amount: '500', 'cart.items[0].price': '500.00', merchantTransactionId: mtx });
  assert.equal(res.status, 400, `a JPY cart price with decimals must be refused like a JPY amount with decimals; got ${res.status} ${JSON.stringify(res.body.result)}`);
  assert.equal(res.body.result.code, '200.300.404');
  assert.ok(res.body.result.parameterErrors?.some((e: { name: string; value: string }) => e.name === 'cart.items[0].price' && e.value === '500.00'));
  const q = await opp(gw, 'GET', '/v1/query', { merchantTransactionId: mtx });
  assert.equal(q.body.result.code, '700.400.580');
});

test('any field of a cart item past the hundredth is refused naming it, as its price is (its name was dropped unsaid)', async () => {
  for (const field of ['name', 'price', 'merchantItemId']) {
    const name = `cart.items[150].${field}`;
    const res = await pay(gw, { [name]: field === 'price' ? '1.00' : 'x' });
    assert.equal(res.status, 400, `${name}: ${JSON.stringify(res.body.result)}`);
    assert.ok(res.body.result.parameterErrors?.some((e: { name: string; message: string }) => e.name === name && /at most 100 items/.test(e.message)), JSON.stringify(res.body.result));
  }
});
