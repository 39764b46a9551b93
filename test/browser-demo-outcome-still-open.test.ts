/**
 * The /demo storefront, which merchants copy, tells a shopper whose payment is still open (the
 * PSP's answer lost, `unknown` until the reconciler asks the PSP) that it is being confirmed and not
 * to pay again, never that it was not completed: the reconciler may then find it approved, and a
 * shopper told it failed pays again and is charged twice.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Browser } from 'playwright-core';
import { startDemoStore, type DemoStore } from '../src/hosted/demo.ts';
import { startGateway, type Gateway } from './support/harness.ts';
import { launchChromium, typeCard, withScreenshot } from './support/browser.ts';

let gw: Gateway; let store: DemoStore; let browser: Browser;
before(async () => {
  gw = await startGateway({ env: { SWITCHYARD_PSP_TIMEOUT_MS: '300' } });
  store = await startDemoStore({ gatewayUrl: gw.url, clientId: gw.merchant.clientId, apiKey: gw.merchant.apiKey, workspaceId: gw.merchant.workspaceId, host: '127.0.0.1', port: 0 });
  await gw.app.merchants.addOrigin(gw.merchant.merchantId, store.origin);
  browser = await launchChromium();
});
after(async () => { await browser?.close(); await store?.close(); await gw?.close(); });

test('demo: a payment whose PSP answer was lost is not reported to the shopper as "not completed" when it then goes through', async () => {
  const ctx = await browser.newContext({ viewport: { width: 375, height: 667 } });
  const page = await ctx.newPage();
  try {
    await withScreenshot(page, 'demo-unknown', async () => {
      await page.goto(store.url);
      await page.frameLocator('#card-cvv iframe').locator('body[data-field=ready]').waitFor();
      await typeCard(page, '4000000000003006'); // the simulator processes it and its answer never comes back
      await page.locator('#place-order').click();
      await page.waitForURL(/\/demo\/confirmation\//, { timeout: 30_000 });
      const told = (await page.locator('#outcome').innerText()).trim();
      const status = (await page.locator('#status').innerText()).trim();
      // The reconciler settles the lost answer.
      await new Promise((r) => setTimeout(r, 700));
      await gw.app.payments.reconcile();
      await gw.app.payments.idle();
      await page.reload();
      const settled = (await page.locator('#status').innerText()).trim();
      assert.equal(settled, 'authorized', 'precondition: the reconciler settled the payment approved');
      assert.equal(told, 'Your payment is being confirmed',
        `the shopper was told "${told}" while the payment was ${status}; it was then ${settled}: a shopper who believes it and pays again is charged twice`);
      assert.equal(status, 'unknown');
      assert.equal((await page.locator('#outcome').innerText()).trim(), 'Thank you — your order is confirmed');
    });
  } finally {
    await ctx.close();
  }
});
