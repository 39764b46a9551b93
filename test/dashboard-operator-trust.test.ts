/**
 * What operators rely on in the dashboard and the payment admin API: a payment's page is about that
 * payment only; a card number typed into the search leaves the page and its address; every refused
 * confirmed action is audited; the next-page link keeps the date filter as the form shows it; an
 * impossible date is refused; a refused webhook URL's credentials stay out of the audit log (typed
 * with or without its scheme); a numeric PSP reference that passes the card-number check still
 * finds its payment.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { luhnValid } from '../src/runtime/scrub.ts';
import { newCanary } from './support/canary.ts';
import { opp, pay, startGateway, testCard, type Gateway } from './support/harness.ts';
import { postForm, signIn as signInAs } from './support/dashboard.ts';

const password = 'a long test password';
const adminToken = 'review-admin-token-0123456789';
let gw: Gateway;
let other: Awaited<ReturnType<Gateway['app']['merchants']['create']>>;
before(async () => {
  gw = await startGateway({ env: { SWITCHYARD_ADMIN_TOKEN: adminToken, SWITCHYARD_WEBHOOK_ALLOW: '127.0.0.0/8' } });
  other = await gw.app.merchants.create({ name: 'Other Merchant' });
  for (const [email, role, merchantId] of [
    ['admin@example.com', 'admin', undefined], ['scoped-op@example.com', 'operator', gw.merchant.merchantId],
    ['scoped-admin@example.com', 'admin', gw.merchant.merchantId],
  ] as const) {
    assert.ok((await gw.app.dashboard.addUser({ email, role, merchantId, password })).ok);
  }
});
after(async () => { await gw?.close(); });

const signIn = (email: string) => signInAs(gw.url, email, password);
const post = (s: { cookie: string }, path: string, form: Record<string, string>) => postForm(gw.url, s, path, form);
const get = async (s: { cookie: string }, path: string) => {
  const r = await fetch(`${gw.url}${path}`, { headers: { cookie: s.cookie }, redirect: 'manual' });
  return { status: r.status, text: await r.text(), location: r.headers.get('location') };
};
const adminApi = async (path: string) => {
  const r = await fetch(`${gw.url}/admin/api${path}`, { headers: { authorization: `Bearer ${adminToken}` } });
  return { status: r.status, body: await r.json() as any };
};

test('a payment\'s story (admin API and dashboard page) describes that payment, even when a later payment\'s order reference is its id', async () => {
  const first = await pay(gw, { amount: '92.00', merchantTransactionId: 'order-original' });
  assert.equal(first.status, 200, JSON.stringify(first.body));
  // Another merchant's later payment (another card) whose merchantTransactionId happens to be the first payment's id.
  const later = await opp({ url: gw.url, merchant: other }, 'POST', '/v1/payments', {
    amount: '5.00', currency: 'EUR', paymentType: 'DB', ...testCard, 'card.number': '4111111111111111', merchantTransactionId: first.body.id,
  });
  assert.equal(later.status, 200, JSON.stringify(later.body));
  // The merchant-scoped operator's page of its own payment shows another merchant's name and card.
  const s = await signIn('scoped-op@example.com');
  const page = await get(s, `/dashboard/payments/${first.body.id}`);
  assert.equal(page.status, 200);
  assert.doesNotMatch(page.text, /Other Merchant/, 'another merchant\'s name is shown on this payment');
  assert.doesNotMatch(page.text, /•••• 1111/, 'another payment\'s card is shown on this payment');
  const story = await adminApi(`/payments/${first.body.id}`);
  assert.equal(story.status, 200);
  assert.equal(story.body.payment.id, first.body.id, `GET /admin/api/payments/:id summary is another payment: merchant ${story.body.payment.merchantName}, amount ${story.body.payment.amount}, card ${JSON.stringify(story.body.payment.card)}`);
});

test('a card number typed into the payment search is not printed back into the page (nor its links) in plain text', async () => {
  const s = await signIn('admin@example.com');
  const pan = '4200000000000000';
  const r = await get(s, `/dashboard/payments?q=${pan}`);
  const inLogs = gw.logs.some((l) => l.includes(pan));
  assert.equal(inLogs, false, 'the PAN is in the gateway\'s logs');
  assert.ok(!r.text.includes(pan), `status ${r.status}; the page carries the PAN: ${/[\s\S]{0,80}4200000000000000[\s\S]{0,20}/.exec(r.text)?.[0]}`);
  // The search is sent on at once with the number masked, as references holding one were stored: it still finds them.
  assert.equal(r.status, 303);
  assert.ok(r.location && !r.location.includes(pan) && /q=\*{4}0000_/.test(decodeURIComponent(r.location)), String(r.location));
  const ordered = await pay(gw, { amount: '7.00', merchantTransactionId: pan });
  assert.equal(ordered.status, 200, JSON.stringify(ordered.body));
  const found = await get(s, r.location!);
  assert.equal(found.status, 200);
  assert.ok(!found.text.includes(pan));
  assert.ok(found.text.includes(ordered.body.id), 'the masked search finds the payment whose reference held the number');
});

test('a card number given twice in the payment search (a hand-made address) is masked out of the address too, not left there unread', async () => {
  const s = await signIn('admin@example.com');
  const pan = '4200000000000000';
  const r = await get(s, `/dashboard/payments?q=${pan}&q=${pan}&status=succeeded`);
  assert.equal(r.status, 303);
  const once = await get(s, r.location!);
  assert.equal(once.status, 303, 'the first value is then masked as a single one is');
  assert.ok(once.location && !once.location.includes(pan) && /q=\*{4}0000_/.test(decodeURIComponent(once.location)) && /status=succeeded/.test(once.location), String(once.location));
});

test('a date filter that is no calendar day (2026-02-30) is refused, not read as another day', async () => {
  const r = await adminApi('/payments?from=2026-02-30');
  assert.equal(r.status, 400, `answered ${r.status}: ${JSON.stringify(r.body).slice(0, 200)}`);
});

test('a refused confirmation (its one-time key already used, sent again with another amount) is written to the audit log', async () => {
  const s = await signIn('admin@example.com');
  const p = await pay(gw, { amount: '92.00', merchantTransactionId: 'audit-refusal' });
  const path = `/dashboard/payments/${p.body.id}/refund`;
  const c = await post(s, path, { _csrf: s.csrf, amount: '10.00' });
  const key = /name="actionKey" value="([^"]+)"/.exec(await c.text())![1]!;
  assert.equal((await post(s, path, { _csrf: s.csrf, amount: '10.00', confirmed: 'yes', actionKey: key })).status, 303);
  const reused = await post(s, path, { _csrf: s.csrf, amount: '50.00', confirmed: 'yes', actionKey: key });
  assert.match(reused.headers.get('location') ?? '', /refused=confirmation_used/);
  const keyless = await post(s, path, { _csrf: s.csrf, amount: '20.00', confirmed: 'yes' });
  assert.equal(keyless.status, 400);
  const log = (await gw.app.dashboard.auditLog({ merchantId: undefined, before: undefined, limit: 100 })).filter((e) => e.subject === p.body.id);
  const rows = log.map((e) => `${e.action} ${e.outcome} ${JSON.stringify(e.detail)}`);
  assert.equal(log.filter((e) => e.outcome === 'refused').length, 2, `audit rows for the payment: ${JSON.stringify(rows)}`);
});

test('the next page of a date-filtered list keeps the "made to" day the operator chose in the form', async () => {
  const s = await signIn('admin@example.com');
  await pay(gw, { merchantTransactionId: 'page-a' });
  await pay(gw, { merchantTransactionId: 'page-b' });
  const today = new Date().toISOString().slice(0, 10);
  const first = await get(s, `/dashboard/payments?to=${today}&limit=1`);
  const next = /rel="next" href="([^"]+)"/.exec(first.text)?.[1]?.replaceAll('&amp;', '&');
  assert.ok(next, 'a next page link');
  const second = await get(s, next!);
  const shown = /id="f-to" name="to" type="date" value="([^"]*)"/.exec(second.text)?.[1];
  assert.equal(shown, today, `next link ${next}`);
});

test('a refused webhook URL carrying credentials does not write those credentials into the audit log', async () => {
  const s = await signIn('admin@example.com');
  const r = await post(s, `/dashboard/merchants/${gw.merchant.merchantId}/webhooks`, { _csrf: s.csrf, formKey: randomUUID(), dialect: 'opp', url: 'https://ops:Receiver-S3cret@hooks.example/notify' });
  assert.equal(r.status, 400);
  const log = await gw.app.dashboard.auditLog({ merchantId: undefined, before: undefined, limit: 100 });
  const leaked = log.filter((e) => JSON.stringify(e.detail).includes('Receiver-S3cret'));
  assert.deepEqual(leaked.map((e) => `${e.action} ${e.outcome} ${JSON.stringify(e.detail)}`), []);
  assert.ok(log.some((e) => e.action === 'webhook.add' && e.outcome === 'refused'), 'the URL itself was judged and the refusal audited');
  const page = await get(s, '/dashboard/audit');
  assert.ok(!page.text.includes('Receiver-S3cret'), 'the audit page shows the receiver\'s password');
});

for (const url of ['ops:Receiver-S3cret@hooks.example/notify', 'hooks-user:Receiver-S3cret@hooks.example.com:8443/notify']) {
  test(`a refused webhook URL typed without its scheme (${url}) keeps its password out of the audit log`, async () => {
    const s = await signIn('admin@example.com');
    const r = await post(s, `/dashboard/merchants/${gw.merchant.merchantId}/webhooks`, { _csrf: s.csrf, formKey: randomUUID(), dialect: 'opp', url });
    assert.equal(r.status, 400);
    const log = await gw.app.dashboard.auditLog({ merchantId: undefined, before: undefined, limit: 100 });
    const leaked = log.filter((e) => JSON.stringify(e.detail).includes('Receiver-S3cret'));
    assert.deepEqual(leaked.map((e) => `${e.action} ${e.outcome} ${JSON.stringify(e.detail)}`), []);
  });
}

/** A 16-digit numeric PSP reference, as Adyen gives, that happens to pass the Luhn check. */
function adyenLikeReference(): string {
  const stem = '881565896176525';
  for (let d = 0; d < 10; d++) if (luhnValid(stem + d)) return stem + d;
  throw new Error('unreachable');
}

test('searching the dashboard by a numeric PSP reference that passes Luhn finds its payment', async () => {
  const ref = adyenLikeReference();
  const p = await pay(gw, { amount: '12.00' });
  assert.equal(p.status, 200, JSON.stringify(p.body));
  await gw.app.storage.db.updateTable('transactions').set({ psp_reference: ref } as never).where('payment_id', '=', p.body.id).execute();
  // The admin API finds it by that reference.
  const api = await fetch(`${gw.url}/admin/api/payments?q=${ref}`, { headers: { authorization: `Bearer ${adminToken}` } });
  const apiBody = await api.json() as any;
  assert.ok(JSON.stringify(apiBody).includes(p.body.id), `admin API: ${JSON.stringify(apiBody).slice(0, 300)}`);
  // The dashboard search for the same reference.
  const s = await signIn('admin@example.com');
  let r = await fetch(`${gw.url}/dashboard/payments?q=${ref}`, { headers: { cookie: s.cookie }, redirect: 'manual' });
  let hops = 0;
  while (r.status === 303 && hops++ < 3) {
    r = await fetch(new URL(r.headers.get('location')!, gw.url), { headers: { cookie: s.cookie }, redirect: 'manual' });
  }
  const text = await r.text();
  assert.equal(r.status, 200);
  assert.ok(text.includes(p.body.id), 'the dashboard search by PSP reference does not find the payment (the reference was masked before searching)');
});

test('a merchant\'s name holding a card number is refused by the dashboard: nothing created, nothing audited in plain text, not repeated on the page', async () => {
  const s = await signIn('admin@example.com');
  const before = (await gw.app.merchants.list()).length;
  const r = await post(s, '/dashboard/merchants', { _csrf: s.csrf, name: 'Shop 4111 1111 1111 1111' });
  const page = await r.text();
  assert.equal(r.status, 400, page.slice(0, 300));
  assert.match(page, /looks like a card number/);
  assert.ok(!page.includes('4111 1111 1111 1111'), 'the number is not shown back');
  assert.equal((await gw.app.merchants.list()).length, before, 'no merchant created');
  const audit = await gw.app.storage.db.selectFrom('audit_log').selectAll().execute();
  assert.ok(!JSON.stringify(audit).includes('4111 1111 1111 1111'), 'nor audited in plain text');
});

test('the new-merchant form sent twice (a double click, a resend from the browser\'s history) creates one merchant; the second answer names it and shows no secrets', async () => {
  const s = await signIn('admin@example.com');
  const form = await get(s, '/dashboard/merchants');
  const formKey = /name="formKey" value="([0-9a-f-]{36})"/.exec(form.text)?.[1];
  assert.ok(formKey, 'the form carries a one-time key');
  const before = (await gw.app.merchants.list()).length;
  const fields = { _csrf: s.csrf, name: 'Twice Sent Shop', live: 'no', unique: 'no', formKey };
  const [first, second] = await Promise.all([post(s, '/dashboard/merchants', fields), post(s, '/dashboard/merchants', fields)]);
  const answers = [{ status: first.status, text: await first.text() }, { status: second.status, text: await second.text() }];
  assert.equal((await gw.app.merchants.list()).length, before + 1, 'one merchant made');
  assert.equal(answers.filter((a) => a.status === 201).length, 1, answers.map((a) => a.status).join(', '));
  const made = (await gw.app.merchants.list()).find((m) => m.merchant.name === 'Twice Sent Shop')!.merchant;
  const again = await post(s, '/dashboard/merchants', fields);
  const againText = await again.text();
  assert.equal(again.status, 200);
  assert.match(againText, new RegExp(`created the merchant[\\s\\S]*${made.id}`));
  assert.ok(!againText.includes('access token'), 'no secret is shown again');
  assert.equal((await gw.app.merchants.list()).length, before + 1, 'still one');
  const other = await post(s, '/dashboard/merchants', { ...fields, name: 'Another Name' });
  assert.equal(other.status, 409, 'the key of a form sent with other values is refused');
  const keyless = await post(s, '/dashboard/merchants', { _csrf: s.csrf, name: 'No Key Shop' });
  assert.equal(keyless.status, 400);
  assert.equal((await gw.app.merchants.list()).length, before + 1, 'nothing made without the form\'s key');
});

test('a card number typed into a payment-list filter box (amount, currency, dates) is not printed back into the page', async () => {
  const { pan } = newCanary();
  const s = await signIn('admin@example.com');
  const echoed: string[] = [];
  for (const query of [`currency=EUR&min=${pan}`, `currency=EUR&max=${pan}`, `currency=${pan}`, `from=${pan}`, `to=${pan}`]) {
    const r = await get(s, `/dashboard/payments?${query}`);
    assert.ok(r.status < 500, `${query}: ${r.status}`);
    if (r.text.includes(pan) || (r.location ?? '').includes(pan)) echoed.push(query.replace(pan, 'PAN'));
  }
  assert.deepEqual(echoed, [], 'filters whose page (or redirect) prints the card number back');
});

test('a card number pasted into a configuration box (cascade accounts, webhook types) is not printed back on the page that refuses it', async () => {
  const { pan } = newCanary();
  const s = await signIn('admin@example.com');
  const base = `/dashboard/merchants/${gw.merchant.merchantId}`;
  const echoed: string[] = [];
  for (const [path, form] of [
    ['/workflow', { accounts: pan }],
    ['/webhooks', { url: 'https://hooks.example/notify', dialect: 'opp', types: pan, formKey: randomUUID() }],
  ] as const) {
    const r = await postForm(gw.url, s, `${base}${path}`, { _csrf: s.csrf, ...form });
    const text = await r.text();
    assert.equal(r.status, 400, `${path}: refused`);
    if (text.includes(pan)) echoed.push(path);
  }
  assert.deepEqual(echoed, [], 'refusal pages printing the card number back');
});

test('a merchant-scoped admin posting a configuration form to another merchant\'s id is refused (404), changes nothing, and the refusal is audited', async () => {
  const s = await signIn('scoped-admin@example.com');
  for (const [path, form] of [
    [`/dashboard/merchants/${other.merchantId}/origins`, { origin: 'https://evil.example' }],
    [`/dashboard/merchants/${other.merchantId}/credentials/rotate`, { dialect: 'both', confirmed: 'yes' }],
    ['/dashboard/merchants', { name: 'Sneaky' }],
  ] as const) {
    const r = await postForm(gw.url, s, path, { _csrf: s.csrf, ...form });
    await r.text();
    assert.ok(r.status === 404 || r.status === 403, `${path}: ${r.status}`);
  }
  assert.deepEqual(await gw.app.merchants.origins(other.merchantId), []);
  const log = await gw.app.dashboard.auditLog({ limit: 100 });
  const refused = log.filter((e) => e.email === 'scoped-admin@example.com' && e.outcome === 'refused');
  assert.equal(refused.length, 3, `refused posts audited: ${JSON.stringify(log.filter((e) => e.email === 'scoped-admin@example.com').map((e) => [e.action, e.outcome]))}`);
});

test('searching the dashboard by a follow-up operation\'s numeric PSP reference (a refund\'s, passing Luhn) finds its payment, as the admin API does', async () => {
  let ref = '';
  for (let d = 0; d < 10 && !ref; d++) if (luhnValid(`881565896176526${d}`)) ref = `881565896176526${d}`;
  const p = await pay(gw, { amount: '12.00' });
  assert.equal(p.status, 200, JSON.stringify(p.body));
  const rf = await opp(gw, 'POST', `/v1/payments/${p.body.id}`, { amount: '2.00', currency: 'EUR', paymentType: 'RF' });
  assert.equal(rf.status, 200, JSON.stringify(rf.body));
  // The refund's PSP reference only (an Adyen modification's pspReference is 16 digits too).
  await gw.app.storage.db.updateTable('transactions').set({ psp_reference: ref } as never).where('id', '=', rf.body.id).execute();
  const s = await signIn('admin@example.com');
  let r = await fetch(`${gw.url}/dashboard/payments?q=${ref}`, { headers: { cookie: s.cookie }, redirect: 'manual' });
  for (let hops = 0; r.status === 303 && hops < 3; hops++) {
    r = await fetch(new URL(r.headers.get('location')!, gw.url), { headers: { cookie: s.cookie }, redirect: 'manual' });
  }
  const text = await r.text();
  assert.equal(r.status, 200);
  assert.ok(text.includes(p.body.id), 'the dashboard masked the refund\'s PSP reference before searching and found nothing');
});

test('rotating a webhook secret and disabling an endpoint each ask first: the first post shows what it will do and changes nothing; enabling does not ask', async () => {
  const added = await gw.app.webhooks.addEndpoint({ merchantId: gw.merchant.merchantId, dialect: 'opp', url: 'http://127.0.0.1:9/confirm-me' });
  assert.ok(added.ok);
  const id = added.value.endpointId;
  const s = await signIn('admin@example.com');
  const base = `/dashboard/webhooks/${id}`;

  const asked = await post(s, `${base}/rotate`, { _csrf: s.csrf });
  const askedText = await asked.text();
  assert.equal(asked.status, 200);
  assert.match(askedText, /Rotate the signing secret\?/);
  assert.match(askedText, /http:\/\/127\.0\.0\.1:9\/confirm-me/);
  assert.match(askedText, /name="confirmed" value="yes"/);
  const sealed = async () => (await gw.app.storage.db.selectFrom('webhook_endpoints').select('secret').where('id', '=', id).executeTakeFirstOrThrow()).secret;
  const before = await sealed();
  assert.match(askedText, /The old one stops at once/, 'a \/v1 key changes at once, and the page says so');
  assert.equal(await sealed(), before, 'nothing rotated before the confirmation');
  const formKey = /name="formKey" value="([0-9a-f-]{36})"/.exec(askedText)?.[1];
  assert.ok(formKey, 'the confirmation carries its one-time key');
  const rotated = await post(s, `${base}/rotate`, { _csrf: s.csrf, confirmed: 'yes', formKey });
  assert.equal(rotated.status, 200);
  const secret = /<code id="secret-0">([0-9A-Fa-f]{64})<\/code>/.exec(await rotated.text())?.[1];
  assert.ok(secret && secret !== added.value.secret, 'the new secret is shown once');
  assert.notEqual(await sealed(), before, 'rotated');

  const disabling = await post(s, `${base}/status`, { _csrf: s.csrf, status: 'disabled' });
  assert.equal(disabling.status, 200);
  assert.match(await disabling.text(), /Disable this endpoint\?/);
  assert.equal((await gw.app.webhooks.endpoint(id))?.status, 'active', 'still active before the confirmation');
  assert.equal((await post(s, `${base}/status`, { _csrf: s.csrf, status: 'disabled', confirmed: 'yes' })).status, 200);
  assert.equal((await gw.app.webhooks.endpoint(id))?.status, 'disabled');
  assert.equal((await post(s, `${base}/status`, { _csrf: s.csrf, status: 'active' })).status, 200);
  assert.equal((await gw.app.webhooks.endpoint(id))?.status, 'active', 'enabled at once');
  const actions = (await gw.app.dashboard.auditLog({ merchantId: undefined, before: undefined, limit: 100 })).filter((e) => e.subject === id).map((e) => `${e.action} ${e.outcome}`);
  assert.deepEqual(actions.sort(), ['webhook.rotate ok', 'webhook.status ok', 'webhook.status ok'], 'only what was done is audited');
});

test('changes asked of the operator APIs are audited, allowed or not, naming the route and what it names, never the body (a PSP account\'s secrets)', async () => {
  const m = gw.merchant.merchantId;
  const secret = 'adyen-api-key-that-must-stay-out-0123';
  const put = (token: string) => fetch(`${gw.url}/admin/merchants/${m}/psp-accounts/audited-acq`, {
    method: 'PUT', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: JSON.stringify({ connector: 'adyen', settings: { baseUrl: 'https://checkout-test.adyen.com/v71', apiKey: secret, merchantAccount: 'Acme', hmacKey: '00'.repeat(32) } }),
  });
  assert.equal((await put(adminToken)).status, 200);
  assert.equal((await put('not-the-token')).status, 401);
  const refused = await fetch(`${gw.url}/admin/api/ledger/discrepancies/nothing-here/resolve`, {
    method: 'POST', headers: { authorization: `Bearer ${adminToken}`, 'content-type': 'application/json' }, body: JSON.stringify({ note: '' }),
  });
  assert.equal(refused.status, 400);
  assert.equal((await fetch(`${gw.url}/admin/merchants/${m}/psp-accounts`, { headers: { authorization: `Bearer ${adminToken}` } })).status, 200);

  const log = (await gw.app.dashboard.auditLog({ merchantId: undefined, before: undefined, limit: 100 })).filter((e) => e.action.startsWith('admin_api.'));
  const rows = log.map((e) => [e.action, e.outcome, e.subject, e.merchantId, e.email]).reverse();
  assert.deepEqual(rows, [
    ['admin_api.PUT /admin/merchants/:merchantId/psp-accounts/:name', 'ok', `${m} audited-acq`, m, 'admin API (operator token)'],
    ['admin_api.PUT /admin/merchants/:merchantId/psp-accounts/:name', 'refused', `${m} audited-acq`, m, 'admin API (no valid operator token)'],
    ['admin_api.POST /admin/api/ledger/discrepancies/:id/resolve', 'refused', 'nothing-here', undefined, 'admin API (operator token)'],
  ], 'every write once, reads not at all');
  assert.ok(!JSON.stringify(log).includes(secret), 'the body stays out of the audit log');
  // An admin reads them on the dashboard's audit page.
  const page = await get(await signIn('admin@example.com'), '/dashboard/audit');
  assert.match(page.text, /admin_api\.PUT \/admin\/merchants\/:merchantId\/psp-accounts\/:name/);
});

test('a change asked of the operator API under a percent-encoded path (/%61dmin/...) is audited: the router reads it as /admin', async () => {
  const m = gw.merchant.merchantId;
  const res = await fetch(`${gw.url}/%61dmin/merchants/${m}/psp-accounts/encoded-path-acq`, {
    method: 'PUT', headers: { authorization: `Bearer ${adminToken}`, 'content-type': 'application/json' },
    body: JSON.stringify({ connector: 'simulator', settings: {} }),
  });
  assert.equal(res.status, 200, await res.text());
  const log = (await gw.app.dashboard.auditLog({ merchantId: undefined, before: undefined, limit: 100 })).filter((e) => e.action.startsWith('admin_api.'));
  assert.ok(log.some((e) => e.subject === `${m} encoded-path-acq` && e.outcome === 'ok'), JSON.stringify(log.map((e) => [e.action, e.subject])));
});

test('a refused capture amount holding a card number across its 64th character is printed back masked, not with the card\'s digits', async () => {
  const p = await pay(gw, { paymentType: 'PA', amount: '100.00', merchantTransactionId: 'order-refused-amount-mask' });
  assert.equal(p.status, 200, JSON.stringify(p.body));
  const s = await signIn('admin@example.com');
  const pan = '4111111111111111';
  // A pasted note with a card number whose last digit is the 65th character: cut before it was
  // masked, the rest no longer read as a card number, and 15 of its digits were printed back.
  const typed = `${'note '.repeat(9)}ref ${pan} end`;
  assert.equal(typed.indexOf(pan) + pan.length, 65);
  const r = await post(s, `/dashboard/payments/${p.body.id as string}/capture`, { _csrf: s.csrf, amount: typed });
  const page = await r.text();
  assert.equal(r.status, 400, 'the amount is refused');
  assert.match(page, /id="amount-capture"[^>]*aria-invalid="true"/);
  assert.ok(!page.includes(pan.slice(0, 12)), 'the page prints the card number\'s digits back');
});
