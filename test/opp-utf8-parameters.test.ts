/**
 * The `/v1` wire is UTF-8. A Latin-1 client that percent-encodes `é` as `%E9` (or sends the raw
 * byte) sends text that is not UTF-8: decoded with replacement characters, two different merchant
 * references would read as one (a strict entity refusing the second order as a duplicate, a query
 * for one order listing the other's payment) and names would be stored altered. Such a request is
 * refused (400, 200.300.404 naming the parameter) and changes nothing; UTF-8 text is kept as sent.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { startGateway, testCard, type Gateway } from './support/harness.ts';
import type { MerchantCredentials } from '../src/merchants/service.ts';

let gw: Gateway;
let strict: MerchantCredentials;
before(async () => {
  gw = await startGateway();
  strict = await gw.app.merchants.create({ name: 'Strict', uniqueMerchantTransactionId: true });
});
after(async () => { await gw?.close(); });

async function rawPay(m: MerchantCredentials, extra: string | Buffer) {
  const base = new URLSearchParams({ entityId: m.entityId, amount: '1.00', currency: 'EUR', paymentType: 'DB', ...testCard }).toString();
  const body = typeof extra === 'string' ? `${base}&${extra}` : Buffer.concat([Buffer.from(`${base}&`), extra]);
  const res = await fetch(gw.url + '/v1/payments', {
    method: 'POST', headers: { authorization: `Bearer ${m.accessToken}`, 'content-type': 'application/x-www-form-urlencoded' }, body,
  });
  return { status: res.status, body: await res.json() as any };
}

const paymentsCount = async () => Number((await gw.app.storage.db.selectFrom('payments').select((eb) => eb.fn.countAll().as('n')).executeTakeFirstOrThrow()).n);

test('a percent-encoded Latin-1 reference is refused, naming it; two such orders are never one false duplicate', async () => {
  const before = await paymentsCount();
  for (const reference of ['caf%E9-1', 'caf%E8-1']) {
    const r = await rawPay(strict, `merchantTransactionId=${reference}`);
    assert.equal(r.status, 400, JSON.stringify(r.body));
    assert.equal(r.body.result.code, '200.300.404');
    assert.match(r.body.result.parameterErrors[0].message, /parameter merchantTransactionId is not UTF-8/);
    assert.equal(r.body.result.parameterErrors[0].name, 'merchantTransactionId');
  }
  assert.equal(await paymentsCount(), before, 'nothing was stored');
});

test('a raw byte that is not UTF-8 in the body is refused', async () => {
  const r = await rawPay(gw.merchant, Buffer.from([...Buffer.from('card.holder=J'), 0xe9, ...Buffer.from('r')]));
  assert.equal(r.status, 400, JSON.stringify(r.body));
  assert.equal(r.body.result.code, '200.300.404');
  assert.match(r.body.result.parameterErrors[0].message, /the body is not UTF-8/);
});

test('/v1/query with a Latin-1 reference is refused, not answered with another order\'s payment', async () => {
  const a = await rawPay(gw.merchant, 'merchantTransactionId=order-%C3%A9');
  assert.equal(a.body.merchantTransactionId, 'order-é');
  const res = await fetch(`${gw.url}/v1/query?entityId=${gw.merchant.entityId}&merchantTransactionId=order-%E8`, { headers: { authorization: `Bearer ${gw.merchant.accessToken}` } });
  const body = await res.json() as any;
  assert.equal(res.status, 400, JSON.stringify(body));
  assert.equal(body.result.code, '200.300.404');
  assert.ok(!JSON.stringify(body).includes(a.body.id));
});

test('UTF-8 text is kept as sent: accents, and a replacement character the client itself wrote', async () => {
  const r = await rawPay(gw.merchant, `merchantTransactionId=${encodeURIComponent('café-\uFFFD-1')}&customer.givenName=${encodeURIComponent('Jérôme Ünal')}`);
  assert.equal(r.status, 200, JSON.stringify(r.body));
  assert.equal(r.body.merchantTransactionId, 'café-\uFFFD-1');
  assert.equal(r.body.customer.givenName, 'Jérôme Ünal');
  // A form sent without percent-encoding its UTF-8 is read the same.
  const raw = await rawPay(gw.merchant, Buffer.from('merchantTransactionId=café-2', 'utf8'));
  assert.equal(raw.body.merchantTransactionId, 'café-2');
});
