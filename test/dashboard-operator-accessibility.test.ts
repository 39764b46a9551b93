/**
 * The operator dashboard for keyboard, screen-reader and small-screen users (WCAG 2.2):
 * - 1.4.10 Reflow (AA): at 320 CSS px the payment page's heading ("Payment " and a 32-digit id, with
 *   nothing to break it) and the confirm pages' sentence overflowed the viewport, so the page
 *   scrolled sideways.
 * - 2.4.4 Link Purpose (A): the overview's links read "see them" and "list"; they say what they open.
 * - 3.2.2 On Input (A): the payments list's filter selects submitted their form on `change`, which
 *   Chromium fires at every arrow key on a closed select: a keyboard user stepping through the
 *   options was taken to a new page at the first one passed. The Search button applies them now.
 * - 3.3.1 Error Identification (A), 3.3.3, 4.1.2: a refused form's error was printed at the top of
 *   the page, in an alert no field referred to, naming the field by its key in the address; a
 *   refused capture amount was replaced by the whole open amount. Now the box at fault is marked,
 *   described by the error, and keeps what was typed.
 * - 2.4.3 Focus Order (A), 4.1.3 Status Messages (AA): the page answering an action put the focus at
 *   its top, and a reader does not announce a status already there when a page loads: the operator
 *   had to look for what their action did. The outcome takes the focus now.
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
  const r = await pay(gw, { paymentType: 'PA', amount: '100.00', merchantTransactionId: 'order-reflow' });
  assert.equal(r.status, 200, JSON.stringify(r.body));
  paymentId = r.body.id as string;
});
after(async () => { await browser?.close(); await gw?.close(); });

async function signedIn(width: number): Promise<Page> {
  const context = await browser.newContext({ viewport: { width, height: 800 } });
  const page = await context.newPage();
  await page.goto(`${gw.url}/dashboard/sign-in`);
  await page.getByLabel('Email').fill('admin@example.com');
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.waitForURL(`${gw.url}/dashboard`);
  return page;
}

test('a payment page and its void confirmation fit 320 CSS px without sideways scrolling', async () => {
  const page = await signedIn(320);
  await page.goto(`${gw.url}/dashboard/payments/${paymentId}`);
  const paymentWidth = await page.evaluate('document.documentElement.scrollWidth') as number;
  await Promise.all([page.waitForNavigation(), page.getByRole('button', { name: 'Void…' }).click()]);
  const title = await page.title();
  const confirmWidth = await page.evaluate('document.documentElement.scrollWidth') as number;
  await page.context().close();
  assert.equal(paymentWidth, 320, `the payment page is ${paymentWidth} px wide at a 320 px viewport`);
  assert.match(title, /^Void payment\?/);
  assert.equal(confirmWidth, 320, `the void confirmation is ${confirmWidth} px wide at a 320 px viewport`);
});

test('the overview\'s links say where they go', async () => {
  const page = await signedIn(1280);
  await page.goto(`${gw.url}/dashboard`);
  const cdp = await page.context().newCDPSession(page);
  const tree = await cdp.send('Accessibility.getFullAXTree') as { nodes: { ignored: boolean; role?: { value: string }; name?: { value: string } }[] };
  await page.context().close();
  const inMain = tree.nodes.filter((n) => !n.ignored && n.role?.value === 'link').map((n) => n.name?.value ?? '')
    .filter((name) => !['Skip to content', 'Switchyard', 'Overview', 'Payments', 'Reconciliation', 'Merchants', 'Keys', 'Audit log'].includes(name));
  assert.ok(inMain.length >= 2, `links in the overview: ${JSON.stringify(inMain)}`);
  for (const name of inMain) assert.match(name, /payment|unknown/i, `a link named "${name}" does not say what it opens`);
});

test('stepping through the Status filter with the arrow keys does not leave the page', async () => {
  const page = await signedIn(1280);
  await page.goto(`${gw.url}/dashboard/payments`);
  const listUrl = page.url();
  let navigations = 0;
  page.on('framenavigated', (f) => { if (f === page.mainFrame()) navigations++; });
  await page.focus('#f-status');
  await page.keyboard.press('ArrowDown');
  await page.keyboard.press('ArrowDown');
  await page.waitForTimeout(1000);
  const focused = await page.evaluate('document.activeElement ? document.activeElement.id : ""');
  await page.context().close();
  assert.equal(navigations, 0, 'moving through the options must not submit the search; the Search button applies it');
  assert.equal(page.url(), listUrl);
  assert.equal(focused, 'f-status', 'focus stays on the select the user is operating');
});

interface FieldState { value: string; invalid: string | null; described: string; alert: string }
const fieldState = (page: Page, id: string) => page.evaluate(`(() => {
  const i = document.getElementById(${JSON.stringify(id)});
  const ids = (i.getAttribute('aria-describedby') || '').split(/\\s+/).filter(Boolean);
  return { value: i.value, invalid: i.getAttribute('aria-invalid'),
    described: ids.map((x) => (document.getElementById(x) || {}).textContent || '').join(' ').trim(),
    alert: (document.querySelector('[role=alert]') || {}).textContent || '' };
})()`) as Promise<FieldState>;

test('a refused capture amount is marked on its own box, described by the error, and keeps what was typed', async () => {
  const page = await signedIn(1280);
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
  const page = await signedIn(1280);
  await page.goto(`${gw.url}/dashboard/payments?min=abc`);
  const s = await fieldState(page, 'f-min');
  await page.context().close();
  assert.ok(s.alert.length > 0, 'the search was refused');
  assert.match(s.alert, /Amount from/, `the error names the field as the form labels it, not by its query key: "${s.alert}"`);
  assert.equal(s.invalid, 'true', 'the Amount from box is marked aria-invalid');
  assert.ok(s.described.length > 0, 'the box refers to the error through aria-describedby');
});

const focusedNotice = (page: Page) => page.evaluate(`(() => {
  const a = document.activeElement;
  return a && a.classList.contains('notice') ? a.textContent.trim() : 'focus is on ' + (a ? a.tagName + '#' + a.id : 'nothing');
})()`) as Promise<string>;

test('after an action, focus is on what it did, not at the top of the answering page', async () => {
  const page = await signedIn(1280);
  await page.goto(`${gw.url}/dashboard/payments/${paymentId}`);
  await page.fill('#amount-capture', '10.00');
  await Promise.all([page.waitForNavigation(), page.getByRole('button', { name: 'Capture…' }).click()]);
  await Promise.all([page.waitForNavigation(), page.getByRole('button', { name: /^Yes, capture/ }).click()]);
  const done = await focusedNotice(page);
  await page.fill('#amount-capture', '12,345');
  await Promise.all([page.waitForNavigation(), page.getByRole('button', { name: 'Capture…' }).click()]);
  const refused = await focusedNotice(page);
  await page.context().close();
  assert.match(done, /Capture succeeded \(10\.00/, 'the capture\'s outcome has the focus');
  assert.match(refused, /amount must be/, 'the refusal has the focus');
});
