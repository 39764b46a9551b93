/**
 * The dashboard's roles and scopes over HTTP: a viewer changes nothing, a merchant-scoped user reaches
 * no other merchant's payments or endpoints, and every refused post is on record, a cross-site one in
 * any body type included.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { opp, pay, startGateway, testCard, type Gateway } from './support/harness.ts';
import { postForm, signIn as signInAs } from './support/dashboard.ts';

const password = 'a long test password';
let gw: Gateway;
let other: Awaited<ReturnType<Gateway['app']['merchants']['create']>>;
before(async () => {
  gw = await startGateway({ env: { SWITCHYARD_WEBHOOK_ALLOW: '127.0.0.0/8' } });
  other = await gw.app.merchants.create({ name: 'Other Merchant' });
  for (const [email, role, merchantId] of [
    ['admin@example.com', 'admin', undefined], ['viewer@example.com', 'viewer', undefined], ['operator@example.com', 'operator', undefined],
    ['scoped-op@example.com', 'operator', gw.merchant.merchantId], ['scoped-admin@example.com', 'admin', gw.merchant.merchantId],
    ['scoped-viewer@example.com', 'viewer', gw.merchant.merchantId],
  ] as const) {
    assert.ok((await gw.app.dashboard.addUser({ email, role, merchantId, password })).ok);
  }
});
after(async () => { await gw?.close(); });

const signIn = (email: string) => signInAs(gw.url, email, password);
const get = async (s: { cookie: string }, path: string) => {
  const r = await fetch(`${gw.url}${path}`, { headers: { cookie: s.cookie }, redirect: 'manual' });
  return { status: r.status, text: await r.text(), location: r.headers.get('location') };
};
const auditOf = async (email: string) => (await gw.app.dashboard.auditLog({ limit: 1000 })).filter((e) => e.email === email);

test('a merchant-scoped admin posting to another merchant\'s webhook endpoint (rotate, disable, test, redeliver) is refused (404), changes nothing, and each refusal is audited', async () => {
  const ep = await gw.app.webhooks.addEndpoint({ merchantId: other.merchantId, dialect: 'opp', url: 'http://127.0.0.1:9/other' });
  assert.ok(ep.ok);
  const before = await gw.app.webhooks.endpoint(ep.value.endpointId);
  const s = await signIn('scoped-admin@example.com');
  const auditedBefore = (await auditOf('scoped-admin@example.com')).length;
  const base = `/dashboard/webhooks/${ep.value.endpointId}`;
  for (const [op, form] of [['rotate', { confirmed: 'yes' }], ['status', { status: 'disabled', confirmed: 'yes' }], ['test', {}], ['redeliver', { event: 'x' }]] as const) {
    const r = await postForm(gw.url, s, `${base}/${op}`, { _csrf: s.csrf, ...form });
    assert.equal(r.status, 404, `${op}: ${r.status}`);
    assert.doesNotMatch(await r.text(), /secret/i);
  }
  const afterwards = await gw.app.webhooks.endpoint(ep.value.endpointId);
  assert.equal(afterwards?.status, before?.status);
  assert.equal(afterwards?.previousSecretUntil, before?.previousSecretUntil);
  const rows = (await auditOf('scoped-admin@example.com')).slice(0, (await auditOf('scoped-admin@example.com')).length - auditedBefore);
  assert.equal(rows.filter((e) => e.outcome === 'refused').length, 4,
    `4 refused posts to another merchant's endpoint, audit rows: ${JSON.stringify(rows.map((e) => [e.action, e.outcome, e.subject]))}`);
});

test('a viewer can change nothing: every post is refused (403), audited, and changes nothing', async () => {
  const p = await pay(gw, { paymentType: 'PA', amount: '50.00' });
  const d = await pay(gw, { paymentType: 'DB', amount: '50.00' });
  const ep = await gw.app.webhooks.addEndpoint({ merchantId: gw.merchant.merchantId, dialect: 'opp', url: 'http://127.0.0.1:9/viewer' });
  assert.ok(ep.ok);
  const m = gw.merchant.merchantId;
  const key = '7d5b2a36-6f1e-4f59-9a39-5b4f0f4d7f11';
  const posts: [string, Record<string, string>][] = [
    [`/dashboard/payments/${p.body.id}/capture`, { amount: '10.00' }],
    [`/dashboard/payments/${p.body.id}/capture`, { amount: '10.00', confirmed: 'yes', actionKey: key }],
    [`/dashboard/payments/${p.body.id}/void`, { confirmed: 'yes', actionKey: '7d5b2a36-6f1e-4f59-9a39-5b4f0f4d7f12' }],
    [`/dashboard/payments/${d.body.id}/refund`, { amount: '10.00', confirmed: 'yes', actionKey: '7d5b2a36-6f1e-4f59-9a39-5b4f0f4d7f13' }],
    ['/dashboard/merchants', { name: 'Viewer Made', formKey: '7d5b2a36-6f1e-4f59-9a39-5b4f0f4d7f14' }],
    [`/dashboard/merchants/${m}/origins`, { origin: 'https://viewer.example' }],
    [`/dashboard/merchants/${m}/origins/remove`, { origin: 'https://viewer.example' }],
    [`/dashboard/merchants/${m}/psp-accounts`, { name: 'viewer-acct', connector: 'simulator', settings: '{}' }],
    [`/dashboard/merchants/${m}/psp-accounts/remove`, { name: 'viewer-acct' }],
    [`/dashboard/merchants/${m}/workflow`, { accounts: 'viewer-acct' }],
    [`/dashboard/merchants/${m}/webhooks`, { dialect: 'opp', url: 'http://127.0.0.1:9/v' }],
    [`/dashboard/merchants/${m}/credentials/rotate`, { dialect: 'both', confirmed: 'yes' }],
    [`/dashboard/webhooks/${ep.value.endpointId}/rotate`, { confirmed: 'yes' }],
    [`/dashboard/webhooks/${ep.value.endpointId}/status`, { status: 'disabled', confirmed: 'yes' }],
    [`/dashboard/webhooks/${ep.value.endpointId}/test`, {}],
  ];
  for (const email of ['viewer@example.com', 'scoped-viewer@example.com']) {
    const s = await signIn(email);
    const before = (await auditOf(email)).length;
    const statuses: string[] = [];
    for (const [path, form] of posts) {
      const r = await postForm(gw.url, s, path, { _csrf: s.csrf, ...form });
      await r.text();
      if (r.status !== 403) statuses.push(`${r.status} ${path}`);
    }
    assert.deepEqual(statuses, [], `${email}: posts not answered 403`);
    const rows = (await auditOf(email)).filter((e) => e.outcome === 'refused');
    assert.equal(rows.length, posts.length, `${email}: refused rows ${rows.length} of ${posts.length} (${before})`);
  }
  assert.equal((await gw.app.payments.details(p.body.id))!.operations.length, 1);
  assert.equal((await gw.app.payments.details(d.body.id))!.operations.length, 1);
  assert.deepEqual(await gw.app.merchants.origins(m), []);
  assert.equal((await gw.app.webhooks.endpoint(ep.value.endpointId))?.status, 'active');
  assert.ok(!(await gw.app.merchants.list()).some((x) => x.merchant.name === 'Viewer Made'));
});

test('a merchant-scoped operator acting on another merchant\'s payment (first form and confirmation) gets 404, moves nothing, and is audited', async () => {
  const q = await opp({ url: gw.url, merchant: other }, 'POST', '/v1/payments', { amount: '5.00', currency: 'EUR', paymentType: 'PA', ...testCard });
  assert.equal(q.status, 200);
  const s = await signIn('scoped-op@example.com');
  const before = (await auditOf('scoped-op@example.com')).length;
  let n = 0;
  for (const kind of ['capture', 'refund', 'void']) {
    for (const form of [{ amount: '1.00' } as Record<string, string>, { amount: '1.00', confirmed: 'yes', actionKey: `1d5b2a36-6f1e-4f59-9a39-5b4f0f4d7f${10 + n}` }]) {
      n++;
      const r = await postForm(gw.url, s, `/dashboard/payments/${q.body.id}/${kind}`, { _csrf: s.csrf, ...form });
      const t = await r.text();
      assert.equal(r.status, 404, `${kind}: ${r.status}`);
      assert.doesNotMatch(t, /Other Merchant/);
    }
  }
  assert.equal((await gw.app.payments.details(q.body.id))!.operations.length, 1);
  const rows = await auditOf('scoped-op@example.com');
  assert.equal(rows.length - before, n);
});

test('a cross-site post carrying the admin\'s session (a form of another site, multipart) is refused (403) and audited, like any cross-site post', async () => {
  const s = await signIn('admin@example.com');
  const m = gw.merchant.merchantId;
  const results: string[] = [];
  for (const [ct, body] of [
    ['application/x-www-form-urlencoded', new URLSearchParams({ _csrf: s.csrf, origin: 'https://x1.example' }).toString()],
    ['text/plain', `_csrf=${s.csrf}&origin=https://x2.example`],
    ['multipart/form-data; boundary=XyZ', `--XyZ\r\nContent-Disposition: form-data; name="_csrf"\r\n\r\n${s.csrf}\r\n--XyZ\r\nContent-Disposition: form-data; name="origin"\r\n\r\nhttps://x3.example\r\n--XyZ--\r\n`],
  ] as const) {
    const before = (await auditOf('admin@example.com')).length;
    const r = await fetch(`${gw.url}/dashboard/merchants/${m}/origins`, {
      method: 'POST', redirect: 'manual', body,
      headers: { 'content-type': ct, cookie: s.cookie, origin: 'https://evil.example', 'sec-fetch-site': 'cross-site' },
    });
    await r.text();
    const rows = (await auditOf('admin@example.com')).length - before;
    results.push(`${ct.split(';')[0]}: ${r.status}, audit rows ${rows}`);
  }
  assert.deepEqual(await gw.app.merchants.origins(m), []);
  assert.deepEqual(results, [
    'application/x-www-form-urlencoded: 403, audit rows 1', 'text/plain: 403, audit rows 1', 'multipart/form-data: 403, audit rows 1',
  ]);
});
