/**
 * What a merchant's existing client code for the workflow-based gateway reads: the 3-D Secure
 * challenge in the pending webhook (for backends that follow webhooks rather than poll), the
 * holderId of the execution and of its webhooks, and OAuth-shaped answers from the token endpoint
 * whatever body an OAuth client library posts.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { CompactEncrypt, importSPKI } from 'jose';
import { randomUUID } from 'node:crypto';
import { startGateway, type Gateway } from './support/harness.ts';
import { adminHeaders } from './support/process.ts';
import { authorizeBody, call, execution, instrument, poll, tokenOf, wf } from './support/executions.ts';

describe('executions contract', () => {
  let gw: Gateway;
  let token: string;
  before(async () => { gw = await startGateway({ env: { SWITCHYARD_LONG_POLL_MS: '1500' } }); token = await tokenOf(gw); });
  after(() => gw.close());

  async function payloads(id: string) {
    const rows = await gw.app.storage.db.selectFrom('outbox').selectAll().where('subject_id', '=', id).execute();
    return rows.map((r: any) => ({ type: r.type as string, payload: typeof r.payload === 'string' ? JSON.parse(r.payload) : r.payload }));
  }

  test('the executionActionPending webhook body carries requiredAction.href, as the polled execution does', async () => {
    const admin = adminHeaders(gw.dataDir, gw.app.config.adminToken);
    const r = await fetch(`${gw.url}/admin/merchants/${gw.merchant.merchantId}/workflows/payment-acceptance`, { method: 'PATCH', headers: admin, body: JSON.stringify({ notifyPending: true }) });
    assert.equal(r.status, 200, await r.text());
    const inst = await instrument(gw, token, '4200000000000042', 'c-3ds');
    const id = await execution(gw, token, 'c-3ds');
    await call(gw, 'POST', `${wf}/${id}/authorize`, { token, body: authorizeBody(inst) });
    const e = await poll(gw, token, id, ['created', 'authorizeRequested']);
    assert.equal(e.status, 'authorizePending');
    const href = e.requiredAction.href;
    const pending = (await payloads(id)).filter((p) => p.type === 'execution.executionActionPending');
    assert.equal(pending.length, 1, 'the workflow enabled executionActionPending');
    const body = pending[0]!.payload;
    assert.equal(body.event, 'executionActionPending');
    // A backend on the webhook channel ("preferred at scale") must find the challenge URL in the body.
    assert.ok(JSON.stringify(body).includes(href), `webhook body has no requiredAction/challenge URL: ${JSON.stringify(body)}`);
  });

  test('the execution object and its webhooks\' details.execution carry holderId', async () => {
    const inst = await instrument(gw, token);
    const id = await execution(gw, token);
    await call(gw, 'POST', `${wf}/${id}/authorize`, { token, body: authorizeBody(inst) });
    const e = await poll(gw, token, id, ['created', 'authorizeRequested']);
    assert.equal(e.status, 'authorized');
    assert.ok('holderId' in e, 'execution object has no holderId');
    const completed = (await payloads(id)).find((p) => p.type === 'execution.executionActionCompleted')!;
    assert.ok('holderId' in completed.payload.details.execution, `details.execution has no holderId: ${JSON.stringify(completed.payload.details.execution)}`);
  });

  test('the token endpoint answers every refusal in OAuth shape {error, error_description}, whatever body an OAuth client sends', async () => {
    // An OAuth client-credentials client commonly posts a form body; with a wrong key it must still read error/error_description.
    const r = await fetch(`${gw.url}/auth/token/${gw.merchant.clientId}`, {
      method: 'POST', headers: { 'x-api-key': 'wrong', 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' }, body: 'grant_type=client_credentials',
    });
    const body = await r.json() as any;
    assert.ok([400, 401].includes(r.status), String(r.status));
    assert.equal(typeof body.error, 'string', `not OAuth shape: ${r.status} ${JSON.stringify(body)}`);
    // And with the right key, the form body does not stop the token being issued.
    const ok = await fetch(`${gw.url}/auth/token/${gw.merchant.clientId}`, {
      method: 'POST', headers: { 'x-api-key': gw.merchant.apiKey, 'content-type': 'application/x-www-form-urlencoded' }, body: 'grant_type=client_credentials',
    });
    assert.equal(ok.status, 200, JSON.stringify(await ok.json()));
    // A form body labelled JSON (as some HTTP wrappers send it) is not read either: OAuth's shape, then a token.
    for (const [key, status] of [['wrong', 401], [gw.merchant.apiKey, 200]] as const) {
      const r = await fetch(`${gw.url}/auth/token/${gw.merchant.clientId}`, {
        method: 'POST', headers: { 'x-api-key': key, 'content-type': 'application/json' }, body: 'grant_type=client_credentials',
      });
      const b = await r.json() as Record<string, unknown>;
      assert.equal(r.status, status, JSON.stringify(b));
      if (status !== 200) assert.equal(b.error, 'invalid_client', JSON.stringify(b));
    }
    // Nor a body larger than any this dialect reads elsewhere.
    for (const [key, status] of [['wrong', 401], [gw.merchant.apiKey, 200]] as const) {
      const r = await fetch(`${gw.url}/auth/token/${gw.merchant.clientId}`, {
        method: 'POST', headers: { 'x-api-key': key, 'content-type': 'application/json' }, body: 'x'.repeat(70 * 1024),
      });
      const b = await r.json() as Record<string, unknown>;
      assert.equal(r.status, status, JSON.stringify(b));
      assert.equal(status === 200 ? typeof b.access_token : b.error, status === 200 ? 'string' : 'invalid_client', JSON.stringify(b));
    }
  });
  test('a path of this dialect asked with a method it does not take answers 405 request.method-not-allowed with Allow, not 404', async () => {
    const id = await execution(gw, token);
    for (const [method, path, allow] of [['DELETE', `${wf}/${id}`, 'GET, PATCH'], ['PUT', wf, 'POST, GET'], ['GET', `${wf}/${id}/capture`, 'POST']] as const) {
      const r = await call(gw, method, path, { token, ...(method === 'GET' ? {} : { body: {} }) });
      assert.equal(r.status, 405, `${method} ${path}: ${r.status} ${JSON.stringify(r.body)}`);
      assert.equal(r.body.errors[0].code, 'request.method-not-allowed');
      assert.deepEqual(r.headers.get('allow')!.split(', ').sort(), allow.split(', ').sort());
    }
    const unknown = await call(gw, 'GET', `/merchant/workflows/payment-acceptance/nothing-here/${id}`, { token });
    assert.equal(unknown.status, 404);
  });
  test('authorize takes a card encrypted in the browser (paymentInstrumentData.encryptedData) as well as an instrument id', async () => {
    const init = await call(gw, 'POST', '/merchant/client/init', { token, body: { workflowCode: 'payment-acceptance', holderReference: 'customer-1', workspaceId: gw.merchant.workspaceId, type: 'secureFields' } });
    assert.equal(init.status, 200);
    const data = JSON.parse(Buffer.from(init.body.data, 'base64').toString('latin1'));
    const key = await importSPKI(`-----BEGIN PUBLIC KEY-----\n${data.vaultConfiguration.encryptionPublicKey}\n-----END PUBLIC KEY-----`, 'RSA-OAEP-256');
    const encrypt = (card: Record<string, string>) => new CompactEncrypt(new TextEncoder().encode(JSON.stringify(card)))
      .setProtectedHeader({ alg: 'RSA-OAEP-256', enc: 'A256CBC-HS512' }).encrypt(key);
    const card = { cardNumber: '4111111111111111', expiryMonth: '03', expiryYear: '30', securityCode: '737', holderName: 'John Doe' };
    const body = (paymentInstrumentData: Record<string, unknown>) => ({
      amount: { value: '129.90', currency: 'EUR' }, returnInfo: { success: 'https://shop.example/return' },
      paymentComposition: [{ paymentMethodCode: 'card', integrationType: 'api', amount: { value: '129.90', currency: 'EUR' }, storeInstrument: false, paymentInstrumentData }],
    });
    const id = await execution(gw, token, 'customer-1');
    const jwe = await encrypt({ ...card, holderReference: 'customer-1' });
    // The key it was encrypted to must be named; a card made for another holder is refused.
    const unnamed = await call(gw, 'POST', `${wf}/${id}/authorize`, { token, body: body({ encryptedData: jwe }) });
    assert.equal(unnamed.status, 400);
    assert.match(unnamed.body.errors[0].detail, /vaultProviderConfigId/);
    const other = await call(gw, 'POST', `${wf}/${id}/authorize`, { token, body: body({ encryptedData: await encrypt({ ...card, holderReference: 'someone-else' }), vaultProviderConfigId: data.vaultConfiguration.providerConfigId }) });
    assert.equal(other.status, 400, JSON.stringify(other.body));
    assert.match(other.body.errors[0].detail, /another holder/);
    const r = await call(gw, 'POST', `${wf}/${id}/authorize`, { token, body: body({ encryptedData: jwe, vaultProviderConfigId: data.vaultConfiguration.providerConfigId }) });
    assert.equal(r.status, 200, `${r.status} ${JSON.stringify(r.body)}`);
    const e = await poll(gw, token, id, ['created', 'authorizeRequested']);
    assert.equal(e.status, 'authorized', JSON.stringify(e.statusHistory.at(-1)));
    const instrumentId = e.paymentComposition[0].paymentInstrumentId;
    const inst = await call(gw, 'GET', `/payment/instruments/${instrumentId}`, { token });
    assert.equal(inst.body.data.suffix, '1111');
    assert.equal(inst.body.status, 'deleted', 'an ephemeral instrument, spent by the authorization');
    assert.ok(!JSON.stringify(gw.logs).includes('4111111111111111'));
  });
  test('a percent-encoded path the router serves answers 405 (not 404) to a method it does not take', async () => {
    const id = await execution(gw, token);
    const post = await call(gw, 'POST', `${wf}/${id}/%63apture`, { token, body: {} });
    assert.notEqual(post.status, 404, 'the router serves the encoded path');
    const get = await call(gw, 'GET', `${wf}/${id}/%63apture`, { token });
    assert.equal(get.status, 405, JSON.stringify(get.body));
    assert.equal(get.headers.get('allow'), 'POST');
  });
});

test('an unauthenticated request is refused 401 before its body is read: a body that is not JSON tells it nothing', async () => {
  const gw = await startGateway();
  try {
    const post = (headers: Record<string, string>) => fetch(`${gw.url}/merchant/workflows/payment-acceptance/executions`, {
      method: 'POST', headers: { 'content-type': 'application/json', 'x-idempotency-key': randomUUID(), ...headers }, body: '{"merchantReference": ',
    });
    const anonymous = await post({});
    assert.equal(anonymous.status, 401, 'a caller without a token learned how its body is read (400) before being refused');
    assert.equal(((await anonymous.json()) as { errors: { code: string }[] }).errors[0]!.code, 'request.unauthorized');
    const forged = await post({ authorization: 'Bearer forged' });
    assert.equal(forged.status, 401);
    const authenticated = await post({ authorization: `Bearer ${await tokenOf(gw)}` });
    assert.equal(authenticated.status, 400);
  } finally { await gw.close(); }
});
