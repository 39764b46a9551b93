/**
 * A shopper who left the 3-D Secure page open past the payment's timeout: the timeout job closed
 * the payment (and its challenge). What the page then tells them, and where its buttons lead.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Browser } from 'playwright-core';
import { startGateway, type Gateway } from './support/harness.ts';
import { startMerchantSite, type MerchantSite } from './support/merchant-site.ts';
import { launchChromium, withScreenshot } from './support/browser.ts';

let offset = 0;
let gw: Gateway;
let shop: MerchantSite;
let browser: Browser;
before(async () => {
  gw = await startGateway({ clock: { now: () => Date.now() + offset }, env: { SWITCHYARD_ASYNC_TIMEOUT_MS: '60000' } });
  shop = await startMerchantSite(gw);
  browser = await launchChromium();
});
after(async () => {
  await browser?.close();
  await shop?.close();
  await gw?.close();
});

describe('3-D Secure challenge page after the payment timed out', () => {
  test('pressing Complete on a page the timeout closed sends the shopper back to the merchant, and the page says it expired, never "already been used"', async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    try {
      await withScreenshot(page, '3ds-timeout', async () => {
        await page.goto(`${shop.url}/checkout?${new URLSearchParams({ card: '4200000000000042', order: 'timeout-1' })}`);
        await page.getByRole('button', { name: 'Continue to your bank' }).click();
        await page.waitForURL(/\/hosted\/3ds\//);
        const challengeUrl = page.url();
        // The shopper goes for a coffee; the payment's timeout passes and the job closes it.
        offset += 5 * 60_000;
        assert.ok(await gw.app.payments.expireAwaiting() >= 1, 'the timeout job expired the payment');
        // The shopper comes back and presses Complete on the page still open.
        await page.getByRole('button', { name: 'Complete', exact: true }).click();
        await page.waitForLoadState();
        const text = await page.locator('body').innerText();
        assert.doesNotMatch(text, /already been used/, `a page the shopper never answered says it was used: ${page.url()}`);
        assert.ok(page.url().startsWith(shop.url), `the shopper is back at the merchant's result page, not at ${page.url()}`);
        // Reloading the challenge page says the same.
        const again = await page.goto(challengeUrl);
        assert.equal(again?.status(), 410);
        assert.doesNotMatch(await page.locator('body').innerText(), /already been used/, 'a timed-out challenge is shown as used, not expired');
      });
    } finally {
      await context.close();
    }
  });
});
