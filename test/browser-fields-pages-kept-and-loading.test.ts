/**
 * Secure-field frames as browsers really keep and load them. A checkout page restored from the
 * back/forward cache (the shopper followed a link and came Back) still pays: the frames' pages were
 * kept, not unloaded, and they answer again (a frame that told its page it was gone on every
 * pagehide left every later ask queued for a `ready` that never comes). And a box the widget shows
 * wrong before its frame has loaded is marked wrong inside the frame once it has.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { chromium, type Browser } from 'playwright-core';
import { chromiumPath, startDemoShop, typeCard } from './support/browser.ts';
import { startGateway, type Gateway } from './support/harness.ts';
import { startCopyAndPayShop, type CopyAndPayShop } from './support/copyandpay-shop.ts';

// Chromium as shoppers run it: with its back/forward cache (Playwright turns it off by default).
let browser: Browser;
before(async () => {
  browser = await chromium.launch({ executablePath: chromiumPath, headless: true, args: ['--no-sandbox', '--disable-dev-shm-usage'], ignoreDefaultArgs: ['--disable-back-forward-cache'] });
});
after(async () => { await browser?.close(); });

describe('a checkout page restored from the back/forward cache', () => {
  let shop: Awaited<ReturnType<typeof startDemoShop>> | undefined;
  before(async () => { shop = await startDemoShop(); });
  after(async () => { await shop?.close(); });

  test('still pays with the card its frames hold', async () => {
    const context = await browser.newContext();
    try {
      const page = await context.newPage();
      await page.goto(shop!.store.url);
      await page.frameLocator('#card-number iframe').locator('body[data-field="ready"]').waitFor();
      await typeCard(page, '4200000000000091', '123', '1230');
      await page.locator('#place-order:not([disabled])').waitFor();
      await page.evaluate('window.marker = "still-here"');
      await page.goto(`${shop!.store.origin}/terms`);
      await page.goBack({ waitUntil: 'commit' });
      await page.waitForFunction('window.marker === "still-here" || document.readyState === "complete"');
      assert.equal(await page.evaluate('window.marker'), 'still-here', 'the page was not restored from the back/forward cache (the test\'s premise)');
      await page.locator('#place-order:not([disabled])').click();
      await page.waitForURL(/\/confirmation\//, { timeout: 15_000 });
      assert.match(await page.locator('body').innerText(), /authorized/);
    } finally {
      await context.close();
    }
  });
});

describe('COPYandPAY: Pay pressed before the card frames have loaded', () => {
  let gw: Gateway;
  let shop: CopyAndPayShop;
  before(async () => {
    gw = await startGateway();
    shop = await startCopyAndPayShop({ gatewayUrl: gw.url, accessToken: gw.merchant.accessToken, entityId: gw.merchant.entityId });
  });
  after(async () => { await shop?.close(); await gw?.close(); });

  test('each box the widget shows wrong is marked wrong inside its frame once the frame has loaded', async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    // The field frames' page arrives slowly.
    await page.route(/\/sdk\/v1\/field\?/, async (route) => { await new Promise((r) => setTimeout(r, 1500)); await route.continue(); });
    try {
      await page.goto(`${shop.url}/checkout?order=unready-1`);
      await page.locator('.wpwl-button-pay').click();
      await page.locator('.wpwl-group-cardNumber.wpwl-has-error').waitFor();
      await page.locator('body[data-widget="ready"]').waitFor({ timeout: 15_000 });
      await page.frameLocator('.wpwl-wrapper-cardNumber iframe').locator('input[aria-invalid="true"]').waitFor({ timeout: 5000 });
    } finally {
      await context.close();
    }
  });
});
