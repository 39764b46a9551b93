/**
 * The /v1 dialect reads form-encoded bodies only. A multipart/form-data body (what PHP's cURL sends
 * for an array of POSTFIELDS, what fetch sends for a FormData) was read as if it were form-encoded,
 * and the merchant was told `entityId` "may not be empty" although it sent one: the refusal says
 * what is wrong (the body's format), as the JSON case does. A body past the limit says it is too
 * large, not only that it could not be read.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { startGateway, testCard, opp, type Gateway } from './support/harness.ts';

let gw: Gateway;
before(async () => { gw = await startGateway(); });
after(async () => { await gw?.close(); });

test('/v1: a multipart/form-data payment is refused naming the body format, not a missing entityId; no payment is made', async () => {
  const fd = new FormData();
  const params = { entityId: gw.merchant.entityId, amount: '10.00', currency: 'EUR', paymentType: 'DB', merchantTransactionId: 'mp-1', ...testCard };
  for (const [k, v] of Object.entries(params)) fd.set(k, v);
  const r = await fetch(`${gw.url}/v1/payments`, { method: 'POST', headers: { authorization: `Bearer ${gw.merchant.accessToken}` }, body: fd });
  const body = await r.json() as { result: { code: string; description: string; parameterErrors?: { name: string; message: string }[] } };
  assert.equal(r.status, 400);
  assert.equal(body.result.code, '200.300.404');
  const named = body.result.parameterErrors?.map((e) => e.name) ?? [];
  assert.ok(!named.includes('entityId'), `entityId was sent, yet the refusal names it: ${JSON.stringify(body.result)}`);
  assert.match(JSON.stringify(body.result), /form-urlencoded|multipart/i, 'the refusal says the body must be form-encoded');
  const q = await opp(gw, 'GET', '/v1/query', { merchantTransactionId: 'mp-1' });
  assert.equal(q.body.result.code, '700.400.580', 'no payment was made');
});

test('/v1: a body past the 64 KiB limit says it is too large (413), as the executions dialect does', async () => {
  const form = new URLSearchParams({ entityId: gw.merchant.entityId, amount: '10.00', currency: 'EUR', paymentType: 'DB', merchantTransactionId: 'big-1', ...testCard }).toString();
  const r = await fetch(`${gw.url}/v1/payments`, {
    method: 'POST', headers: { authorization: `Bearer ${gw.merchant.accessToken}`, 'content-type': 'application/x-www-form-urlencoded' },
    body: `${form}&customParameters[note]=${'a'.repeat(70_000)}`,
  });
  const body = await r.json() as { result: { code: string; parameterErrors: { name: string; message: string }[] } };
  assert.equal(r.status, 413);
  assert.equal(body.result.parameterErrors[0]!.name, 'body');
  assert.match(body.result.parameterErrors[0]!.message, /too large|64 KiB|limit/i, `told: ${body.result.parameterErrors[0]!.message}`);
});
