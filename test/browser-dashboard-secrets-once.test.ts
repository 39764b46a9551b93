/**
 * A dashboard form whose answer shows new secrets does its change once: reloading that answer (the
 * browser sends the form again) or Back and send again finds what the first submission did. A
 * second rotation of a merchant's credentials cut off the token the operator had just copied; a
 * second "Add endpoint" made a second endpoint, every event delivered twice and signed with a
 * secret nobody had seen; a second rotation of a /v1 endpoint's key lost the key shown first.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Browser, Page } from 'playwright-core';
import { opp, startGateway, testCard, type Gateway } from './support/harness.ts';
import { launchChromium } from './support/browser.ts';
import { loopbackAllow } from './support/webhooks.ts';

let gw: Gateway;
let browser: Browser;
let page: Page;
before(async () => {
  gw = await startGateway({ env: { SWITCHYARD_WEBHOOK_ALLOW: loopbackAllow } });
  browser = await launchChromium();
  await gw.app.dashboard.addUser({ email: 'admin@example.com', role: 'admin', merchantId: undefined, password: 'a long test password' });
  page = await (await browser.newContext()).newPage();
  await page.goto(`${gw.url}/dashboard/sign-in`);
  await page.getByLabel('Email').fill('admin@example.com');
  await page.getByLabel('Password').fill('a long test password');
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.waitForURL(`${gw.url}/dashboard`);
});
after(async () => { await browser?.close(); await gw?.close(); });

const audited = async (action: string) => (await gw.app.dashboard.auditLog({ limit: 100 })).filter((e) => e.action === action && e.outcome === 'ok').length;

test('reloading the "credentials rotated" page rotates nothing more: the token shown first keeps working', async () => {
  const m = gw.merchant.merchantId;
  await page.goto(`${gw.url}/dashboard/merchants/${m}`);
  await page.getByLabel('Credentials to rotate').selectOption('opp');
  await page.getByRole('button', { name: 'Rotate credentials…' }).click();
  await page.getByRole('button', { name: 'Yes, rotate' }).click();
  await page.getByRole('heading', { name: /rotated/ }).waitFor();
  const copied = await page.locator('#secret-1').innerText();
  await page.reload();
  await page.getByRole('heading', { name: 'Credentials already rotated' }).waitFor();
  assert.doesNotMatch(await page.locator('main').innerText(), new RegExp(copied), 'the secret is not shown again');
  const paid = await opp({ url: gw.url, merchant: { ...gw.merchant, accessToken: copied } }, 'POST', '/v1/payments', { ...testCard, amount: '1.00', currency: 'EUR', paymentType: 'PA' });
  assert.equal(paid.status, 200, `the token shown by the first answer is refused after a reload: ${JSON.stringify(paid.body.result)}`);
  assert.equal(await audited('merchant.rotate_credentials'), 1, 'one confirmation, one rotation in the audit log');
});

test('reloading the "Webhook endpoint added" page adds no second endpoint; reloading its "Secret rotated" page rotates nothing more', async () => {
  const m = gw.merchant.merchantId;
  await page.goto(`${gw.url}/dashboard/merchants/${m}`);
  await page.getByLabel('Endpoint URL').fill('http://127.0.0.1:9/hook');
  await page.getByRole('button', { name: 'Add endpoint' }).click();
  await page.getByRole('heading', { name: 'Webhook endpoint added' }).waitFor();
  const shown = await page.locator('#secret-1').innerText();
  await page.reload();
  await page.getByRole('heading', { name: 'Endpoint already added' }).waitFor();
  const endpoints = (await gw.app.webhooks.listEndpoints(m)).filter((e) => e.url === 'http://127.0.0.1:9/hook');
  assert.equal(endpoints.length, 1, 'one form, one endpoint');

  await page.getByRole('link', { name: endpoints[0]!.endpointId }).click();
  await page.getByRole('button', { name: /Rotate/ }).click();
  await page.getByRole('button', { name: 'Yes, rotate' }).click();
  await page.getByRole('heading', { name: 'Secret rotated' }).waitFor();
  const rotated = await page.locator('#secret-0').innerText();
  assert.notEqual(rotated, shown);
  await page.reload();
  await page.getByRole('heading', { name: 'Secret already rotated' }).waitFor();
  assert.equal(await audited('webhook.rotate'), 1, 'one confirmation, one rotation');
  assert.equal(await audited('webhook.add'), 1);
});
