/**
 * Shop pages written to the platform's widget documentation, served as such a shop serves them:
 * the card-holder check shops copy from it (onBeforeSubmitCard marks the holder, puts its hint after
 * it, disables Pay and returns false) shows its hint, and once the shopper corrects the form Pay
 * works again; with `style: 'none'` (no styling from the widget, the shop's own CSS) a form nobody
 * typed into shows no error hints, as on the platform, where a hint exists only while its field is
 * wrong.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Browser, Page } from 'playwright-core';
import { opp, startGateway, type Gateway } from './support/harness.ts';
import { launchChromium } from './support/browser.ts';

let gw: Gateway;
let browser: Browser;
let server: Server;
let base = '';
const pages = new Map<string, string>();
before(async () => {
  gw = await startGateway();
  browser = await launchChromium();
  server = createServer((req, res) => {
    const path = new URL(req.url ?? '/', base).pathname;
    const html = pages.get(path) ?? (path === '/result' ? '<!doctype html><h1 id="result">result</h1>' : undefined);
    res.writeHead(html ? 200 : 404, { 'content-type': 'text/html; charset=utf-8' });
    res.end(html ?? 'not found');
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
after(async () => {
  await browser?.close();
  server?.closeAllConnections();
  await new Promise<void>((r) => (server ? server.close(() => r()) : r()));
  await gw?.close();
});

/** A checkout, and the shop's page for it with the given wpwlOptions script; the page, opened once the widget is ready. */
async function shopPage(options: string): Promise<{ page: Page; checkoutId: string }> {
  const n = pages.size + 1;
  const c = await opp(gw, 'POST', '/v1/checkouts', { amount: '12.50', currency: 'EUR', paymentType: 'DB', merchantTransactionId: `platform-page-${n}` });
  assert.equal(c.body.result.code, '000.200.100', JSON.stringify(c.body));
  pages.set(`/page/${n}`, `<!doctype html><html lang="en"><head><meta charset="utf-8">
<script>var wpwlOptions = Object.assign(${options}, { onReady: function () { document.body.setAttribute('data-widget', 'ready'); } });</script>
<script src="${gw.url}/v1/paymentWidgets.js?checkoutId=${c.body.id}"></script></head><body>
<form action="${base}/result?order=${n}" class="paymentWidgets" data-brands="VISA MASTER AMEX"></form></body></html>`);
  const page = await browser.newPage();
  await page.goto(`${base}/page/${n}`);
  await page.locator('body[data-widget="ready"]').waitFor();
  return { page, checkoutId: c.body.id };
}

const frame = (page: Page, field: string) => page.frameLocator(`.wpwl-wrapper-${field} iframe`).locator('input');
async function typeCard(page: Page, pan: string) {
  await frame(page, 'cardNumber').pressSequentially(pan);
  await frame(page, 'expiry').pressSequentially('1230');
  await frame(page, 'cvv').pressSequentially('123');
}

test('the platform\'s card-holder check: its hint is shown, and once the holder is typed the form is paid (Pay stayed disabled for ever)', async () => {
  const { page, checkoutId } = await shopPage(`{
  onBeforeSubmitCard: function (e) {
    var holder = document.querySelector('.wpwl-control-cardHolder');
    if (holder.value.trim().length < 2) {
      holder.classList.add('wpwl-has-error');
      holder.insertAdjacentHTML('afterend', '<div class="wpwl-hint wpwl-hint-cardHolderError">Invalid card holder</div>');
      var pay = document.querySelector('.wpwl-button-pay');
      pay.classList.add('wpwl-button-error'); pay.setAttribute('disabled', 'disabled');
      return false;
    }
    return true;
  }
}`);
  try {
    await typeCard(page, '4200000000000091');
    await page.locator('.wpwl-button-pay').click();
    const hint = page.locator('.wpwl-hint-cardHolderError');
    await hint.waitFor({ state: 'attached' });
    assert.equal(await hint.isVisible(), true, `the shop's hint is hidden (display: ${await hint.evaluate((e) => (globalThis as unknown as { getComputedStyle(x: unknown): { display: string } }).getComputedStyle(e).display)})`);
    assert.equal(await page.locator('.wpwl-button-pay').isDisabled(), true, 'the shop disabled Pay');
    await page.locator('.wpwl-control-cardHolder').fill('Jane Jones');
    assert.equal(await page.locator('.wpwl-button-pay').isDisabled(), false, 'Pay stays disabled after the holder was corrected: the checkout cannot be paid');
    assert.equal(await hint.isVisible(), false, 'the corrected holder still shows its hint');
    await page.locator('.wpwl-button-pay').click();
    await page.waitForURL(`${base}/result?**`);
    assert.equal(new URL(page.url()).searchParams.get('id'), checkoutId);
  } finally {
    await page.close();
  }
});

test('style \'none\': a form nobody typed into shows no error hint; a field sent wrong shows its own, gone once corrected', async () => {
  const { page } = await shopPage(`{ style: 'none' }`);
  try {
    assert.deepEqual(await page.locator('.wpwl-hint:visible').allInnerTexts(), [], 'error hints shown on a form nobody typed into');
    await frame(page, 'expiry').pressSequentially('1230');
    await frame(page, 'cvv').pressSequentially('123');
    await page.locator('.wpwl-button-pay').click();
    await page.locator('.wpwl-hint-cardNumberError').waitFor();
    assert.deepEqual(await page.locator('.wpwl-hint').allInnerTexts(), ['Invalid card number or brand']);
    await frame(page, 'cardNumber').pressSequentially('4200000000000091');
    await page.locator('.wpwl-hint').waitFor({ state: 'detached' });
  } finally {
    await page.close();
  }
});
