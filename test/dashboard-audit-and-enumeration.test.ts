/**
 * What a careless operator types into a dashboard form stays out of the audit log in plain text,
 * and a sign-in answer tells a stranger nothing about which emails are users: a locked account
 * answers as a wrong password does, since an unknown email never locks.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { startGateway, type Gateway } from './support/harness.ts';
import { postForm, signIn } from './support/dashboard.ts';
import { assertNoCardData, newCanary } from './support/canary.ts';

const password = 'a long test password';
let gw: Gateway;
before(async () => {
  gw = await startGateway({});
  assert.ok((await gw.app.dashboard.addUser({ email: 'admin@example.com', role: 'admin', merchantId: undefined, password })).ok);
  assert.ok((await gw.app.dashboard.addUser({ email: 'target@example.com', role: 'viewer', merchantId: undefined, password })).ok);
});
after(async () => { await gw?.close(); });

test('a card number pasted into a configuration form (origin, PSP account name, cascade) is not kept in plain text in the audit log', async () => {
  const canary = newCanary();
  const s = await signIn(gw.url, 'admin@example.com', password);
  const base = `/dashboard/merchants/${gw.merchant.merchantId}`;
  // Pasted into the wrong box: each form refuses it, and audits the refusal with the text as typed.
  for (const [path, form] of [
    ['/origins', { origin: canary.pan }],
    ['/origins/remove', { origin: canary.pan }],
    ['/psp-accounts/remove', { name: canary.pan }],
    ['/workflow', { accounts: canary.pan }],
  ] as const) {
    const r = await postForm(gw.url, s, `${base}${path}`, { _csrf: s.csrf, ...form });
    await r.text();
    assert.ok(r.status < 500, `${path}: ${r.status}`);
  }
  const log = await gw.app.dashboard.auditLog({ limit: 100 });
  const leaks = log.filter((e) => JSON.stringify(e).includes(canary.pan)).map((e) => `${e.action}: ${JSON.stringify(e.detail)}`);
  assert.deepEqual(leaks, [], 'audit entries holding the PAN in plain text');
  const page = await fetch(`${gw.url}/dashboard/audit`, { headers: { cookie: s.cookie } });
  assert.ok(!(await page.text()).includes(canary.pan), 'the audit page prints the PAN');
});

test('sign-in does not tell which emails are users: a known and an unknown email answer alike after the same wrong passwords', async () => {
  const tryAll = async (email: string) => {
    const answers: string[] = [];
    for (let i = 0; i < 6; i++) {
      const form = await fetch(`${gw.url}/dashboard/sign-in`);
      const token = /name="_csrf" value="([^"]+)"/.exec(await form.text())![1]!;
      const r = await fetch(`${gw.url}/dashboard/sign-in`, {
        method: 'POST', redirect: 'manual', body: new URLSearchParams({ _csrf: token, email, password: `wrong guess number ${i}`, next: '/dashboard' }),
        headers: { 'content-type': 'application/x-www-form-urlencoded', cookie: form.headers.getSetCookie()[0]!.split(';')[0]!, origin: gw.url },
      });
      const text = await r.text();
      answers.push(`${r.status} ${/class="notice error"[^>]*>([^<]*)</.exec(text)?.[1] ?? ''}`);
    }
    return answers;
  };
  const unknown = await tryAll('nobody-here@example.com');
  const known = await tryAll('target@example.com');
  assert.deepEqual(known, unknown, 'the answers to a known email differ from an unknown one\'s: the account exists');
});

test('a card number pasted into the sign-in email box is kept in no table in plain text', async () => {
  const canary = newCanary();
  const r = await gw.app.dashboard.signIn(canary.pan, 'whatever was typed', '192.0.2.9');
  assert.equal(r.ok, false);
  assertNoCardData(canary, 'table rate_hits', JSON.stringify(await gw.app.storage.db.selectFrom('rate_hits').selectAll().execute()));
  assertNoCardData(canary, 'the audit log', JSON.stringify(await gw.app.dashboard.auditLog({ limit: 100 })));
});
