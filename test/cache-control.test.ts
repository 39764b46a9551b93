import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { opp, pay, startGateway, testCard, type Gateway } from './support/harness.ts';
import { call, execution, instrument, tokenOf, wf } from './support/executions.ts';

let gw: Gateway;
before(async () => { gw = await startGateway(); });
after(async () => { await gw?.close(); });

const noStore = (headers: Headers, what: string) => assert.equal(headers.get('cache-control'), 'no-store', `${what} is not cacheable`);

test('/v1: payments, back-office, status, query and registrations answers (and refusals) carry Cache-Control: no-store', async () => {
  const paid = await pay(gw, { paymentType: 'PA', merchantTransactionId: 'cc-1' });
  noStore(paid.headers, 'POST /v1/payments');
  noStore((await opp(gw, 'POST', `/v1/payments/${paid.body.id}`, { paymentType: 'CP', amount: '92.00', currency: 'EUR' })).headers, 'POST /v1/payments/{id}');
  noStore((await opp(gw, 'GET', `/v1/payments/${paid.body.id}`)).headers, 'GET /v1/payments/{id}');
  noStore((await opp(gw, 'GET', `/v1/query/${paid.body.id}`)).headers, 'GET /v1/query/{id}');
  noStore((await opp(gw, 'GET', '/v1/query', { merchantTransactionId: 'cc-1' })).headers, 'GET /v1/query');
  const reg = await opp(gw, 'POST', '/v1/registrations', { ...testCard });
  noStore(reg.headers, 'POST /v1/registrations');
  noStore((await opp(gw, 'POST', `/v1/registrations/${reg.body.id}/payments`, { amount: '1.00', currency: 'EUR', paymentType: 'DB' })).headers, 'POST /v1/registrations/{id}/payments');
  noStore((await opp(gw, 'DELETE', `/v1/registrations/${reg.body.id}`)).headers, 'DELETE /v1/registrations/{id}');
  noStore((await opp(gw, 'POST', '/v1/payments', { ...testCard, amount: 'x' })).headers, 'a /v1 refusal');
});

test('executions: token, instruments, client/init, executions and refusals carry Cache-Control: no-store', async () => {
  const tokenRes = await fetch(`${gw.url}/auth/token/${gw.merchant.clientId}`, { method: 'POST', headers: { 'x-api-key': gw.merchant.apiKey } });
  noStore(tokenRes.headers, 'POST /auth/token');
  const token = await tokenOf(gw);
  const created = await call(gw, 'POST', '/payment/instruments', {
    token, body: { holderReference: 'h-1', data: { cardNumber: '4111111111111111', expiryMonth: '03', expiryYear: '30', securityCode: '737', holderName: 'J D' } },
  });
  assert.equal(created.status, 201);
  noStore(created.headers, 'POST /payment/instruments');
  noStore((await call(gw, 'GET', `/payment/instruments/${created.body.id}`, { token })).headers, 'GET /payment/instruments/{id}');
  const id = await instrument(gw, token);
  noStore((await call(gw, 'DELETE', `/payment/instruments/${id}`, { token })).headers, 'DELETE /payment/instruments/{id}');
  const init = await call(gw, 'POST', '/merchant/client/init', { token, body: { holderReference: 'h-1' } });
  noStore(init.headers, 'POST /merchant/client/init');
  const e = await execution(gw, token);
  noStore((await call(gw, 'GET', `${wf}/${e}`, { token })).headers, 'GET execution');
  noStore((await call(gw, 'GET', wf, { token })).headers, 'GET executions');
  noStore((await call(gw, 'POST', wf, { token, body: { merchantReference: 'x', workspaceId: gw.merchant.workspaceId } })).headers, 'POST execution');
  noStore((await call(gw, 'GET', '/payment/instruments/not-an-id', { token })).headers, 'an executions refusal');
  noStore((await call(gw, 'GET', `/payment/instruments/${created.body.id}`, { token: null })).headers, 'a 401');
  // The browser's saved-cards list, with the client token from client/init.
  const clientToken = JSON.parse(Buffer.from(init.body.data, 'base64').toString('latin1')).token;
  const saved = await fetch(`${gw.url}/public/payment/instruments`, { headers: { authorization: `Bearer ${clientToken}` } });
  assert.equal(saved.status, 200);
  noStore(saved.headers, 'GET /public/payment/instruments');
});

test('the icon every browser asks an origin for is answered empty and cached for a day, not 404 (a failed load in the console of every dashboard and hosted page)', async () => {
  const r = await fetch(`${gw.url}/favicon.ico`);
  assert.equal(r.status, 204);
  assert.equal(await r.text(), '');
  assert.equal(r.headers.get('cache-control'), 'public, max-age=86400');
});
