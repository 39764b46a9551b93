/**
 * Values an operator sends that the dashboard cannot use get a clear 4xx page, never "Something
 * went wrong" (500), and what is refused is still audited: on PostgreSQL a NUL character or an
 * out-of-range number must not reach the database unchecked.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { startGateway, type Gateway } from './support/harness.ts';
import { signIn } from './support/dashboard.ts';

const password = 'a long test password';
const adminToken = 'dashboard-admin-token-0123456789';
let gw: Gateway;
before(async () => {
  gw = await startGateway({ store: 'postgres', env: { SWITCHYARD_ADMIN_TOKEN: adminToken } });
  assert.ok((await gw.app.dashboard.addUser({ email: 'admin@example.com', role: 'admin', merchantId: undefined, password })).ok);
});
after(async () => { await gw?.close(); });

const get = async (cookie: string, path: string) => {
  const r = await fetch(`${gw.url}${path}`, { headers: { cookie }, redirect: 'manual' });
  return { status: r.status, text: await r.text() };
};

test('a payment search holding a NUL character (?q=%00) answers 400 with the field named, not 500 (dashboard and admin API)', async () => {
  const s = await signIn(gw.url, 'admin@example.com', password);
  const page = await get(s.cookie, '/dashboard/payments?q=order%00-1');
  const api = await fetch(`${gw.url}/admin/api/payments?q=order%00-1`, { headers: { authorization: `Bearer ${adminToken}` } });
  const apiText = (await api.text()).slice(0, 200);
  assert.deepEqual([page.status < 500, api.status < 500], [true, true], `the dashboard answered ${page.status}; GET /admin/api/payments answered ${api.status}: ${apiText}`);
});

test('the audit log\'s "before" cursor with a time past bigint answers a page, not 500', async () => {
  const s = await signIn(gw.url, 'admin@example.com', password);
  const page = await get(s.cookie, `/dashboard/audit?before=9999999999999999999.${'a'.repeat(32)}`);
  assert.ok(page.status < 500, `answered ${page.status}: ${/<title>([^<]*)/.exec(page.text)?.[1]}`);
});

test('a sign-in whose email box holds a NUL character is refused (401) and audited, not a 500 with no audit entry', async () => {
  const form = await fetch(`${gw.url}/dashboard/sign-in`);
  const token = /name="_csrf" value="([^"]+)"/.exec(await form.text())![1]!;
  const r = await fetch(`${gw.url}/dashboard/sign-in`, {
    method: 'POST', redirect: 'manual', body: new URLSearchParams({ _csrf: token, email: 'admin\u0000@example.com', password: 'a wrong guess here', next: '/dashboard' }),
    headers: { 'content-type': 'application/x-www-form-urlencoded', cookie: form.headers.getSetCookie()[0]!.split(';')[0]!, origin: gw.url },
  });
  await r.text();
  assert.equal(r.status, 401);
  const audited = await gw.app.storage.db.selectFrom('audit_log').select(['email', 'outcome']).where('action', '=', 'session.sign_in').where('outcome', '=', 'refused').execute();
  assert.deepEqual(audited, [{ email: 'admin\uFFFD@example.com', outcome: 'refused' }]);
});

test('a confirmed action posted to a payment id holding a NUL character answers 404 and is audited, not 500', async () => {
  const s = await signIn(gw.url, 'admin@example.com', password);
  const r = await fetch(`${gw.url}/dashboard/payments/x%00y/refund`, {
    method: 'POST', redirect: 'manual', body: new URLSearchParams({ _csrf: s.csrf, amount: '1.00', confirmed: 'yes', actionKey: crypto.randomUUID() }),
    headers: { 'content-type': 'application/x-www-form-urlencoded', cookie: s.cookie, origin: gw.url },
  });
  await r.text();
  assert.equal(r.status, 404);
  const audited = await gw.app.storage.db.selectFrom('audit_log').select(['subject', 'outcome']).where('subject', 'like', 'x%y').execute();
  assert.equal(audited.length, 1, 'the refused action is in the audit log');
  assert.equal(audited[0]!.subject, 'x\uFFFDy');
});
