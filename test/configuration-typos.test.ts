/**
 * A configuration change the gateway does not understand (a misspelt field) is refused naming it,
 * never answered 200 with nothing, or something else, changed; and saving a PSP account from the
 * dashboard keeps the timeout it has.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { startGateway, type Gateway } from './support/harness.ts';
import { adminHeaders } from './support/process.ts';
import { postForm, signIn } from './support/dashboard.ts';

let gw: Gateway;
before(async () => {
  gw = await startGateway();
  assert.ok((await gw.app.dashboard.addUser({ email: 'admin@example.com', role: 'admin', merchantId: undefined, password: 'a long test password' })).ok);
});
after(async () => { await gw?.close(); });
const base = () => `${gw.url}/admin/merchants/${gw.merchant.merchantId}`;
const send = async (method: string, path: string, body: unknown) => {
  const r = await fetch(base() + path, { method, headers: adminHeaders(gw.dataDir, gw.app.config.adminToken), body: JSON.stringify(body) });
  return { status: r.status, body: await r.json() as any };
};

test('a workflow change naming a field a workflow does not have (a typo of accounts) is refused, and the cascade stays', async () => {
  assert.equal((await send('PUT', '/psp-accounts/acq-x', { connector: 'simulator', settings: {} })).status, 200);
  const before = (await send('GET', '/workflows/payment-acceptance', undefined)).body;
  const r = await send('PATCH', '/workflows/payment-acceptance', { acounts: ['acq-x'] });
  assert.equal(r.status, 400, `the operator was told the change succeeded: ${JSON.stringify(r.body)}`);
  assert.match(JSON.stringify(r.body), /acounts/);
  assert.deepEqual((await send('GET', '/workflows/payment-acceptance', undefined)).body, before);
  assert.equal((await send('PATCH', '/workflows/payment-acceptance', { accounts: ['acq-x'] })).status, 200);
});

test('a PSP account with a misspelt timeoutMs, or simulator settings with a misspelt key, is refused and the stored account stays', async () => {
  assert.equal((await send('PUT', '/psp-accounts/acq-t', { connector: 'simulator', settings: {}, timeoutMs: 500 })).status, 200);
  for (const body of [
    { connector: 'simulator', settings: {}, timeoutMS: 800 },
    { connector: 'simulator', settings: { decline: [{ category: 'hard', cardSuffixes: ['0002'] }] } },
    { connector: 'simulator', settings: { declines: [{ category: 'hard', cardSuffix: ['0002'] }] } },
  ]) {
    const r = await send('PUT', '/psp-accounts/acq-t', body);
    assert.equal(r.status, 400, `${JSON.stringify(body)} was accepted: ${JSON.stringify(r.body)}`);
    assert.match(JSON.stringify(r.body), /timeoutMS|decline|cardSuffix/);
  }
  const stored = (await send('GET', '/psp-accounts', undefined)).body;
  const account = (Array.isArray(stored) ? stored : stored.accounts).find((a: { name: string }) => a.name === 'acq-t');
  assert.equal(account.timeoutMs, 500, JSON.stringify(account));
});

test('saving a PSP account from the dashboard keeps its timeout', async () => {
  assert.equal((await send('PUT', '/psp-accounts/acq-d', { connector: 'simulator', settings: {}, timeoutMs: 700 })).status, 200);
  const s = await signIn(gw.url, 'admin@example.com', 'a long test password');
  const r = await postForm(gw.url, s, `/dashboard/merchants/${gw.merchant.merchantId}/psp-accounts`, { _csrf: s.csrf, name: 'acq-d', connector: 'simulator', settings: '{"latencyMs":5}' });
  assert.equal(r.status, 200, await r.text());
  const account = (await gw.app.workflows.accounts(gw.merchant.merchantId)).find((a) => a.name === 'acq-d');
  assert.equal(account?.timeoutMs, 700);
  assert.deepEqual((account?.settings as { latencyMs?: number }).latencyMs, 5, 'the settings were saved');
});

test('a PSP account PUT with a timeout alone is refused naming connector; the real account keeps its connector and credentials', async () => {
  const other = await startGateway();
  try {
    const admin = adminHeaders(gw.dataDir, gw.app.config.adminToken);
    const url = `${gw.url}/admin/merchants/${gw.merchant.merchantId}/psp-accounts/acq-timeout`;
    const settings = { baseUrl: other.url, accessToken: other.merchant.accessToken, entityId: other.merchant.entityId };
    assert.equal((await fetch(url, { method: 'PUT', headers: admin, body: JSON.stringify({ connector: 'opp', settings }) })).status, 200);
    for (const body of [{ timeoutMs: 8000 }, { timeoutMS: 8000 }]) {
      const r = await fetch(url, { method: 'PUT', headers: admin, body: JSON.stringify(body) });
      const answer = await r.json() as { error?: { message?: string } };
      assert.equal(r.status, 400, JSON.stringify(answer));
      assert.match(answer.error?.message ?? '', /connector is required/);
    }
    const shown = await (await fetch(url, { headers: admin })).json() as { connector: string; settings: { baseUrl?: string } };
    assert.equal(shown.connector, 'opp');
    assert.equal(shown.settings.baseUrl, other.url);
  } finally {
    await other.close();
  }
});
