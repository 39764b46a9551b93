/**
 * WCAG 2.2 3.3.1 Error Identification (A), 3.3.3, 4.1.2: a refused dashboard form's error was printed
 * at the top of the page, in a role=alert paragraph no field referred to, naming the field by its
 * key in the address. On a payment page the amount the operator typed was replaced by the whole
 * open amount, and neither the Capture nor the Refund box said it was the one in error. Now the box
 * at fault is marked, described by the error, and keeps what was typed.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Browser, Page } from 'playwright-core';
import { pay, startGateway, type Gateway } from './support/harness.ts';
import { launchChromium } from './support/browser.ts';

const password = 'a long test password';
let gw: Gateway;
let browser: Browser;
let paymentId: string;
before(async () => {
  gw = await startGateway();
  browser = await launchChromium();
  assert.ok((await gw.app.dashboard.addUser({ email: 'admin@example.com', role: 'admin', merchantId: undefined, password })).ok);
  const r = await pay(gw, { paymentType: 'PA', amount: '100.00', merchantTransactionId: 'order-a11y' });
  assert.equal(r.status, 200, JSON.stringify(r.body));
  paymentId = r.body.id as string;
});
after(async () => { await browser?.close(); await gw?.close(); });

async function signedIn(): Promise<Page> {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  const page = await context.newPage();
  await page.goto(`${gw.url}/dashboard/sign-in`);
  await page.getByLabel('Email').fill('admin@example.com');
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.waitForURL(`${gw.url}/dashboard`);
  return page;
}

interface FieldState { value: string; invalid: string | null; described: string; alert: string }
const fieldState = (page: Page, id: string) => page.evaluate(`(() => {
  const i = document.getElementById(${JSON.stringify(id)});
  const ids = (i.getAttribute('aria-describedby') || '').split(/\\s+/).filter(Boolean);
  return { value: i.value, invalid: i.getAttribute('aria-invalid'),
    described: ids.map((x) => (document.getElementById(x) || {}).textContent || '').join(' ').trim(),
    alert: (document.querySelector('[role=alert]') || {}).textContent || '' };
})()`) as Promise<FieldState>;

test('a refused capture amount is marked on its own box, described by the error, and keeps what was typed', async () => {
  const page = await signedIn();
  await page.goto(`${gw.url}/dashboard/payments/${paymentId}`);
  await page.fill('#amount-capture', '12,345');
  await Promise.all([page.waitForNavigation(), page.getByRole('button', { name: 'Capture…' }).click()]);
  const s = await fieldState(page, 'amount-capture');
  await page.context().close();
  assert.match(s.alert, /amount must be/, 'the amount was refused');
  assert.equal(s.invalid, 'true', 'the Capture amount box is marked aria-invalid');
  assert.match(s.described, /amount must be/, 'the box refers to the error through aria-describedby');
  assert.equal(s.value, '12,345', `the box shows what the operator typed, to correct it, not ${s.value} (the whole open amount)`);
});

test('a refused payment search names the field by its label and marks it', async () => {
  const page = await signedIn();
  await page.goto(`${gw.url}/dashboard/payments?min=abc`);
  const s = await fieldState(page, 'f-min');
  await page.context().close();
  assert.ok(s.alert.length > 0, 'the search was refused');
  assert.match(s.alert, /Amount from/, `the error names the field as the form labels it, not by its query key: "${s.alert}"`);
  assert.equal(s.invalid, 'true', 'the Amount from box is marked aria-invalid');
  assert.ok(s.described.length > 0, 'the box refers to the error through aria-describedby');
});
