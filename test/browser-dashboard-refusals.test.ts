/**
 * Refusals an operator meets in the dashboard, where docs/dashboard.md says they are: "A form the
 * dashboard refuses says why at the box at fault as well as at the top of the page: the box is
 * marked invalid and described by the sentence, and the form's boxes keep what was typed", and "the
 * page that answers a form opens with the focus on what the form did (its outcome or its refusal)".
 *  - An action amount above what the payment allows (a capture above the open authorization, here
 *    in a three-decimal currency) went through the confirmation page and was only then refused by
 *    the engine, on a page that had forgotten what was typed. It is refused at its box, naming the most.
 *  - A refused payment search opened with the focus at the top of the page, not on the refusal.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Browser } from 'playwright-core';
import { pay, startGateway, type Gateway } from './support/harness.ts';
import { launchChromium } from './support/browser.ts';

const password = 'a long test password';
let gw: Gateway;
let browser: Browser;
before(async () => {
  gw = await startGateway();
  browser = await launchChromium();
  assert.ok((await gw.app.dashboard.addUser({ email: 'operator@example.com', role: 'operator', merchantId: undefined, password })).ok);
  assert.ok((await gw.app.dashboard.addUser({ email: 'viewer@example.com', role: 'viewer', merchantId: undefined, password })).ok);
});
after(async () => { await browser?.close(); await gw?.close(); });

test('a capture above the open authorization is refused at its box, keeping what was typed, and nothing is captured', async () => {
  const p = await pay(gw, { paymentType: 'PA', currency: 'KWD', amount: '10.500', merchantTransactionId: 'order-kwd-over' });
  assert.equal(p.status, 200, JSON.stringify(p.body));
  const context = await browser.newContext({ viewport: { width: 375, height: 800 } });
  const page = await context.newPage();
  try {
    await page.goto(`${gw.url}/dashboard/sign-in`);
    await page.getByLabel('Email').fill('operator@example.com');
    await page.getByLabel('Password').fill(password);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.waitForURL(`${gw.url}/dashboard`);
    await page.goto(`${gw.url}/dashboard/payments/${p.body.id}`);
    assert.match(await page.getByLabel(/^Capture amount/).evaluate((e) => (e as unknown as { labels: { 0: { textContent: string } } }).labels[0].textContent), /at most 10\.500/);
    await page.getByLabel(/^Capture amount/).fill('20.000');
    await page.getByRole('button', { name: 'Capture…' }).click();
    // If the dashboard asks for confirmation anyway, the operator confirms (as they would).
    const yes = page.getByRole('button', { name: /^Yes, capture/ });
    if (await yes.count() > 0) {
      await yes.click();
      await page.waitForURL(new RegExp(`/dashboard/payments/${p.body.id}`));
    }
    const box = page.locator('#amount-capture');
    const [value, invalid, describedBy] = await box.evaluate((e) => {
      const el = e as unknown as { value: string; getAttribute(n: string): string | null };
      return [el.value, el.getAttribute('aria-invalid'), el.getAttribute('aria-describedby')];
    });
    assert.equal(value, '20.000', 'the box keeps what was typed');
    assert.equal(invalid, 'true', 'the box is marked invalid');
    assert.ok(describedBy, 'the box is described by the reason');
    const why = await page.locator(`[id="${describedBy}"]`).innerText();
    assert.match(why, /10\.500/, `the reason at the box names the most that can be captured: ${why}`);
    const d = (await gw.app.payments.details(p.body.id))!;
    assert.equal(d.operations.filter((o) => o.kind === 'capture').length, 0);
  } finally {
    await context.close();
  }
});

test('a refused payment search opens with the focus on its refusal (keyboard only)', async () => {
  const context = await browser.newContext({ viewport: { width: 375, height: 800 } });
  const page = await context.newPage();
  try {
    await page.goto(`${gw.url}/dashboard/sign-in`);
    await page.keyboard.type('viewer@example.com');
    await page.keyboard.press('Tab');
    await page.keyboard.type(password);
    await page.keyboard.press('Enter');
    await page.waitForURL(`${gw.url}/dashboard`);
    await page.goto(`${gw.url}/dashboard/payments`);
    await page.getByLabel('Amount from').focus();
    await page.keyboard.type('5');
    await page.keyboard.press('Enter');
    await page.waitForURL(/min=5/);
    await page.locator('#filter-error').waitFor();
    const focused = await page.evaluate('(() => { const a = document.activeElement; return a ? (a.id || a.tagName) : ""; })()');
    assert.ok(focused === 'filter-error' || focused === 'f-min', `the focus is on the refusal or its box, not on ${String(focused)}`);
  } finally {
    await context.close();
  }
});
