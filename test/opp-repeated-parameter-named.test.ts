/**
 * `result.parameterErrors` names each refused parameter. A /v1 parameter given twice with different
 * values (`amount=1.00&amount=900.00`, `entityId` twice in a GET's query) is refused naming it: the
 * entry was named `body` (the message alone said which parameter), so a client that maps
 * parameterErrors[].name to its form fields could not tell which one, and a GET has no body at all.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { pay, startGateway, testCard, type Gateway } from './support/harness.ts';

let gw: Gateway;
before(async () => { gw = await startGateway(); });
after(async () => { await gw?.close(); });

const form = (extra: string) => new URLSearchParams({ entityId: gw.merchant.entityId, currency: 'EUR', paymentType: 'DB', ...testCard }).toString() + extra;

test('a /v1 form parameter given twice with different values is refused naming that parameter in parameterErrors', async () => {
  for (const [name, extra] of [['amount', '&amount=1.00&amount=900.00'], ['paymentType', '&amount=1.00&paymentType=PA'], ['customParameters[SHOP]', '&amount=1.00&customParameters[SHOP]=a&customParameters[SHOP]=b']] as const) {
    const r = await fetch(`${gw.url}/v1/payments`, {
      method: 'POST', headers: { authorization: `Bearer ${gw.merchant.accessToken}`, 'content-type': 'application/x-www-form-urlencoded' }, body: form(extra),
    });
    const body = await r.json() as { result: { code: string; parameterErrors?: { name: string }[] } };
    assert.equal(r.status, 400, name);
    assert.equal(body.result.code, '200.300.404', name);
    assert.deepEqual(body.result.parameterErrors?.map((e) => e.name), [name], `${name}: ${JSON.stringify(body.result)}`);
  }
});

test('a /v1 query parameter given twice is refused naming that parameter, not "body"', async () => {
  const paid = await pay(gw);
  assert.equal(paid.status, 200);
  const r = await fetch(`${gw.url}/v1/payments/${paid.body.id}?entityId=${gw.merchant.entityId}&entityId=${'0'.repeat(32)}`, {
    headers: { authorization: `Bearer ${gw.merchant.accessToken}` },
  });
  const body = await r.json() as { result: { code: string; parameterErrors?: { name: string }[] } };
  assert.equal(r.status, 400);
  assert.deepEqual(body.result.parameterErrors?.map((e) => e.name), ['entityId'], JSON.stringify(body.result));
});
