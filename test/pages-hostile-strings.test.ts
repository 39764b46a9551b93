/**
 * Strings merchants and shoppers control, rendered by the dashboard and the hosted pages in
 * Chromium: printed as text, no script runs, no markup is made of them, and each page carries its
 * CSP (and the hosted ones nosniff).
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Browser, Page } from 'playwright-core';
import { opp, pay, startGateway, testCard, type Gateway } from './support/harness.ts';
import { launchChromium } from './support/browser.ts';
import { loopbackAllow } from './support/webhooks.ts';

const P = `"'><img src=x onerror="window.__pwned=1;alert(1)"></script><script>window.__pwned=2;alert(2)</script>{{7*7}}\u2028javascript:alert(3)`;
const password = 'a long test password';
let gw: Gateway;
let browser: Browser;
let hostileMerchant: Awaited<ReturnType<Gateway['app']['merchants']['create']>>;
let payId = '';
let challengeUrl = '';
let endpointId = '';

before(async () => {
  gw = await startGateway({ env: { SWITCHYARD_WEBHOOK_ALLOW: loopbackAllow } });
  browser = await launchChromium();
  assert.ok((await gw.app.dashboard.addUser({ email: 'admin@example.com', role: 'admin', merchantId: undefined, password })).ok);
  hostileMerchant = await gw.app.merchants.create({ name: `Shop ${P}` });
  const ep = await gw.app.webhooks.addEndpoint({ merchantId: hostileMerchant.merchantId, dialect: 'opp', url: `http://127.0.0.1:9/x?a=${encodeURIComponent(P)}` });
  assert.ok(ep.ok, JSON.stringify(ep));
  endpointId = ep.value.endpointId;
  const r = await opp({ url: gw.url, merchant: hostileMerchant }, 'POST', '/v1/payments', {
    ...testCard, amount: '10.00', currency: 'EUR', paymentType: 'DB', merchantTransactionId: P, merchantInvoiceId: P, descriptor: P.slice(0, 60),
    'card.holder': `O"Brien ' & co`, 'customer.givenName': P.slice(0, 50), 'customParameters[xyz]': P,
  });
  assert.equal(r.status, 200, JSON.stringify(r.body));
  payId = r.body.id;
  const c = await opp({ url: gw.url, merchant: hostileMerchant }, 'POST', '/v1/payments', {
    ...testCard, 'card.number': '4200000000000042', amount: '10.00', currency: 'EUR', paymentType: 'DB', merchantTransactionId: P,
    shopperResultUrl: `https://shop.example/return?x=${encodeURIComponent(P)}`,
  });
  assert.ok(c.body.redirect, JSON.stringify(c.body));
  challengeUrl = c.body.redirect.url;
});
after(async () => { await browser?.close(); await gw?.close(); });

async function watch(page: Page) {
  const events: string[] = [];
  page.on('dialog', (d) => { events.push(`dialog ${d.message()}`); void d.dismiss(); });
  page.on('console', (m) => events.push(`console ${m.text()}`));
  return events;
}
async function assertClean(page: Page, events: string[], where: string) {
  const pwned = await page.evaluate('window.__pwned');
  assert.equal(pwned, undefined, `${where}: a script ran`);
  assert.equal(events.filter((e) => e.startsWith('dialog')).length, 0, `${where}: ${events.join('\n')}`);
  assert.equal(await page.locator('img[src="x"]').count(), 0, `${where}: markup injected`);
  assert.equal(await page.locator('script:not([src])').evaluateAll((s) => s.filter((x) => x.textContent!.includes('__pwned')).length), 0, `${where}: script element injected`);
}

test('dashboard pages and hosted pages print hostile strings as text', async () => {
  const context = await browser.newContext();
  const page = await context.newPage();
  const events = await watch(page);
  await page.goto(`${gw.url}/dashboard/payments`);
  await page.getByLabel('Email').fill('admin@example.com');
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.waitForURL(`${gw.url}/dashboard/payments`);
  for (const path of [
    `/dashboard/payments?q=${encodeURIComponent(P)}&currency=${encodeURIComponent(P)}&min=${encodeURIComponent(P)}`,
    `/dashboard/payments`, `/dashboard/payments/${payId}`, `/dashboard/merchants`, `/dashboard/merchants/${hostileMerchant.merchantId}`,
    `/dashboard/audit`, `/dashboard/${encodeURIComponent(P)}`, `/dashboard/webhooks/${endpointId}`,
  ]) {
    const r = await page.goto(`${gw.url}${path}`);
    assert.ok(r!.headers()['content-security-policy'], path);
    await assertClean(page, events, path);
  }
  await context.close();
});

test('hosted challenge, demo return and field pages', async () => {
  const context = await browser.newContext();
  const page = await context.newPage();
  const events = await watch(page);
  for (const url of [challengeUrl, `${gw.url}/hosted/return?${encodeURIComponent(P)}=${encodeURIComponent(P)}&resourcePath=${encodeURIComponent(P)}`]) {
    const r = await page.goto(url);
    const h = r!.headers();
    assert.match(h['content-security-policy'] ?? '', /default-src 'none'/, url);
    assert.equal(h['x-content-type-options'], 'nosniff', url);
    await assertClean(page, events, url);
  }
  await context.close();
});
