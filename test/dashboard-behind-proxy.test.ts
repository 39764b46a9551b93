/**
 * The dashboard behind a TLS-terminating reverse proxy configured as nginx is by default
 * (`proxy_pass http://127.0.0.1:8080;` passes `Host: 127.0.0.1:8080`, the upstream's), with
 * SWITCHYARD_PUBLIC_URL set to the proxy's https address. The browser's posts carry
 * `Origin: https://<public host>`, which the dashboard compared with the Host header only: every
 * form, sign-in first, was refused 403 "This form was not sent from the dashboard's own pages".
 * A post from any other origin is still refused.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Browser } from 'playwright-core';
import { pay, startGateway, type Gateway } from './support/harness.ts';
import { launchChromium, withScreenshot } from './support/browser.ts';
import { startProxy, type Proxy } from './support/tls-proxy.ts';

const password = 'a long test password';
let gw: Gateway; let proxy: Proxy; let browser: Browser;
before(async () => {
  proxy = await startProxy('upstream');
  gw = await startGateway({ env: { SWITCHYARD_PUBLIC_URL: proxy.url } });
  proxy.setTarget(gw.url);
  assert.ok((await gw.app.dashboard.addUser({ email: 'admin@example.com', role: 'admin', merchantId: undefined, password })).ok);
  browser = await launchChromium();
});
after(async () => { await browser?.close(); await proxy?.close(); await gw?.close(); });

test('behind a proxy that passes the upstream Host, an operator on SWITCHYARD_PUBLIC_URL signs in and captures', async () => {
  const r = await pay(gw, { paymentType: 'PA', amount: '100.00' });
  assert.equal(r.status, 200);
  const ctx = await browser.newContext({ ignoreHTTPSErrors: true });
  const page = await ctx.newPage();
  try {
    await withScreenshot(page, 'dashboard-behind-proxy', async () => {
      await page.goto(`${proxy.url}/dashboard/payments`);
      await page.getByLabel('Email').fill('admin@example.com');
      await page.getByLabel('Password').fill(password);
      await page.getByRole('button', { name: 'Sign in' }).click();
      await page.waitForLoadState();
      assert.doesNotMatch(await page.locator('body').innerText(), /not sent from the dashboard's own pages/);
      assert.equal(page.url(), `${proxy.url}/dashboard/payments`);
      await page.goto(`${proxy.url}/dashboard/payments/${r.body.id}`);
      await page.getByLabel(/^Capture amount/).fill('10.00');
      await page.getByRole('button', { name: 'Capture…' }).click();
      await page.getByRole('heading', { name: 'Capture payment?' }).waitFor();
      await page.getByRole('button', { name: /^Yes, capture/ }).click();
      await page.waitForURL(`${proxy.url}/dashboard/payments/${r.body.id}?done=capture`);
    });
  } finally {
    await ctx.close();
  }
});

test('a sign-in whose Origin is the public address is same-origin whatever the Host; one from another origin is refused', async () => {
  const signIn = async (origin: string) => {
    const form = await fetch(`${gw.url}/dashboard/sign-in`);
    const token = /name="_csrf" value="([^"]+)"/.exec(await form.text())![1]!;
    return fetch(`${gw.url}/dashboard/sign-in`, {
      method: 'POST', redirect: 'manual',
      body: new URLSearchParams({ _csrf: token, email: 'admin@example.com', password, next: '/dashboard' }),
      headers: { 'content-type': 'application/x-www-form-urlencoded', cookie: form.headers.getSetCookie()[0]!.split(';')[0]!, origin },
    });
  };
  assert.equal((await signIn(new URL(proxy.url).origin)).status, 303, 'signed in, not refused as cross-site');
  assert.equal((await signIn('https://elsewhere.example')).status, 403);
});
