/**
 * PSP accounts and safety: credentials sealed at rest and never shown or logged, live merchants on
 * real PSPs only, a request timeout per account, and a circuit breaker that takes a failing PSP
 * out of the cascade. Gateway B (and C, whose acquirer always fails) act as OPP-family acquirers.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { sql } from 'kysely';
import { opp, pay, startGateway, tempDir, testCard, type Gateway } from './support/harness.ts';
import { configureCascade } from './support/executions.ts';
import { adminHeaders } from './support/process.ts';
import { openSqlite } from '../src/storage/sqlite.ts';
import { pspAccountSecrets } from '../src/storage/migrations/075_psp_account_secrets.ts';

let a: Gateway;
let b: Gateway;
let c: Gateway;

before(async () => {
  b = await startGateway();
  c = await startGateway({ env: { SWITCHYARD_SIM_ERROR_RATE: '1' } });
  a = await startGateway({ env: { SWITCHYARD_BREAKER_FAILURES: '2', SWITCHYARD_BREAKER_OPEN_MS: '60000' } });
});
after(async () => { await a?.close(); await b?.close(); await c?.close(); });

const at = (gw: Gateway) => ({ baseUrl: gw.url, accessToken: gw.merchant.accessToken, entityId: gw.merchant.entityId });
const admin = () => adminHeaders(a.dataDir, a.app.config.adminToken);
const accountsUrl = (merchantId: string) => `${a.url}/admin/merchants/${merchantId}/psp-accounts`;
const put = (merchantId: string, name: string, body: unknown) =>
  fetch(`${accountsUrl(merchantId)}/${name}`, { method: 'PUT', headers: admin(), body: JSON.stringify(body) });
const row = (merchantId: string, name: string) => a.app.storage.db.selectFrom('psp_accounts').selectAll()
  .where('merchant_id', '=', merchantId).where('name', '=', name).executeTakeFirstOrThrow();

describe('PSP account credentials', () => {
  test('are sealed at rest, shown back masked, never logged; payments still reach the PSP', async () => {
    const token = b.merchant.accessToken;
    const r = await put(a.merchant.merchantId, 'acq-b', { connector: 'opp', settings: at(b), timeoutMs: 5000 });
    assert.equal(r.status, 200);
    const shown = await r.json() as any;
    assert.deepEqual(shown.settings, { baseUrl: b.url, accessToken: `****${token.slice(-4)}`, entityId: b.merchant.entityId });
    assert.equal(shown.timeoutMs, 5000);
    assert.deepEqual(shown.circuit, { state: 'closed', consecutiveFailures: 0 });
    assert.equal(shown.notificationUrl, null, 'an OPP-family acquirer is asked, it posts no notifications');
    const stored = await row(a.merchant.merchantId, 'acq-b');
    const inRow = JSON.stringify(stored);
    assert.ok(!inRow.includes(token) && !inRow.includes(Buffer.from(token).toString('base64')), 'no plain credential in the row');
    assert.match(stored.secrets!, /^1\.[A-Za-z0-9_-]+$/, 'sealed under key version 1');
    assert.equal(stored.timeout_ms, 5000);
    // Bound to its account: the same ciphertext does not open as another account's.
    await assert.rejects(a.app.vault.openSecret(stored.secrets!, `psp-account:${a.merchant.merchantId}:other`));

    await configureCascade(a, {}, ['acq-b']);
    const p = await pay(a);
    assert.equal(p.body.result.code, '000.100.110', JSON.stringify(p.body));
    const one = await fetch(`${accountsUrl(a.merchant.merchantId)}/acq-b`, { headers: admin() });
    const listed = await (await fetch(accountsUrl(a.merchant.merchantId), { headers: admin() })).text();
    assert.ok(!(await one.text()).includes(token) && !listed.includes(token), 'never shown back');
    assert.ok(!a.logs.join('').includes(token), 'never logged');
  });

  test('an Adyen or Stripe account shows the notification URL to configure at the PSP, which takes its notifications', async () => {
    const adyen = { apiKey: 'AQE-test-key-0001', merchantAccount: 'ShopECOM', hmacKey: '44782DEF547AAA06C910C43932B1EB0C71FC68D9D0C057550C48EC2ACF6BA056' };
    const stripe = { secretKey: 'sk_test_0123456789abcdef', webhookSecret: 'whsec_0123456789abcdef' };
    for (const [name, body] of [['adyen-eu', { connector: 'adyen', settings: adyen }], ['stripe-eu', { connector: 'stripe', settings: stripe }]] as const) {
      const r = await put(a.merchant.merchantId, name, body);
      const text = await r.clone().text();
      assert.equal(r.status, 200, text);
      const url = `${a.url}/psp-notifications/${a.merchant.merchantId}/${name}`;
      assert.equal(((await r.json()) as any).notificationUrl, url);
      const one = await (await fetch(`${accountsUrl(a.merchant.merchantId)}/${name}`, { headers: admin() })).json() as any;
      assert.equal(one.notificationUrl, url);
      // That URL is the account's endpoint: it answers (a forged notification is refused), not 404.
      const forged = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"notificationItems":[]}' });
      assert.notEqual(forged.status, 404);
    }
    const listed = await (await fetch(accountsUrl(a.merchant.merchantId), { headers: admin() })).json() as any;
    assert.deepEqual(listed.accounts.filter((x: any) => x.name !== 'acq-b').map((x: any) => [x.name, x.notificationUrl]),
      [['adyen-eu', `${a.url}/psp-notifications/${a.merchant.merchantId}/adyen-eu`], ['stripe-eu', `${a.url}/psp-notifications/${a.merchant.merchantId}/stripe-eu`]]);
    for (const name of ['adyen-eu', 'stripe-eu']) assert.equal((await fetch(`${accountsUrl(a.merchant.merchantId)}/${name}`, { method: 'DELETE', headers: { authorization: admin().authorization! } })).status, 200);
  });

  test('a key rotation re-seals them under the new version, and they still open', async () => {
    const { version } = await a.app.vault.rotate();
    assert.equal(version, 2);
    assert.ok(await a.app.workflows.resealAll() >= 1);
    assert.match((await row(a.merchant.merchantId, 'acq-b')).secrets!, /^2\./);
    assert.equal(await a.app.workflows.resealAll(), 0, 'nothing left on older versions');
    assert.equal((await pay(a)).body.result.code, '000.100.110');
  });

  test('an account stored in the clear (before 075) is read as it is, then sealed', async () => {
    const m = await a.app.merchants.create({ name: 'Legacy' });
    const now = Date.now();
    await a.app.storage.db.insertInto('psp_accounts').values({
      id: 'f'.repeat(32), merchant_id: m.merchantId, name: 'old', connector: 'opp', settings: JSON.stringify(at(b)), secrets: null, timeout_ms: null, created_at: now, updated_at: now,
    }).execute();
    const listed = await (await fetch(accountsUrl(m.merchantId), { headers: admin() })).text();
    assert.ok(!listed.includes(b.merchant.accessToken), 'masked even before it is sealed');
    await configureCascade({ ...a, merchant: m }, {}, ['old']);
    assert.equal((await opp({ url: a.url, merchant: m }, 'POST', '/v1/payments', { ...testCard, amount: '5.00', currency: 'EUR', paymentType: 'DB' })).body.result.code, '000.100.110');
    assert.equal(await a.app.workflows.sealUnsealed(), 1);
    const sealed = await row(m.merchantId, 'old');
    assert.ok(sealed.secrets && !sealed.settings.includes(b.merchant.accessToken));
    assert.equal((await opp({ url: a.url, merchant: m }, 'POST', '/v1/payments', { ...testCard, amount: '5.00', currency: 'EUR', paymentType: 'DB' })).body.result.code, '000.100.110');
  });
});

test('migration 075 moves a timeout kept in the settings to its column', async () => {
  const dir = tempDir();
  const { db } = openSqlite(join(dir, 'old.sqlite'));
  try {
    await sql`create table psp_accounts (id text primary key, settings text not null)`.execute(db);
    await sql`insert into psp_accounts values ('a', ${JSON.stringify({ ...at(b), timeoutMs: 2500 })}), ('b', '{"latencyMs":5}'), ('c', ${JSON.stringify({ timeoutMs: 'x' })})`.execute(db);
    await pspAccountSecrets.up(db);
    const rows = await sql<{ id: string; settings: string; timeout_ms: number | null; secrets: string | null }>`select * from psp_accounts order by id`.execute(db);
    assert.deepEqual(rows.rows.map((r) => [r.id, JSON.parse(r.settings), r.timeout_ms, r.secrets]), [
      ['a', at(b), 2500, null], ['b', { latencyMs: 5 }, null, null], ['c', {}, null, null],
    ]);
  } finally {
    await db.destroy();
  }
});

describe('live merchants', () => {
  test('may configure only real PSP accounts, and their payments reach only those', async () => {
    const live = await a.app.merchants.create({ name: 'Live Shop', live: true });
    const sim = await put(live.merchantId, 'sim', { connector: 'simulator', settings: {} });
    assert.equal(sim.status, 400);
    assert.match(await sim.text(), /live merchant.*real PSP connector/);
    const patch = (accounts: string[]) => fetch(`${a.url}/admin/merchants/${live.merchantId}/workflows/payment-acceptance`, { method: 'PATCH', headers: admin(), body: JSON.stringify({ accounts }) });
    const viaDefault = await patch(['default']);
    assert.equal(viaDefault.status, 400);
    assert.match(await viaDefault.text(), /simulated: default/);
    // No real account yet: refused before any simulator hears of it.
    const refused = await opp({ url: a.url, merchant: live }, 'POST', '/v1/payments', { ...testCard, amount: '3.00', currency: 'EUR', paymentType: 'DB' });
    assert.equal(refused.body.result.code, '900.100.100');
    assert.equal(a.app.simulator.received.has(refused.body.id), false);

    assert.equal((await put(live.merchantId, 'acq-b', { connector: 'opp', settings: at(b) })).status, 200);
    assert.equal((await patch(['acq-b'])).status, 200);
    const paid = await opp({ url: a.url, merchant: live }, 'POST', '/v1/payments', { ...testCard, amount: '3.00', currency: 'EUR', paymentType: 'DB' });
    assert.equal(paid.body.result.code, '000.000.000');
  });
});

describe('request timeouts', () => {
  test('are per account, at least 100 ms and at most the gateway\'s PSP timeout', async () => {
    for (const timeoutMs of [50, 10_001, 1.5, '100']) {
      const r = await put(a.merchant.merchantId, 'bad-timeout', { connector: 'opp', settings: at(b), timeoutMs });
      assert.equal(r.status, 400, String(timeoutMs));
      assert.match(await r.text(), /timeoutMs must be an integer between 100 and 10000/);
    }
    const r = await put(a.merchant.merchantId, 'in-settings', { connector: 'opp', settings: { ...at(b), timeoutMs: 750 } });
    assert.equal((await r.json() as any).timeoutMs, 750, 'taken from the settings, where earlier versions kept it');
  });
});

describe('circuit breaker', () => {
  test('a PSP that keeps failing is taken out of the cascade and shown as such', async () => {
    const m = await a.app.merchants.create({ name: 'Breaker' });
    const gw = { ...a, merchant: m };
    await configureCascade(gw, { 'acq-c': { connector: 'opp', settings: at(c) }, sim: {} }, ['acq-c', 'sim'], ['soft', 'error']);
    const sent = async () => (await c.app.storage.db.selectFrom('transactions').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow()).n;
    const charge = async () => (await opp(gw, 'POST', '/v1/payments', { ...testCard, amount: '7.00', currency: 'EUR', paymentType: 'DB' })).body;
    // C's acquirer fails every call (900.100.100): each payment moves on to the simulated account.
    for (let i = 0; i < 2; i++) assert.equal((await charge()).result.code, '000.100.110');
    const accountId = (await row(m.merchantId, 'acq-c')).id;
    const view = await (await fetch(`${accountsUrl(m.merchantId)}/acq-c`, { headers: admin() })).json() as any;
    assert.equal(view.circuit.state, 'open');
    assert.equal(view.circuit.consecutiveFailures, 2);
    assert.ok(view.circuit.retryAt > Date.now());
    const scrape = (await a.app.metrics.scrape()).body;
    assert.match(scrape, new RegExp(`switchyard_psp_circuit_state\\{psp_account="${accountId}"\\} 2`));
    assert.match(scrape, new RegExp(`switchyard_psp_circuit_opened_total\\{psp_account="${accountId}"\\} 1`));

    const before = await sent();
    const p = await charge();
    assert.equal(p.result.code, '000.100.110');
    assert.equal(await sent(), before, 'C was not called while the circuit is open');
    const attempts = await a.app.storage.db.selectFrom('attempts').select(['account_name', 'status', 'reason']).where('payment_id', '=', p.id).orderBy('seq').execute();
    assert.deepEqual(attempts.map((x) => [x.account_name, x.status, x.reason]), [['acq-c', 'failed', 'provider_error'], ['sim', 'succeeded', null]]);
    assert.ok(a.logs.some((l) => l.includes('PSP account circuit open')));
  });
});
