/**
 * Rotating a merchant's credentials, as the operator does it with the admin API and the CLI: the new
 * secrets work in both dialects at once, and the old ones are refused at once (the /v1 bearer token,
 * its userId/password pair, the executions API key and every access token issued with it).
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { opp, startGateway, tempDir, testCard, type Gateway } from './support/harness.ts';
import { call, wf } from './support/executions.ts';
import { runCli as cli, startGatewayProcess } from './support/process.ts';
import type { MerchantCredentials } from '../src/merchants/service.ts';

let gw: Gateway;
before(async () => { gw = await startGateway(); });
after(async () => { await gw?.close(); });

const admin = (path: string, body?: unknown, token = gw.app.admin.token) => fetch(`${gw.url}/admin${path}`, {
  method: 'POST', headers: { authorization: `Bearer ${token}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
  ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
});
const tokenFor = async (clientId: string, apiKey: string) => {
  const r = await fetch(`${gw.url}/auth/token/${clientId}`, { method: 'POST', headers: { 'x-api-key': apiKey } });
  return { status: r.status, body: await r.json() as { access_token?: string; error?: string } };
};
const v1Pay = (merchant: MerchantCredentials, token: string | null, extra: Record<string, string> = {}) =>
  opp({ url: gw.url, merchant }, 'POST', '/v1/payments', { ...testCard, amount: '12.00', currency: 'EUR', paymentType: 'PA', ...extra }, token);
const executionWith = (merchant: MerchantCredentials, token: string) => call({ url: gw.url, merchant }, 'POST', wf, {
  token, body: { merchantReference: `rot-${Math.random().toString(36).slice(2, 10)}`, holderReference: 'rotation-holder' },
});

test('admin API: both dialects rotated; old /v1 token, userId/password, API key and access token refused; the new ones work', async () => {
  const m = await gw.app.merchants.create({ name: 'Rotate Both' });
  const oldAccess = (await tokenFor(m.clientId, m.apiKey)).body.access_token!;
  assert.equal((await v1Pay(m, m.accessToken)).status, 200);
  assert.equal((await executionWith(m, oldAccess)).status, 201);

  const r = await admin(`/merchants/${m.merchantId}/credentials/rotate`, {});
  assert.equal(r.status, 200);
  assert.equal(r.headers.get('cache-control'), 'no-store');
  const fresh = await r.json() as Required<{ merchantId: string; rotated: string[]; accessToken: string; userId: string; password: string; clientId: string; apiKey: string }>;
  assert.deepEqual(fresh.rotated, ['opp', 'executions']);
  assert.equal(fresh.clientId, m.clientId);

  // /v1: the old token and its pair are refused in the dialect's own format; the new ones pay.
  const refused = await v1Pay(m, m.accessToken);
  assert.equal(refused.status, 401);
  assert.equal(refused.body.result.code, '800.900.300');
  const refusedPair = await v1Pay(m, null, { 'authentication.userId': m.userId, 'authentication.password': m.password, entityId: m.entityId });
  assert.equal(refusedPair.status, 401);
  assert.equal((await v1Pay(m, fresh.accessToken)).status, 200);
  assert.equal((await v1Pay(m, null, { 'authentication.userId': fresh.userId, 'authentication.password': fresh.password, entityId: m.entityId })).status, 200);

  // executions: the old API key gets no token, and the token issued before the rotation is refused.
  assert.deepEqual(await tokenFor(m.clientId, m.apiKey), { status: 401, body: { error: 'invalid_client', error_description: 'Unknown client id or API key' } });
  const stale = await executionWith(m, oldAccess);
  assert.equal(stale.status, 401);
  assert.match(JSON.stringify(stale.body), /access token is invalid/);
  const issued = await tokenFor(m.clientId, fresh.apiKey);
  assert.equal(issued.status, 200);
  assert.equal((await executionWith(m, issued.body.access_token!)).status, 201);
});

test('admin API: one dialect at a time leaves the other working; bad input and unknown merchants change nothing', async () => {
  const m = await gw.app.merchants.create({ name: 'Rotate One' });
  const access = (await tokenFor(m.clientId, m.apiKey)).body.access_token!;
  const r = await admin(`/merchants/${m.merchantId}/credentials/rotate`, { dialect: 'opp' });
  assert.equal(r.status, 200);
  const fresh = await r.json() as { rotated: string[]; accessToken: string; apiKey?: string };
  assert.deepEqual(fresh.rotated, ['opp']);
  assert.equal(fresh.apiKey, undefined);
  assert.equal((await v1Pay(m, m.accessToken)).status, 401);
  // A /v1 rotation leaves the executions key and the tokens issued with it alone.
  assert.equal((await executionWith(m, access)).status, 201);
  assert.equal((await tokenFor(m.clientId, m.apiKey)).status, 200);

  const bad = await admin(`/merchants/${m.merchantId}/credentials/rotate`, { dialect: 'soap' });
  assert.equal(bad.status, 400);
  assert.deepEqual(await bad.json(), { error: { code: 'dialect_invalid', message: 'dialect must be opp, executions or both' } });
  const unknown = await admin(`/merchants/${'f'.repeat(32)}/credentials/rotate`, {});
  assert.equal(unknown.status, 404);
  const noBody = await admin(`/merchants/${m.merchantId}/credentials/rotate`);
  assert.equal(noBody.status, 400);
  assert.equal(((await noBody.json()) as { error: { code: string } }).error.code, 'bad_request');
  const noToken = await admin(`/merchants/${m.merchantId}/credentials/rotate`, {}, 'not-the-token');
  assert.equal(noToken.status, 401);
  assert.equal((await v1Pay(m, fresh.accessToken)).status, 200, 'the refused calls rotated nothing');
  assert.equal((await tokenFor(m.clientId, m.apiKey)).status, 200);
});

test('CLI: merchants rotate prints the new secrets once; bad input exits non-zero; a running gateway follows at once', async () => {
  const dataDir = tempDir();
  try {
    const m = JSON.parse(cli(dataDir, 'merchants', 'create', '--name', 'CLI Rotate', '--json').stdout) as MerchantCredentials;
    const proc = await startGatewayProcess({ SWITCHYARD_DATA_DIR: dataDir });
    try {
      const pay = (token: string) => opp({ url: proc.url, merchant: m }, 'POST', '/v1/payments', { ...testCard, amount: '5.00', currency: 'EUR', paymentType: 'PA' }, token);
      assert.equal((await pay(m.accessToken)).status, 200);
      assert.match(cli(dataDir, 'merchants', 'rotate').stderr, /--merchant is required/);
      const badDialect = cli(dataDir, 'merchants', 'rotate', '--merchant', m.merchantId, '--dialect', 'soap');
      assert.equal(badDialect.status, 2);
      assert.match(badDialect.stderr, /--dialect must be opp, executions or both/);
      assert.equal(cli(dataDir, 'merchants', 'rotate', '--merchant', 'f'.repeat(32)).status, 1);
      assert.equal((await pay(m.accessToken)).status, 200, 'refused commands rotated nothing');

      const r = cli(dataDir, 'merchants', 'rotate', '--merchant', m.merchantId, '--dialect', 'opp', '--json');
      assert.equal(r.status, 0, r.stderr);
      const fresh = JSON.parse(r.stdout) as { accessToken: string; rotated: string[]; entityIds: string[] };
      assert.deepEqual(fresh.rotated, ['opp']);
      assert.deepEqual(fresh.entityIds, [m.entityId], 'the /v1 secret comes with the entity ids a request names beside it');
      assert.equal((await pay(m.accessToken)).status, 401);
      assert.equal((await pay(fresh.accessToken)).status, 200);
      const text = cli(dataDir, 'merchants', 'rotate', '--merchant', m.merchantId);
      assert.equal(text.status, 0, text.stderr);
      assert.match(text.stdout, /^apiKey\s+\S{20,}$/m);
      assert.match(text.stdout, /^rotated\s+opp,executions$/m);
      assert.match(text.stdout, new RegExp(`^entityIds\\s+${m.entityId}$`, 'm'));
      const executionsOnly = JSON.parse(cli(dataDir, 'merchants', 'rotate', '--merchant', m.merchantId, '--dialect', 'executions', '--json').stdout) as Record<string, unknown>;
      assert.equal(executionsOnly.entityIds, undefined, 'no /v1 secret, no entity to name');
      const help = cli(dataDir, 'merchants', 'rotate', '--help');
      assert.equal(help.status, 0);
      assert.match(help.stdout, /switchyard merchants rotate --merchant ID/);
      assert.match(help.stdout, /no overlap/);
    } finally {
      await proc.stop();
    }
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
});

test('a browser client token made before an executions rotation is refused afterwards, as the access token that made it is', async () => {
  const m = await gw.app.merchants.create({ name: 'Rotating Browser Shop' });
  const access = (await tokenFor(m.clientId, m.apiKey)).body.access_token!;
  const init = await call({ url: gw.url, merchant: m }, 'POST', '/merchant/client/init', { token: access, body: { type: 'tokenization', holderReference: 'holder-rot' } });
  assert.equal(init.status, 200, JSON.stringify(init.body));
  const clientToken = JSON.parse(Buffer.from(init.body.data, 'base64').toString('latin1')).token as string;
  const saved = () => fetch(`${gw.url}/public/payment/instruments`, { headers: { authorization: `Bearer ${clientToken}` } });
  assert.equal((await saved()).status, 200, 'works before the rotation');
  assert.ok(await gw.app.merchants.rotate(m.merchantId, ['executions']));
  assert.equal((await call({ url: gw.url, merchant: m }, 'GET', `${wf}?limit=1`, { token: access })).status, 401);
  const after = await saved();
  assert.equal(after.status, 401, 'a token made with leaked credentials does not outlive their rotation');
  // A /v1-only rotation leaves the executions side, browser tokens included, working.
  const fresh = (await tokenFor(m.clientId, (await gw.app.merchants.rotate(m.merchantId, ['executions']))!.apiKey!)).body.access_token!;
  const again = await call({ url: gw.url, merchant: m }, 'POST', '/merchant/client/init', { token: fresh, body: { type: 'tokenization', holderReference: 'holder-rot' } });
  const second = JSON.parse(Buffer.from(again.body.data, 'base64').toString('latin1')).token as string;
  assert.ok(await gw.app.merchants.rotate(m.merchantId, ['opp']));
  assert.equal((await fetch(`${gw.url}/public/payment/instruments`, { headers: { authorization: `Bearer ${second}` } })).status, 200);
});
