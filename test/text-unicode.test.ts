/**
 * Text beyond ASCII at the dialects' edges: bytes that are not UTF-8 are refused rather than stored
 * as U+FFFD, what an error echoes is never half a character, lengths are counted in characters as
 * the schemas say, and the dashboard finds a reference as the operator types it.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { CompactEncrypt, importSPKI } from 'jose';
import { pay, opp, startGateway, type Gateway } from './support/harness.ts';
import { call, execution, tokenOf, wf } from './support/executions.ts';
import { signIn } from './support/dashboard.ts';

let gw: Gateway; let token: string;
before(async () => {
  gw = await startGateway();
  token = await tokenOf(gw);
  assert.ok((await gw.app.dashboard.addUser({ email: 'admin@example.com', role: 'admin', merchantId: undefined, password: 'a long test password' })).ok);
});
after(async () => { await gw?.close(); });

test('executions: a form-encoded create with Latin-1 percent-escapes is refused, not stored as U+FFFD (two holders would become one)', async () => {
  const create = (form: string) => fetch(gw.url + wf, {
    method: 'POST', body: form,
    headers: { authorization: `Bearer ${token}`, 'x-idempotency-key': randomUUID(), 'content-type': 'application/x-www-form-urlencoded' },
  }).then(async (r) => ({ status: r.status, body: await r.json() as any }));
  const a = await create('merchantReference=order-1&holderReference=Ren%E9');
  const b = await create('merchantReference=order-2&holderReference=Ren%E8');
  // Stored as U+FFFD, René and Renè would be one holder, sharing saved cards.
  assert.notEqual(a.body.holderId !== undefined && a.body.holderId === b.body.holderId, true, `one holder for two people: ${JSON.stringify(a.body.holderId)}`);
  assert.equal(a.status, 400, JSON.stringify(a.body));
  // Refused before its text is read, as every form body but the token endpoint's is.
  assert.match(a.body.errors[0].detail, /holderReference|UTF-8|form-encoded/);
});

test('/v1: a refused over-long reference is echoed in parameterErrors as valid Unicode (no half of a surrogate pair)', async () => {
  const reference = 'a' + '😀'.repeat(300); // 301 characters: over the 255 limit
  const r = await pay(gw, { merchantTransactionId: reference });
  assert.equal(r.status, 400);
  const e = r.body.result.parameterErrors.find((x: { name: string }) => x.name === 'merchantTransactionId');
  assert.ok(e, JSON.stringify(r.body.result));
  // Cut at 256 UTF-16 units the echo would end in a lone \ud83d, which strict JSON readers
  // (.NET System.Text.Json, Rust serde_json) refuse: the merchant could not even read the error.
  assert.ok(e.value.isWellFormed(), `echo ends ${JSON.stringify(e.value.slice(-3))}`);
});

test('/v1: an unknown payment id is echoed as valid Unicode', async () => {
  const r = await opp(gw, 'POST', `/v1/payments/${encodeURIComponent('a' + '😀'.repeat(100))}`, { paymentType: 'RV' });
  const e = r.body.result.parameterErrors?.[0];
  assert.ok(e, JSON.stringify(r.body));
  assert.ok(String(e.value).isWellFormed(), `echo ends ${JSON.stringify(String(e.value).slice(-3))}`);
});

test('executions: the refusal of half a surrogate pair does not itself answer with half a surrogate pair', async () => {
  const res = await fetch(gw.url + wf, {
    method: 'POST', body: '{"merchantReference":"x","meta":{"\\ud83d":"v"}}',
    headers: { authorization: `Bearer ${token}`, 'x-idempotency-key': randomUUID(), 'content-type': 'application/json' },
  });
  const body = await res.json() as any;
  assert.equal(res.status, 400);
  assert.ok(body.errors[0].detail.isWellFormed(), JSON.stringify(body.errors[0].detail));
});

test('executions: holderName is measured in characters, as the schema and /v1 card.holder measure it', async () => {
  // 100 characters (astral: 200 UTF-16 units), within the documented 128.
  const holderName = '𠮷'.repeat(100);
  const r = await call(gw, 'POST', '/payment/instruments', {
    token, body: { holderReference: 'h-astral', paymentMethod: 'card', data: { cardNumber: '4111111111111111', expiryMonth: '03', expiryYear: '30', securityCode: '737', holderName } },
  });
  assert.equal(r.status, 201, JSON.stringify(r.body));
  const v1 = await pay(gw, { 'card.holder': holderName });
  assert.equal(v1.status, 200, 'the /v1 dialect takes the same name');
});

test('executions: references are measured in characters, as the published schema (maxLength 255) says', async () => {
  const holderReference = '😀'.repeat(200); // 200 characters, 400 UTF-16 units
  const c = await call(gw, 'POST', wf, { token, body: { merchantReference: 'o-astral', holderReference } });
  assert.equal(c.status, 201, JSON.stringify(c.body));
  const init = await call(gw, 'POST', '/merchant/client/init', { token, body: { holderReference } });
  assert.equal(init.status, 200, JSON.stringify(init.body));
});

test('dashboard: a payment is found by its reference as the operator types it (NFC, or with the trailing ideographic space it was sent with)', async () => {
  const s = await signIn(gw.url, 'admin@example.com', 'a long test password');
  const found = async (q: string, id: string) => (await (await fetch(`${gw.url}/dashboard/payments?${new URLSearchParams({ q })}`, { headers: { cookie: s.cookie } })).text()).includes(id);
  const trailing = await pay(gw, { merchantTransactionId: '注文-7\u3000' });
  assert.equal(trailing.status, 200);
  assert.ok((await opp(gw, 'GET', '/v1/query', { merchantTransactionId: '注文-7\u3000' })).body.payments?.length === 1, '/v1/query finds it');
  assert.ok(await found('注文-7\u3000', trailing.body.id), 'found with the ideographic space it was sent with');
  const nfd = await pay(gw, { merchantTransactionId: 'Cafe\u0301-42' });
  assert.ok(await found('Caf\u00e9-42', nfd.body.id), 'typed café (NFC) finds Café sent decomposed (NFD)');
});

test('executions: an encrypted card whose text is not UTF-8, or holds half a surrogate pair, is refused like a plain body', async () => {
  const holder = 'jwe-text-holder';
  const init = await call(gw, 'POST', '/merchant/client/init', { token, body: { workflowCode: 'payment-acceptance', holderReference: holder, workspaceId: gw.merchant.workspaceId, type: 'secureFields' } });
  assert.equal(init.status, 200);
  const data = JSON.parse(Buffer.from(init.body.data, 'base64').toString('latin1'));
  const key = await importSPKI(`-----BEGIN PUBLIC KEY-----\n${data.vaultConfiguration.encryptionPublicKey}\n-----END PUBLIC KEY-----`, 'RSA-OAEP-256');
  const card = (holderName: string) => `{"cardNumber":"4111111111111111","expiryMonth":"03","expiryYear":"30","securityCode":"737","holderName":"${holderName}","holderReference":"${holder}"}`;
  const save = async (plaintext: Uint8Array) => call(gw, 'POST', `${wf}/${await execution(gw, token, holder)}/authorize`, {
    token, body: {
      amount: { value: '10.00', currency: 'EUR' }, returnInfo: { success: 'https://shop.example/return' },
      paymentComposition: [{ paymentMethodCode: 'card', integrationType: 'api', amount: { value: '10.00', currency: 'EUR' }, paymentInstrumentData: {
        encryptedData: await new CompactEncrypt(plaintext).setProtectedHeader({ alg: 'RSA-OAEP-256', enc: 'A256CBC-HS512' }).encrypt(key), vaultProviderConfigId: data.vaultConfiguration.providerConfigId,
      } }],
    },
  });
  const latin1 = await save(Buffer.from(card('Ren\xe9 Roux'), 'latin1'));
  assert.equal(latin1.status, 400, JSON.stringify(latin1.body));
  assert.match(JSON.stringify(latin1.body), /UTF-8/);
  const half = await save(Buffer.from(card('Ren\\ud83d Roux')));
  assert.equal(half.status, 400, JSON.stringify(half.body));
  assert.match(JSON.stringify(half.body), /surrogate/);
  const fine = await save(Buffer.from(card('René Roux 😀')));
  assert.equal(fine.status, 200, JSON.stringify(fine.body));
});
