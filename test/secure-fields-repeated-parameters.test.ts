/**
 * The COPYandPAY card frame (`/sdk/v1/field?checkout=…`) is framed only by the origins the
 * checkout's merchant registered. Written twice (`checkout=ID&checkout=ID`), the route read the
 * parameter as an array and checked the page as an SDK field of the `merchant` named beside it (any
 * merchant, the page's own), while the frame's script read the first value and paid merchant A's
 * checkout, answering another merchant's page with the payment (card's BIN, last four, holder). A
 * field parameter given twice is now refused.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { opp, startGateway, type Gateway } from './support/harness.ts';
import type { MerchantCredentials } from '../src/merchants/service.ts';

let gw: Gateway;
let other: MerchantCredentials;
const otherOrigin = 'https://shop-b.example';

before(async () => {
  gw = await startGateway();
  // Merchant A registered its shop: its checkout's card frame may be framed only there.
  await gw.app.merchants.addOrigin(gw.merchant.merchantId, 'https://shop-a.example');
  other = await gw.app.merchants.create({ name: 'Merchant B' });
  await gw.app.merchants.addOrigin(other.merchantId, otherOrigin);
});
after(async () => { await gw?.close(); });

test('a secure-field parameter given twice is refused: merchant A\'s checkout frame is never served to another merchant\'s page', async () => {
  const c = await opp(gw, 'POST', '/v1/checkouts', { amount: '25.00', currency: 'EUR', paymentType: 'DB', shopperResultUrl: 'https://shop-a.example/result' });
  assert.equal(c.body.result.code, '000.200.100', JSON.stringify(c.body));
  const id = c.body.id as string;
  const channel = 'abcdef0123456789';
  const sdkField = `${gw.url}/sdk/v1/field?type=cardNumber&merchant=${other.merchantId}&parent=${encodeURIComponent(otherOrigin)}&channel=${channel}`;
  // Controls: B's own SDK field is served on B's page; A's checkout frame is refused there.
  assert.equal((await fetch(sdkField)).status, 200);
  assert.equal((await fetch(`${gw.url}/sdk/v1/field?type=cardNumber&checkout=${id}&parent=${encodeURIComponent(otherOrigin)}&channel=${channel}`)).status, 400);
  for (const k of [`checkout=${id}&checkout=${id}`, 'type=cvv', `channel=${channel}`, `merchant=${other.merchantId}`, `parent=${encodeURIComponent(otherOrigin)}`]) {
    const twice = await fetch(`${sdkField}&${k}`);
    const text = await twice.text();
    assert.equal(twice.status, 400, `${k}: served (${text.slice(0, 60)})`);
    assert.match(text, /must be given once/);
    assert.match(twice.headers.get('content-security-policy') ?? '', /frame-ancestors 'none'/);
  }
});
