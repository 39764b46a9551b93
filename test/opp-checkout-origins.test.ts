import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { opp, startGateway, type Gateway } from './support/harness.ts';

/**
 * A checkout id is not secret from the world: it sits in the shop page's <script src>, the
 * shopper's history and any Referer. With the merchant's origins registered, neither the frames of
 * a checkout nor the shopper's return after its challenge may leave them.
 */
let gw: Gateway;
before(async () => {
  gw = await startGateway();
  await gw.app.merchants.addOrigin(gw.merchant.merchantId, 'https://shop.example');
});
after(async () => { await gw?.close(); });

const newCheckout = async () => {
  const c = await opp(gw, 'POST', '/v1/checkouts', { amount: '48.99', currency: 'EUR', paymentType: 'DB', merchantTransactionId: 'order-o1' });
  assert.equal(c.body.result.code, '000.200.100');
  return c.body.id as string;
};

test('a checkout\'s card frames cannot be framed by an origin the merchant did not register', async () => {
  const id = await newCheckout();
  const field = (parent: string) => fetch(`${gw.url}/sdk/v1/field?${new URLSearchParams({ type: 'cardNumber', checkout: id, parent, channel: 'abcdefgh12' })}`);
  const res = await field('https://evil.example');
  assert.equal(res.status, 400, `rendered with ${res.headers.get('content-security-policy')}`);
  assert.match(await res.text(), /not registered to embed the checkout/);
  const ours = await field('https://shop.example');
  assert.equal(ours.status, 200);
  assert.match(ours.headers.get('content-security-policy') ?? '', /frame-ancestors https:\/\/shop\.example/);
});

test('a checkout paid from the browser with a shopperResultUrl outside the registered origins does not send the shopper there', async () => {
  const id = await newCheckout();
  const form = new URLSearchParams({
    'card.number': '4200000000000042', 'card.expiryMonth': '12', 'card.expiryYear': '2034', 'card.cvv': '123', 'card.holder': 'Jane',
    shopperResultUrl: 'https://evil.example/landing',
  });
  const res = await fetch(`${gw.url}/v1/checkouts/${id}/payment`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: form });
  const paid = await res.json() as any;
  assert.equal(res.status, 400, JSON.stringify(paid));
  assert.equal(paid.result.code, '600.300.211');
  assert.deepEqual(paid.result.parameterErrors.map((e: any) => e.name), ['shopperResultUrl']);
  assert.equal(paid.redirect, undefined);
  // The checkout is still payable, with a result URL on a registered origin.
  form.set('shopperResultUrl', 'https://shop.example/landing');
  const ok = await (await fetch(`${gw.url}/v1/checkouts/${id}/payment`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: form })).json() as any;
  assert.ok(ok.redirect || ok.result.code.startsWith('000.'), JSON.stringify(ok));
});
