/**
 * The operator dashboard in Chromium: sign-in, search by every key, a payment's timeline, the
 * back-office actions (each reflected in its dialect's own status call and sent as a webhook),
 * roles and merchant scope, CSRF and cross-site refusals, and the audit log.
 */
import { after, before, describe, test } from 'node:test';
import { randomUUID } from 'node:crypto';
import assert from 'node:assert/strict';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { opp, pay, startGateway, testCard, type Gateway } from './support/harness.ts';
import { launchChromium, withScreenshot } from './support/browser.ts';
import { closeServer, freePort, listen, loopbackAllow } from './support/webhooks.ts';
import { authorizeBody, call, execution, instrument, poll, tokenOf, wf } from './support/executions.ts';
import { createReceiver as createOppReceiver, type Notification } from '../examples/webhooks/opp-receiver.ts';
import { createReceiver as createExecutionsReceiver, type ExecutionsEvent } from '../examples/webhooks/executions-receiver.ts';
import type { Server } from 'node:http';
import type { MerchantCredentials } from '../src/merchants/service.ts';

const password = 'a long test password';
let gw: Gateway;
let browser: Browser;
let other: MerchantCredentials;
const servers: Server[] = [];
const oppGot: Notification[] = [];
const execGot: ExecutionsEvent[] = [];
/** Payments made for the tests: ids and what finds them. */
const made: Record<string, { id: string; reference: string; pspReference: string; last4: string }> = {};

before(async () => {
  gw = await startGateway({ env: { SWITCHYARD_WEBHOOK_ALLOW: loopbackAllow } });
  browser = await launchChromium();
  const m = gw.merchant.merchantId;
  other = await gw.app.merchants.create({ name: 'Other <Shop>' });
  for (const [email, role, merchantId] of [
    ['admin@example.com', 'admin', undefined], ['operator@example.com', 'operator', undefined],
    ['viewer@example.com', 'viewer', undefined], ['scoped@example.com', 'operator', m],
  ] as const) {
    const r = await gw.app.dashboard.addUser({ email, role, merchantId, password });
    assert.ok(r.ok);
  }
  // Webhook receivers for both dialects: every action must send its notification.
  const [oppPort, execPort] = [await freePort(), await freePort()];
  const o = await gw.app.webhooks.addEndpoint({ merchantId: m, dialect: 'opp', url: `http://127.0.0.1:${oppPort}/notify` });
  const e = await gw.app.webhooks.addEndpoint({ merchantId: m, dialect: 'executions', url: `http://127.0.0.1:${execPort}/` });
  assert.ok(o.ok && e.ok);
  const oppServer = createOppReceiver(o.value.secret, (n) => { oppGot.push(n); });
  const execServer = createExecutionsReceiver(e.value.secret, (ev) => { execGot.push(ev); }, Date.now);
  await listen(oppServer, oppPort);
  await listen(execServer, execPort);
  servers.push(oppServer, execServer);

  for (const [name, card, type] of [['capture', '5454545454545454', 'PA'], ['void', '4200000000000000', 'PA']] as const) {
    const r = await pay(gw, { paymentType: type, amount: '100.00', merchantTransactionId: `order-${name}`, 'card.number': card, paymentBrand: card.startsWith('5') ? 'MASTER' : 'VISA' });
    assert.equal(r.status, 200, JSON.stringify(r.body));
    const d = (await gw.app.payments.details(r.body.id))!;
    made[name] = { id: r.body.id, reference: `order-${name}`, pspReference: d.operations[0]!.pspReference!, last4: card.slice(-4) };
  }
  const foreign = await opp({ url: gw.url, merchant: other }, 'POST', '/v1/payments', { ...testCard, amount: '100.00', currency: 'EUR', paymentType: 'PA', merchantTransactionId: 'order-foreign' });
  made.foreign = { id: foreign.body.id, reference: 'order-foreign', pspReference: '', last4: '0000' };
});

after(async () => {
  await browser?.close();
  for (const s of servers) await closeServer(s);
  await gw?.close();
});

async function signedIn(email: string, viewport = { width: 1280, height: 900 }): Promise<{ context: BrowserContext; page: Page; blocked: string[] }> {
  const context = await browser.newContext({ viewport });
  const page = await context.newPage();
  const blocked: string[] = [];
  page.on('console', (msg) => { if (/Content Security Policy/i.test(msg.text())) blocked.push(msg.text()); });
  await page.goto(`${gw.url}/dashboard/payments`);
  await page.waitForURL(/\/dashboard\/sign-in/);
  await page.getByLabel('Email').fill(email);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.waitForURL(`${gw.url}/dashboard/payments`);
  return { context, page, blocked };
}

async function search(page: Page, q: string): Promise<string[]> {
  await page.getByLabel(/^Search/).fill(q);
  await page.getByRole('button', { name: 'Search' }).click();
  await page.waitForURL(/q=/);
  return page.locator('table.list tbody tr td:nth-child(2) a').allInnerTexts();
}

/** Acts from the payment page: the action's form, then its confirmation page. */
async function act(page: Page, paymentId: string, kind: 'Capture' | 'Refund' | 'Void', amount?: string): Promise<string> {
  await page.goto(`${gw.url}/dashboard/payments/${paymentId}`);
  if (amount !== undefined) await page.getByLabel(new RegExp(`^${kind} amount`)).fill(amount);
  await page.getByRole('button', { name: `${kind}…` }).click();
  await page.getByRole('heading', { name: `${kind} payment?` }).waitFor();
  await page.getByRole('button', { name: new RegExp(`^Yes, ${kind.toLowerCase()}`) }).click();
  await page.waitForURL(new RegExp(`/dashboard/payments/${paymentId}\\?(done|refused)=`));
  return page.locator('p.notice').innerText();
}

describe('operator dashboard in Chromium', () => {
  test('sign-in: a wrong password is refused; the right one opens the payment list; the session cookie is HttpOnly, Secure, SameSite=Strict', async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    try {
      await withScreenshot(page, 'dashboard-sign-in', async () => {
        await page.goto(`${gw.url}/dashboard`);
        await page.waitForURL(/\/dashboard\/sign-in/);
        await page.getByLabel('Email').fill('admin@example.com');
        await page.getByLabel('Password').fill('not the password');
        await page.getByRole('button', { name: 'Sign in' }).click();
        assert.match(await page.getByRole('alert').innerText(), /email or password is wrong/);
        await page.getByLabel('Email').fill('admin@example.com');
        await page.getByLabel('Password').fill(password);
        await page.getByRole('button', { name: 'Sign in' }).click();
        await page.waitForURL(`${gw.url}/dashboard`);
        const cookie = (await context.cookies()).find((c) => c.name === '__Host-sy_dashboard');
        assert.ok(cookie);
        assert.equal(cookie.httpOnly, true);
        assert.equal(cookie.secure, true);
        assert.equal(cookie.sameSite, 'Strict');
        await page.getByRole('button', { name: 'Sign out' }).click();
        await page.waitForURL(/\/dashboard\/sign-in/);
        await page.goto(`${gw.url}/dashboard/payments`);
        await page.waitForURL(/\/dashboard\/sign-in/);
      });
    } finally {
      await context.close();
    }
  });

  test('five wrong passwords lock the account, even against the right password', async () => {
    const r = await gw.app.dashboard.addUser({ email: 'locked@example.com', role: 'viewer', merchantId: undefined, password });
    assert.ok(r.ok);
    for (let i = 0; i < 5; i++) assert.equal((await gw.app.dashboard.signIn('locked@example.com', 'wrong wrong wrong', '127.0.0.1')).ok, false);
    const after = await gw.app.dashboard.signIn('locked@example.com', password, '127.0.0.1');
    assert.deepEqual(after, { ok: false, error: 'locked' });
  });

  test('finds a payment by payment id, order reference, PSP reference, last 4 digits and execution id', async () => {
    const token = await tokenOf(gw);
    const exec = await execution(gw, token, 'customer-1', 'order-exec');
    const ins = await instrument(gw, token, '4111111111111111');
    const auth = await call(gw, 'POST', `${wf}/${exec}/authorize`, { token, body: authorizeBody(ins, '80.00') });
    assert.equal(auth.status, 200, JSON.stringify(auth.body));
    const done = await poll(gw, token, exec, ['authorizeRequested', 'authorizePending']);
    assert.equal(done.status, 'authorized');
    const { context, page, blocked } = await signedIn('operator@example.com');
    try {
      await withScreenshot(page, 'dashboard-search', async () => {
        const c = made.capture!;
        assert.deepEqual(await search(page, c.id), [c.id]);
        assert.deepEqual(await search(page, c.reference), [c.id]);
        assert.deepEqual(await search(page, c.pspReference), [c.id]);
        assert.deepEqual(await search(page, c.last4), [c.id]);
        const byExecution = await search(page, exec);
        assert.equal(byExecution.length, 1);
        assert.deepEqual(await search(page, 'order-exec'), byExecution);
        made.exec = { id: byExecution[0]!, reference: 'order-exec', pspReference: '', last4: '1111' };
        made.execId = { id: exec, reference: '', pspReference: '', last4: '' };
        // Filters: status and the other merchant (whose name is escaped, not markup).
        await page.goto(`${gw.url}/dashboard/payments?merchant=${other.merchantId}`);
        assert.deepEqual(await page.locator('table.list tbody tr td:nth-child(2) a').allInnerTexts(), [made.foreign!.id]);
        assert.match(await page.locator('table.list').innerText(), /Other <Shop>/);
        await page.goto(`${gw.url}/dashboard/payments?currency=EUR&min=90&max=100`);
        const inRange = await page.locator('table.list tbody tr td:nth-child(2) a').allInnerTexts();
        assert.ok(inRange.includes(made.capture!.id) && !inRange.includes(made.exec.id), inRange.join());
        assert.deepEqual(blocked, []);
      });
    } finally {
      await context.close();
    }
  });

  test('the payment page tells its story: operations, PSP attempts with latency, webhooks, ledger postings', async () => {
    await gw.app.webhooks.runOnce();
    const { context, page, blocked } = await signedIn('operator@example.com');
    try {
      await withScreenshot(page, 'dashboard-timeline', async () => {
        await page.goto(`${gw.url}/dashboard/payments/${made.capture!.id}`);
        const text = await page.locator('ol.timeline').innerText();
        assert.match(text, /authorize 100\.00 EUR/i);
        assert.match(text, /attempt 1 at .*succeeded.* \d+ ms/i);
        assert.match(text, /webhook operation\.succeeded/i);
        assert.match(text, /HTTP 200/);
        assert.match(text, /ledger/i);
        assert.match(await page.locator('dl.facts').innerText(), /MASTER •••• 5454/);
        assert.deepEqual(blocked, []);
      });
    } finally {
      await context.close();
    }
  });

  test('partial capture, partial refund and void from the page: /v1 status, the executions view and webhooks follow', async () => {
    const { context, page } = await signedIn('operator@example.com');
    try {
      await withScreenshot(page, 'dashboard-actions', async () => {
        const c = made.capture!;
        assert.match(await act(page, c.id, 'Capture', '60.00'), /Capture succeeded \(60\.00 EUR\)/);
        assert.match(await act(page, c.id, 'Refund', '25.00'), /Refund succeeded \(25\.00 EUR\)/);
        assert.match(await act(page, made.void!.id, 'Void'), /Void succeeded/);
        await page.goto(`${gw.url}/dashboard/payments/${c.id}`);
        assert.match(await page.locator('dl.facts').innerText(), /60\.00 EUR \/ 25\.00 EUR/);

        // /v1: each new operation is found by its own id with a success code.
        const ops = (await gw.app.payments.details(c.id))!.operations;
        const capture = ops.find((o) => o.kind === 'capture')!;
        const refund = ops.find((o) => o.kind === 'refund')!;
        const voided = (await gw.app.payments.details(made.void!.id))!.operations.find((o) => o.kind === 'void')!;
        for (const [op, type, amount] of [[capture, 'CP', '60.00'], [refund, 'RF', '25.00'], [voided, 'RV', undefined]] as const) {
          const s = await opp(gw, 'GET', `/v1/query/${op.id}`);
          assert.equal(s.status, 200, JSON.stringify(s.body));
          assert.match(s.body.result.code, /^000\.(000|100)\./);
          assert.equal(s.body.paymentType, type);
          if (amount) assert.equal(s.body.amount, amount);
        }
        // The executions payment: a partial capture from the page is that execution's capture.
        assert.match(await act(page, made.exec!.id, 'Capture', '30.00'), /Capture succeeded/);
        const token = await tokenOf(gw);
        const view = await call(gw, 'GET', `${wf}/${made.execId!.id}`, { token });
        assert.equal(view.body.status, 'partiallyCaptured', JSON.stringify(view.body));

        await gw.app.webhooks.runOnce();
        const oppIds = oppGot.filter((n) => n.type === 'PAYMENT').map((n) => (n.payload as { id: string }).id);
        for (const op of [capture, refund, voided]) assert.ok(oppIds.includes(op.id), `webhook for ${op.kind} ${op.id}`);
        assert.ok(execGot.some((e) => e.event === 'executionActionCompleted' && (e.details as { execution: { id: string } }).execution.id === made.execId!.id));
        // More than is left to capture: refused at its box before any confirmation, confirmed or not, and nothing moves.
        await page.goto(`${gw.url}/dashboard/payments/${c.id}`);
        const csrf = await page.locator('input[name="_csrf"]').first().inputValue();
        const captures = (await gw.app.payments.details(c.id))!.operations.filter((o) => o.kind === 'capture').length;
        for (const extra of [{}, { confirmed: 'yes', actionKey: randomUUID() }] as Record<string, string>[]) {
          const r = await page.request.post(`${gw.url}/dashboard/payments/${c.id}/capture`, { form: { _csrf: csrf, amount: '50.00', ...extra }, headers: { origin: gw.url }, maxRedirects: 0 });
          assert.equal(r.status(), 400);
          assert.match(await r.text(), /The capture amount may be at most 40\.00 EUR\./);
        }
        assert.equal((await gw.app.payments.details(c.id))!.operations.filter((o) => o.kind === 'capture').length, captures);
      });
    } finally {
      await context.close();
    }
  });

  test('a viewer sees no action buttons, and a forged action from a viewer\'s session is refused', async () => {
    const { context, page } = await signedIn('viewer@example.com');
    try {
      await withScreenshot(page, 'dashboard-viewer', async () => {
        const id = made.capture!.id;
        await page.goto(`${gw.url}/dashboard/payments/${id}`);
        await page.locator('ol.timeline').waitFor();
        assert.equal(await page.getByRole('button', { name: /Capture|Refund|Void/ }).count(), 0);
        const csrf = await page.locator('input[name="_csrf"]').first().inputValue();
        const before = (await gw.app.payments.details(id))!.operations.length;
        const r = await page.request.post(`${gw.url}/dashboard/payments/${id}/refund`, {
          form: { _csrf: csrf, amount: '1.00', confirmed: 'yes' }, headers: { origin: gw.url },
        });
        assert.equal(r.status(), 403);
        assert.equal((await gw.app.payments.details(id))!.operations.length, before);
      });
    } finally {
      await context.close();
    }
  });

  test('a merchant-scoped user cannot open another merchant\'s payment by URL, nor see it in the list', async () => {
    const { context, page } = await signedIn('scoped@example.com');
    try {
      await withScreenshot(page, 'dashboard-scoped', async () => {
        const r = await page.goto(`${gw.url}/dashboard/payments/${made.foreign!.id}`);
        assert.equal(r?.status(), 404);
        await page.goto(`${gw.url}/dashboard/payments?merchant=${other.merchantId}`);
        const ids = await page.locator('table.list tbody tr td:nth-child(2) a').allInnerTexts();
        assert.ok(!ids.includes(made.foreign!.id));
        assert.ok(ids.includes(made.capture!.id));
        const own = await page.goto(`${gw.url}/dashboard/payments/${made.capture!.id}`);
        assert.equal(own?.status(), 200);
      });
    } finally {
      await context.close();
    }
  });

  test('a post without the CSRF token, or from another site, is refused and changes nothing', async () => {
    const { context, page } = await signedIn('operator@example.com');
    try {
      const id = made.capture!.id;
      const csrf = await (async () => { await page.goto(`${gw.url}/dashboard/payments/${id}`); return page.locator('input[name="_csrf"]').first().inputValue(); })();
      const before = (await gw.app.payments.details(id))!.operations.length;
      const noToken = await page.request.post(`${gw.url}/dashboard/payments/${id}/refund`, { form: { amount: '1.00', confirmed: 'yes' }, headers: { origin: gw.url } });
      assert.equal(noToken.status(), 403);
      const crossSite = await page.request.post(`${gw.url}/dashboard/payments/${id}/refund`, { form: { _csrf: csrf, amount: '1.00', confirmed: 'yes' }, headers: { origin: 'https://evil.example' } });
      assert.equal(crossSite.status(), 403);
      // A real cross-site form in Chromium: the SameSite=Strict cookie is not even sent, and the post is refused.
      const evil = await context.newPage();
      await evil.route('https://evil.example/**', (route) => route.fulfill({
        contentType: 'text/html',
        body: `<form id="f" method="post" action="${gw.url}/dashboard/payments/${id}/refund"><input name="_csrf" value="${csrf}"><input name="amount" value="1.00"><input name="confirmed" value="yes"></form><script>document.getElementById('f').submit()</script>`,
      }));
      const [response] = await Promise.all([
        evil.waitForResponse((res) => res.url().includes('/refund')),
        evil.goto('https://evil.example/attack'),
      ]);
      assert.ok(response.status() === 403 || response.status() === 401, String(response.status()));
      assert.equal((await gw.app.payments.details(id))!.operations.length, before);
    } finally {
      await context.close();
    }
  });

  test('configuration: a merchant created with its secrets shown once, an origin, a PSP account, the cascade, a webhook endpoint and its test send', async () => {
    const { context, page, blocked } = await signedIn('admin@example.com');
    try {
      await withScreenshot(page, 'dashboard-config', async () => {
        await page.goto(`${gw.url}/dashboard/merchants`);
        await page.getByLabel('Name').fill('Config <Shop>');
        // A double click sends the form once: the answer shown is the one with the secrets.
        await page.getByRole('button', { name: 'Create merchant' }).dblclick();
        await page.getByRole('heading', { name: 'Merchant Config <Shop> created' }).waitFor();
        assert.equal((await gw.app.merchants.list()).filter((m) => m.merchant.name === 'Config <Shop>').length, 1, 'one merchant made');
        const token = await page.locator('#secret-2').innerText();
        const merchantId = await page.locator('#secret-0').innerText();
        // The token shown is the merchant's working /v1 token.
        const created = (await gw.app.merchants.list()).find((m) => m.merchant.id === merchantId)!;
        assert.equal((await gw.app.merchants.byAccessToken(token))?.id, merchantId);
        await page.getByRole('link', { name: 'Continue' }).click();
        await page.getByLabel('Origin', { exact: true }).fill('https://config-shop.example');
        await page.getByRole('button', { name: 'Add origin' }).click();
        assert.match(await page.getByRole('status').innerText(), /Origin https:\/\/config-shop\.example added/);
        await page.getByLabel('Account name').fill('acq-one');
        await page.getByRole('button', { name: 'Add or replace account' }).click();
        assert.match(await page.getByRole('status').innerText(), /PSP account acq-one saved/);
        await page.getByLabel(/^Accounts, tried in this order/).fill('acq-one');
        await page.getByLabel('hard').check();
        await page.getByRole('button', { name: 'Save cascade' }).click();
        assert.match(await page.getByRole('status').innerText(), /Cascade saved: acq-one/);
        assert.deepEqual(await gw.app.workflows.workflow(merchantId, 'payment-acceptance').then((w) => [w?.accounts, [...(w?.moveOn ?? [])].sort()]), [['acq-one'], ['error', 'hard', 'soft']]);
        assert.deepEqual(await gw.app.merchants.origins(created.merchant.id), ['https://config-shop.example']);
        await page.getByLabel('Endpoint URL').fill('http://127.0.0.1:9/hook');
        await page.getByRole('button', { name: 'Add endpoint' }).click();
        await page.getByRole('heading', { name: 'Webhook endpoint added' }).waitFor();
        await page.getByRole('link', { name: 'Continue' }).click();
        await page.getByRole('button', { name: 'Send test notification' }).click();
        assert.match(await page.getByRole('status').innerText(), /Test notification queued/);
        await page.goto(`${gw.url}/dashboard/keys`);
        assert.match(await page.locator('main').innerText(), /Current key-encrypting key: version 1/);
        assert.deepEqual(blocked, []);
      });
      // Operators do not configure: neither the page nor a post.
      const op = await signedIn('operator@example.com');
      assert.equal((await op.page.goto(`${gw.url}/dashboard/merchants`))?.status(), 403);
      await op.context.close();
    } finally {
      await context.close();
    }
  });

  test('credentials: an admin rotates a merchant\'s credentials from its page (confirmed, shown once); the old ones are refused; operators and viewers cannot', async () => {
    const m = await gw.app.merchants.create({ name: 'Rotate <Shop>' });
    const shop = { url: gw.url, merchant: m };
    const v1 = (token: string) => opp(shop, 'POST', '/v1/payments', { ...testCard, amount: '7.00', currency: 'EUR', paymentType: 'PA' }, token);
    const apiToken = (apiKey: string) => fetch(`${gw.url}/auth/token/${m.clientId}`, { method: 'POST', headers: { 'x-api-key': apiKey } });
    const oldAccess = await tokenOf(shop);
    assert.equal((await v1(m.accessToken)).status, 200);

    // Operators and viewers: no page, and a forged post (with their own valid CSRF token) is refused and rotates nothing.
    for (const email of ['operator@example.com', 'viewer@example.com']) {
      const s = await signedIn(email);
      try {
        assert.equal((await s.page.goto(`${gw.url}/dashboard/merchants/${m.merchantId}`))?.status(), 403);
        await s.page.goto(`${gw.url}/dashboard/payments`);
        const csrf = await s.page.locator('input[name="_csrf"]').first().inputValue();
        const r = await s.page.request.post(`${gw.url}/dashboard/merchants/${m.merchantId}/credentials/rotate`, {
          form: { _csrf: csrf, dialect: 'both', confirmed: 'yes' }, headers: { origin: gw.url }, maxRedirects: 0,
        });
        assert.equal(r.status(), 403, email);
        assert.doesNotMatch(await r.text(), /API key \(executions\)/);
      } finally {
        await s.context.close();
      }
    }
    assert.equal((await v1(m.accessToken)).status, 200, 'the refused posts rotated nothing');

    const { context, page, blocked } = await signedIn('admin@example.com');
    try {
      await withScreenshot(page, 'dashboard-rotate', async () => {
        await page.goto(`${gw.url}/dashboard/merchants/${m.merchantId}`);
        await page.getByLabel('Credentials to rotate').selectOption('both');
        await page.getByRole('button', { name: 'Rotate credentials…' }).click();
        await page.getByRole('heading', { name: 'Rotate credentials?' }).waitFor();
        // Nothing is rotated before the confirmation.
        assert.equal((await v1(m.accessToken)).status, 200);
        await page.getByRole('button', { name: 'Yes, rotate' }).click();
        await page.getByRole('heading', { name: 'Credentials of Rotate <Shop> rotated' }).waitFor();
        const facts = Object.fromEntries(await page.locator('.secret dt').evaluateAll((dts) => dts.map((dt) => [dt.textContent, dt.nextElementSibling?.querySelector('code')?.textContent])));
        const token = facts['/v1 access token']!;
        const apiKey = facts['API key (executions)']!;
        assert.equal(facts['Merchant id'], m.merchantId);
        assert.equal(facts['Client id (executions, unchanged)'], m.clientId);
        assert.ok(token && apiKey && token !== m.accessToken && apiKey !== m.apiKey);

        // /v1: the old token is refused in the dialect's own words, the new one pays.
        const old = await v1(m.accessToken);
        assert.equal(old.status, 401);
        assert.equal(old.body.result.code, '800.900.300');
        assert.equal((await v1(token)).status, 200);
        // executions: the old key gets no token, the token issued before is refused, the new key works.
        assert.equal((await apiToken(m.apiKey)).status, 401);
        assert.equal((await call(shop, 'GET', `${wf}?limit=1`, { token: oldAccess })).status, 401);
        const fresh = await apiToken(apiKey);
        assert.equal(fresh.status, 200);
        assert.equal((await call(shop, 'GET', `${wf}?limit=1`, { token: ((await fresh.json()) as { access_token: string }).access_token })).status, 200);

        // Shown once: the merchant page, and every page after, never shows the secrets again.
        await page.getByRole('link', { name: 'Continue' }).click();
        await page.getByRole('heading', { name: 'Rotate <Shop>' }).waitFor();
        const html = await page.content();
        assert.ok(!html.includes(token) && !html.includes(apiKey));
        await page.goto(`${gw.url}/dashboard/audit`);
        const audit = await page.locator('table.list').innerText();
        assert.match(audit, /admin@example\.com\s+merchant\.rotate_credentials\s+\S+\s+ok\s+dialects=/);
        assert.match(audit, /operator@example\.com\s+config\.change\s+\S+\s+refused/);
        assert.ok(!audit.includes(token) && !audit.includes(apiKey));
        assert.deepEqual(blocked, []);
      });
    } finally {
      await context.close();
    }
  });

  test('the audit log lists sign-ins, each action with its amount, and the refused requests', async () => {
    const { context, page } = await signedIn('admin@example.com');
    try {
      await withScreenshot(page, 'dashboard-audit', async () => {
        await page.getByRole('link', { name: 'Audit log' }).click();
        const text = await page.locator('table.list').innerText();
        for (const pattern of [/operator@example\.com\s+payment\.capture\s+\S+\s+ok\s+amount=60\.00 EUR/, /payment\.refund\s+\S+\s+ok\s+amount=25\.00 EUR/, /payment\.void\s+\S+\s+ok/,
          /viewer@example\.com\s+payment\.refund\s+\S+\s+refused\s+reason=role/, /request\.csrf\s+\S+\s+refused/, /request\.cross_site/, /session\.sign_in\s+(\S+\s+)?refused/, /127\.0\.0\.1/, /merchant\.create/, /origin\.add/, /psp_account\.put/, /workflow\.configure/, /webhook\.add/, /webhook\.test/, /merchant\.rotate_credentials/]) {
          assert.match(text, pattern);
        }
      });
      // Operators and viewers do not read it.
      const viewer = await signedIn('viewer@example.com');
      const r = await viewer.page.goto(`${gw.url}/dashboard/audit`);
      assert.equal(r?.status(), 403);
      await viewer.context.close();
    } finally {
      await context.close();
    }
  });
});
