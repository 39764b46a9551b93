/**
 * A declined card opens a COPYandPAY checkout again "so the shopper may try another card"
 * On an entity with unique merchantTransactionIds (an entity setting), the
 * checkout replays its own merchantTransactionId for every card the shopper tries: the declined
 * first payment holds the reference, so the second card is refused 800.130.100 and the checkout
 * could never be paid. A declined payment of a checkout frees the reference for its next try.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { opp, startGateway, type Gateway } from './support/harness.ts';
import type { MerchantCredentials } from '../src/merchants/service.ts';

let gw: Gateway;
let unique: { url: string; merchant: MerchantCredentials };
before(async () => {
  gw = await startGateway();
  unique = { url: gw.url, merchant: await gw.app.merchants.create({ name: 'Unique Refs', uniqueMerchantTransactionId: true }) };
});
after(() => gw.close());

async function widgetPay(id: string, pan: string) {
  const res = await fetch(`${gw.url}/v1/checkouts/${id}/payment`, {
    method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ shopperResultUrl: 'https://shop.example/result', 'card.number': pan, 'card.holder': 'Jane Jones', 'card.expiryMonth': '05', 'card.expiryYear': '2034', 'card.cvv': '123' }),
  });
  return { status: res.status, body: await res.json() as any };
}

test('unique merchantTransactionId entity: after a declined card the checkout is still payable with another card', async () => {
  const c = await opp(unique, 'POST', '/v1/checkouts', { amount: '20.00', currency: 'EUR', paymentType: 'DB', merchantTransactionId: 'order-unique-1' });
  assert.equal(c.body.result.code, '000.200.100', JSON.stringify(c.body));
  const declined = await widgetPay(c.body.id, '4000000000000002');
  assert.match(declined.body.result.code, /^800\.1[0-2]/, JSON.stringify(declined.body.result));
  const retry = await widgetPay(c.body.id, '4200000000000000');
  assert.equal(retry.body.result.code, '000.100.110', `the shopper's second card was refused: ${JSON.stringify(retry.body.result)}`);
  const status = await opp(unique, 'GET', `/v1/checkouts/${c.body.id}/payment`);
  assert.equal(status.body.result.code, '000.100.110');
  // The paid one holds the reference: a server-to-server payment under it is a duplicate.
  const again = await opp(unique, 'POST', '/v1/payments', { amount: '20.00', currency: 'EUR', paymentType: 'DB', merchantTransactionId: 'order-unique-1',
    paymentBrand: 'VISA', 'card.number': '4200000000000000', 'card.holder': 'Jane Jones', 'card.expiryMonth': '05', 'card.expiryYear': '2034', 'card.cvv': '123' });
  assert.equal(again.body.result.code, '800.130.100');
});

test('unique merchantTransactionId entity: a declined server-to-server payment keeps its reference (only a checkout\'s own next try frees it)', async () => {
  const card = { paymentBrand: 'VISA', 'card.holder': 'Jane Jones', 'card.expiryMonth': '05', 'card.expiryYear': '2034', 'card.cvv': '123' };
  const declined = await opp(unique, 'POST', '/v1/payments', { amount: '20.00', currency: 'EUR', paymentType: 'DB', merchantTransactionId: 'order-unique-2', ...card, 'card.number': '4000000000000002' });
  assert.match(declined.body.result.code, /^800\.1[0-2]/, JSON.stringify(declined.body.result));
  const again = await opp(unique, 'POST', '/v1/payments', { amount: '20.00', currency: 'EUR', paymentType: 'DB', merchantTransactionId: 'order-unique-2', ...card, 'card.number': '4200000000000000' });
  assert.equal(again.body.result.code, '800.130.100');
});
