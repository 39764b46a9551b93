/**
 * What an operator meets on a node whose clock is off PostgreSQL's (src/storage/clock-gate.ts):
 * the node "writes nothing (503 in each dialect) until it agrees again". The operator surfaces
 * (admin API, dashboard) must neither write behind the gate nor answer a bare 500.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type { App } from '../src/app.ts';
import { postgresAvailable, secondNode, startGateway, type Gateway } from './support/harness.ts';
import { adminHeaders } from './support/process.ts';
import { signIn } from './support/dashboard.ts';

const pgUp = await postgresAvailable();
const skip = pgUp ? false : 'PostgreSQL unreachable';
const email = 'ops@example.com';
const password = 'correct horse battery staple';
let a: Gateway;
let b: { app: App; url: string; merchant: Gateway['merchant'] };
before(async () => {
  if (!pgUp) return;
  a = await startGateway({ store: 'postgres' });
  await a.app.dashboard.addUser({ email, role: 'admin', merchantId: undefined, password });
  // Node B's clock runs a minute behind (as test/node-clock-off.test.ts makes one).
  b = await secondNode(a, { clock: { now: () => Date.now() - 60_000 }, wallClock: () => Date.now() - 60_000 });
  await b.app.clockGate.check();
  assert.ok(b.app.clockGate.refusal(), 'node B knows its clock is off');
});
after(async () => { await b?.app.close(); await a?.close(); });

const auditRows = () => a.app.storage.db.selectFrom('audit_log').selectAll().execute().catch(() => [] as unknown[]);

test('an admin API change on the clock-off node is not written unaudited: it is refused (503) and the account stays as it was', { skip }, async () => {
  const h = adminHeaders(a.dataDir, a.app.config.adminToken);
  const put = await fetch(`${b.url}/admin/merchants/${a.merchant.merchantId}/psp-accounts/skewed`, {
    method: 'PUT', headers: h, body: JSON.stringify({ connector: 'simulator', settings: {} }),
  });
  const text = await put.text();
  const stored = await a.app.storage.db.selectFrom('psp_accounts').select('name').where('merchant_id', '=', a.merchant.merchantId).where('name', '=', 'skewed').executeTakeFirst();
  // Written behind the gate, its audit entry then refused, it would be a change nobody can trace.
  assert.deepEqual({ status: put.status, written: stored !== undefined }, { status: 503, written: false }, text);
});

test('an admin API write the gate refuses answers 503 (send it to another node), not 500 internal', { skip }, async () => {
  const h = adminHeaders(a.dataDir, a.app.config.adminToken);
  const r = await fetch(`${b.url}/admin/merchants/${a.merchant.merchantId}/workflows/payment-acceptance`, {
    method: 'PATCH', headers: h, body: JSON.stringify({ accounts: [] }),
  });
  const body = (await r.json()) as { error: { code: string; message: string } };
  assert.equal(r.status, 503, JSON.stringify(body));
});

test('the dashboard sign-in on the clock-off node says the node cannot serve now (503), not a generic 500', { skip }, async () => {
  const form = await fetch(`${b.url}/dashboard/sign-in`);
  const token = /name="_csrf" value="([^"]+)"/.exec(await form.text())![1]!;
  const r = await fetch(`${b.url}/dashboard/sign-in`, {
    method: 'POST', redirect: 'manual', body: new URLSearchParams({ _csrf: token, email, password, next: '/dashboard' }),
    headers: { 'content-type': 'application/x-www-form-urlencoded', cookie: form.headers.getSetCookie()[0]!.split(';')[0]!, origin: b.url },
  });
  const page = await r.text();
  assert.equal(r.status, 503, /<h1>([^<]*)<\/h1>\s*<p>([^<]*)/.exec(page)?.slice(1).join(': ') ?? page.slice(0, 200));
});

test('a dashboard form on the clock-off node (a session made on a good node) changes nothing it cannot audit, and says why', { skip }, async () => {
  const s = await signIn(a.url, email, password);
  const page = await (await fetch(`${b.url}/dashboard/merchants/${a.merchant.merchantId}`, { headers: { cookie: s.cookie } })).text();
  const csrf = /name="_csrf" value="([^"]+)"/.exec(page)![1]!;
  const r = await fetch(`${b.url}/dashboard/merchants/${a.merchant.merchantId}/psp-accounts`, {
    method: 'POST', redirect: 'manual', body: new URLSearchParams({ _csrf: csrf, name: 'from-dashboard', connector: 'simulator', settings: '{}' }),
    headers: { 'content-type': 'application/x-www-form-urlencoded', cookie: s.cookie, origin: b.url },
  });
  const shown = /<h1>([^<]*)<\/h1>\s*<p>([^<]*)/.exec(await r.text())?.slice(1).join(': ');
  const stored = await a.app.storage.db.selectFrom('psp_accounts').select('name').where('merchant_id', '=', a.merchant.merchantId).where('name', '=', 'from-dashboard').executeTakeFirst();
  assert.deepEqual({ status: r.status, written: stored !== undefined }, { status: 503, written: false }, shown ?? '');
});
