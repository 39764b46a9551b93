/**
 * The /v1 traps a new integrator falls into, each answered with what to do (docs/errors.md), and
 * the admin API's one error shape. Codes stay the reference's; the words teach.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { opp, pay, startGateway, testCard, type Gateway } from './support/harness.ts';
import { authDescriptions, jsonBodyDescription, jsonBodyMessage, returnUrlMessage } from '../src/dialects/opp/routes.ts';
import type { MerchantCredentials } from '../src/merchants/service.ts';

let gw: Gateway;
let other: MerchantCredentials;
before(async () => { gw = await startGateway(); other = await gw.app.merchants.create({ name: 'Other' }); });
after(async () => { await gw?.close(); });

const payment = { amount: '92.00', currency: 'EUR', paymentType: 'DB', ...testCard };

test('a JSON body to /v1 says the dialect is form-encoded', async () => {
  const r = await fetch(`${gw.url}/v1/payments`, {
    method: 'POST', headers: { authorization: `Bearer ${gw.merchant.accessToken}`, 'content-type': 'application/json' },
    body: JSON.stringify({ entityId: gw.merchant.entityId, ...payment }),
  });
  const body = await r.json() as { result: { code: string; description: string; parameterErrors: { name: string; message: string }[] } };
  assert.equal(r.status, 400);
  assert.equal(body.result.code, '200.300.404');
  assert.equal(body.result.description, jsonBodyDescription);
  assert.deepEqual(body.result.parameterErrors.map((e) => [e.name, e.message]), [['body', jsonBodyMessage]]);
  assert.match(body.result.parameterErrors[0]!.message, /application\/x-www-form-urlencoded/);
});

test('a 3-D Secure card without shopperResultUrl names shopperResultUrl', async () => {
  const r = await pay(gw, { 'customParameters[3DS2_enrolled]': 'true', 'customParameters[3DS2_flow]': 'challenge' });
  assert.equal(r.status, 400);
  assert.equal(r.body.result.code, '100.370.101');
  assert.deepEqual(r.body.result.parameterErrors, [{ name: 'shopperResultUrl', value: null, message: returnUrlMessage }]);
});

test('a capture of an unknown payment id says there is no payment with that id (the reference\'s code and words kept)', async () => {
  for (const id of ['0'.repeat(32), 'not-an-id']) {
    const r = await opp(gw, 'POST', `/v1/payments/${id}`, { paymentType: 'CP', amount: '1.00', currency: 'EUR' });
    assert.equal(r.status, 400);
    assert.equal(r.body.result.code, '700.400.510');
    assert.equal(r.body.result.description, 'capture needs at least one successful transaction of type (PA)');
    const [e] = r.body.result.parameterErrors;
    assert.equal(e.name, 'id');
    assert.equal(e.value, id);
    assert.match(e.message, /^no payment with this id for entity [0-9a-f]{32}/);
  }
});

test('missing token, wrong token and another merchant\'s entity: one code, three descriptions', async () => {
  const missing = await opp(gw, 'POST', '/v1/payments', payment, null);
  const wrong = await opp(gw, 'POST', '/v1/payments', payment, 'd3Jvbmd8dG9rZW4=');
  const foreign = await opp(gw, 'POST', '/v1/payments', { ...payment, entityId: other.entityId });
  const unknownEntity = await opp(gw, 'POST', '/v1/payments', { ...payment, entityId: 'f'.repeat(32) });
  for (const r of [missing, wrong, foreign, unknownEntity]) {
    assert.equal(r.status, 401);
    assert.equal(r.body.result.code, '800.900.300');
    assert.match(r.headers.get('www-authenticate') ?? '', /^Bearer /);
  }
  assert.equal(missing.body.result.description, authDescriptions.missing);
  assert.equal(wrong.body.result.description, 'invalid authentication information');
  assert.equal(foreign.body.result.description, authDescriptions.foreign);
  // An unknown entity and another merchant's read alike: nothing leaks about which exists.
  assert.equal(unknownEntity.body.result.description, authDescriptions.foreign);
  assert.equal(new Set([missing, wrong, foreign].map((r) => r.body.result.description)).size, 3);
});

test('the admin API answers every error as {error: {code, message}}, under /admin and /admin/api alike', async () => {
  const admin = { authorization: `Bearer ${gw.app.admin.token}` };
  const answers = await Promise.all([
    fetch(`${gw.url}/admin/merchants/${gw.merchant.merchantId}/origins`),
    fetch(`${gw.url}/admin/merchants/${'f'.repeat(32)}/origins`, { headers: admin }),
    fetch(`${gw.url}/admin/nope`, { headers: admin }),
    fetch(`${gw.url}/admin/api/webhooks/endpoints`),
    fetch(`${gw.url}/admin/api/webhooks/deliveries?limit=0`, { headers: admin }),
    fetch(`${gw.url}/admin/merchants/${gw.merchant.merchantId}/origins`, { method: 'POST', headers: { ...admin, 'content-type': 'application/json' }, body: '{' }),
  ]);
  const bodies = await Promise.all(answers.map((r) => r.json() as Promise<{ error: { code: string; message: string } }>));
  assert.deepEqual(answers.map((r) => r.status), [401, 404, 404, 401, 400, 400]);
  assert.deepEqual(bodies.map((b) => b.error.code), ['unauthorized', 'not_found', 'not_found', 'unauthorized', 'bad_request', 'bad_request']);
  for (const b of bodies) assert.ok(typeof b.error.message === 'string' && b.error.message.length > 0);
});
