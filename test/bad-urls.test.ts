import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { pay, startGateway, type Gateway } from './support/harness.ts';
import { tokenOf, wf } from './support/executions.ts';
import { notFoundCodes } from '../src/dialects/opp/result-map.ts';

let gw: Gateway;
let token: string;
before(async () => {
  gw = await startGateway();
  token = await tokenOf(gw);
});
after(async () => { await gw?.close(); });

async function get(path: string, headers: Record<string, string> = {}, method = 'GET', body?: string) {
  const res = await fetch(gw.url + path, { method, headers, ...(body !== undefined ? { body } : {}) });
  const text = await res.text();
  return { status: res.status, headers: res.headers, text, body: JSON.parse(text) };
}
const oppAuth = () => ({ authorization: `Bearer ${gw.merchant.accessToken}` });
const execAuth = () => ({ authorization: `Bearer ${token}` });

/** The /v1 envelope: result, buildNumber, timestamp, ndc — and nothing of the framework. */
function assertOppEnvelope(r: { text: string; body: any; headers: Headers }, code: string) {
  assert.equal(r.body.result.code, code, r.text);
  assert.equal(typeof r.body.result.description, 'string');
  assert.match(r.body.buildNumber, /^[0-9a-f]{40}@/);
  assert.match(r.body.timestamp, /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\+0000$/);
  assert.match(r.body.ndc, /^[0-9a-f]{32}_[0-9a-f]{32}$/);
  assert.ok(!/FST_|statusCode|"error"/.test(r.text), `no framework shape: ${r.text}`);
  assert.match(r.headers.get('content-type') ?? '', /application\/json/);
}

/** The executions shape: `{errors: [{id, code, detail}]}` and nothing else. */
function assertExecutionsError(r: { text: string; body: any }, code: string) {
  assert.deepEqual(Object.keys(r.body), ['errors'], r.text);
  assert.equal(r.body.errors[0].code, code);
  assert.match(r.body.errors[0].id, /^[0-9a-f-]{36}$/);
  assert.ok(!/FST_/.test(r.text));
}

describe('URLs the router cannot read are refused in the dialect\'s own shape', () => {
  test('/v1: a malformed percent-encoding in a path id answers 400 200.300.404 in the envelope', async () => {
    const entity = `entityId=${gw.merchant.entityId}`;
    for (const path of [`/v1/payments/%E0%A4%A?${entity}`, `/v1/query/%zz?${entity}`, `/v1/registrations/%?${entity}`]) {
      const r = await get(path, oppAuth(), path.startsWith('/v1/registrations') ? 'DELETE' : 'GET');
      assert.equal(r.status, 400, path);
      assertOppEnvelope(r, '200.300.404');
      assert.deepEqual(r.body.result.parameterErrors.map((e: any) => e.name), ['path']);
    }
  });

  test('/v1: an over-long path id reaches its route and gets the route\'s own answer (after authentication)', async () => {
    const long = 'a'.repeat(500);
    const status = await get(`/v1/payments/${long}?entityId=${gw.merchant.entityId}`, oppAuth());
    assert.equal(status.status, 400);
    assertOppEnvelope(status, '700.400.580');
    const capture = await get(`/v1/payments/${long}`, { ...oppAuth(), 'content-type': 'application/x-www-form-urlencoded' }, 'POST',
      new URLSearchParams({ entityId: gw.merchant.entityId, paymentType: 'CP', amount: '1.00', currency: 'EUR' }).toString());
    assert.equal(capture.status, 400);
    // The same code an unknown 32-hex id gets for a capture.
    assertOppEnvelope(capture, notFoundCodes.CP);
    const anonymous = await get(`/v1/payments/${long}?entityId=${gw.merchant.entityId}`);
    assert.equal(anonymous.status, 401);
    assertOppEnvelope(anonymous, '800.900.300');
  });

  test('/v1: a card number in an unknown path is not echoed back', async () => {
    const r = await get('/v1/cards/4111111111111111');
    assert.equal(r.status, 404);
    assertOppEnvelope(r, '200.300.404');
    assert.ok(!r.text.includes('4111111111111111'));
  });

  test('executions: a malformed percent-encoding answers 400 request.malformed; an over-long id 404 request.not-found', async () => {
    const bad = await get(`${wf}/%E0%A4%A`, execAuth());
    assert.equal(bad.status, 400);
    assertExecutionsError(bad, 'request.malformed');
    const badInstrument = await get('/payment/instruments/%zz', execAuth());
    assert.equal(badInstrument.status, 400);
    assertExecutionsError(badInstrument, 'request.malformed');
    for (const path of [`${wf}/${'b'.repeat(300)}`, `/payment/instruments/${'c'.repeat(300)}`]) {
      const r = await get(path, execAuth());
      assert.equal(r.status, 404, path);
      assertExecutionsError(r, 'request.not-found');
    }
  });

  test('the gateway keeps serving normally afterwards', async () => {
    const r = await pay(gw);
    assert.equal(r.body.result.code, '000.100.110');
  });
});
