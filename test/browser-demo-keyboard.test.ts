/**
 * The /demo checkout for a keyboard-only shopper: Enter in a card field places the order (the SDK
 * tells the page with its `submit` event, as the widget honours it), and each field's visible label
 * focuses its field.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Browser } from 'playwright-core';
import { startGateway, type Gateway } from './support/harness.ts';
import { launchChromium, typeCard, withScreenshot } from './support/browser.ts';
import { startDemoStore, type DemoStore } from '../src/hosted/demo.ts';

let gw: Gateway;
let store: DemoStore;
let browser: Browser;
before(async () => {
  gw = await startGateway();
  store = await startDemoStore({
    gatewayUrl: gw.url, clientId: gw.merchant.clientId, apiKey: gw.merchant.apiKey, workspaceId: gw.merchant.workspaceId, host: '127.0.0.1', port: 0,
  });
  await gw.app.merchants.addOrigin(gw.merchant.merchantId, store.origin);
  browser = await launchChromium();
});
after(async () => {
  await browser?.close();
  await store?.close();
  await gw?.close();
});

describe('demo checkout, keyboard only', () => {
  test('Enter in the CVC field places the order (implicit submission), as in the COPYandPAY widget', async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    try {
      await withScreenshot(page, 'demo-enter', async () => {
        await page.goto(store.url);
        await page.frameLocator('#card-number iframe').locator('input').waitFor();
        await typeCard(page, '4111111111111111');
        await page.locator('#place-order:not([disabled])').waitFor();
        await page.frameLocator('#card-cvv iframe').locator('input').press('Enter');
        await page.waitForURL(`${store.origin}/demo/confirmation/**`, { timeout: 5000 });
      });
    } finally {
      await context.close();
    }
  });

  test('the visible "Expiry" label focuses the expiry field', async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    try {
      await page.goto(store.url);
      await page.frameLocator('#card-expiry iframe').locator('input').waitFor();
      await page.locator('label[data-box=card-expiry]').click();
      const active = String(await page.evaluate(`document.activeElement?.title ?? ''`));
      assert.equal(active, 'Expiry date', 'the label\'s click does not focus its field');
    } finally {
      await context.close();
    }
  });
});
