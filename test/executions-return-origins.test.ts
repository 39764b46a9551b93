/**
 * Where the shopper's browser goes after the hosted pages (`returnInfo`): a merchant that
 * registered its origins sends shoppers back to them only; one that registered none may name any
 * https URL.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { startGateway, type Gateway } from './support/harness.ts';
import { authorizeBody, call, execution, instrument, tokenOf, wf } from './support/executions.ts';

let gw: Gateway;
let token: string;
before(async () => {
  gw = await startGateway();
  token = await tokenOf(gw);
});
after(async () => { await gw?.close(); });

test('returnInfo outside the merchant\'s registered origins is refused naming the URL\'s field, and nothing is authorized; on them, or with none registered, it is taken', async () => {
  const inst = await instrument(gw, token, '4200000000000042');
  const open = await execution(gw, token);
  // No origin registered yet: any https URL.
  assert.equal((await call(gw, 'POST', `${wf}/${open}/authorize`, { token, body: { ...authorizeBody(inst), returnInfo: { success: 'https://anywhere.example/ok' } } })).status, 200);

  await gw.app.merchants.addOrigin(gw.merchant.merchantId, 'https://shop.example');
  const inst2 = await instrument(gw, token, '4200000000000042');
  const id = await execution(gw, token);
  const r = await call(gw, 'POST', `${wf}/${id}/authorize`, { token, body: { ...authorizeBody(inst2), returnInfo: { success: 'https://shop.example/ok', cancel: 'https://evil.example/phish' } } });
  assert.equal(r.status, 400, JSON.stringify(r.body).slice(0, 300));
  assert.equal(r.body.errors[0].code, 'request.param.invalid');
  assert.match(r.body.errors[0].detail, /^returnInfo\.cancel: must be on one of the merchant's registered origins \(https:\/\/shop\.example\)/);
  assert.equal((await call(gw, 'GET', `${wf}/${id}`, { token })).body.status, 'created', 'nothing authorized');
  assert.equal((await call(gw, 'POST', `${wf}/${id}/authorize`, { token, body: { ...authorizeBody(inst2), returnInfo: { success: 'https://shop.example/ok' } } })).status, 200);
});
