/**
 * A shopper answers the 3-D Secure challenge, lands on the shop's result page and presses Back.
 *
 * The /v1 redirect (and the COPYandPAY widget, which follows it) reaches the hosted challenge page
 * with a POST form. The gateway answered that POST with the page itself, so the browser's history
 * entry was a POST whose answer it may not keep: Back from the shop showed Chromium's own "Confirm
 * Form Resubmission" error page (net::ERR_CACHE_MISS). The POST is now sent on to the same page by
 * GET (post/redirect/get), and Back shows "Already answered" with the way back to the merchant, as
 * the executions dialect's GET challenge does.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Browser, Page } from 'playwright-core';
import { opp, startGateway, type Gateway } from './support/harness.ts';
import { startMerchantSite, type MerchantSite } from './support/merchant-site.ts';
import { startCopyAndPayShop, type CopyAndPayShop } from './support/copyandpay-shop.ts';
import { launchChromium, withScreenshot } from './support/browser.ts';

let gw: Gateway;
let shop: MerchantSite;
let cp: CopyAndPayShop;
let browser: Browser;
before(async () => {
  gw = await startGateway();
  shop = await startMerchantSite(gw);
  cp = await startCopyAndPayShop({ gatewayUrl: gw.url, accessToken: gw.merchant.accessToken, entityId: gw.merchant.entityId });
  browser = await launchChromium();
});
after(async () => {
  await browser?.close();
  await cp?.close();
  await shop?.close();
  await gw?.close();
});

/** Back from the shop's result page: where the shopper is, and what they read. */
async function pressBack(page: Page): Promise<{ error?: string; heading: string; links: string[] }> {
  try {
    await page.goBack();
  } catch (err) {
    return { error: String((err as Error).message).split('\n')[0], heading: '', links: [] };
  }
  await page.waitForLoadState();
  const heading = await page.locator('h1').first().innerText().catch(() => '');
  const links = await page.getByRole('link').allInnerTexts();
  return { heading, links };
}

describe('Back from the shop\'s result page after a POSTed challenge', () => {
  test('/v1 redirect (POST form): Complete, result page, Back: "Already answered" with the way back, not a browser error page', async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    try {
      await withScreenshot(page, 'review-threeds-v1-back', async () => {
        await page.goto(`${shop.url}/checkout?${new URLSearchParams({ card: '4200000000000042', order: 'rev-back-1' })}`);
        await page.getByRole('button', { name: 'Continue to your bank' }).click();
        await page.waitForURL(/\/hosted\/3ds\//);
        await page.getByRole('button', { name: 'Complete', exact: true }).click();
        await page.waitForURL(`${shop.url}/result?**`);
        const id = await page.locator('#payment-id').innerText();
        assert.equal(await page.locator('#code').innerText(), '000.100.110');
        const back = await pressBack(page);
        assert.equal(back.error, undefined, `Back from the shop's result page shows the browser's own error page: ${back.error}`);
        assert.equal(back.heading, 'Already answered');
        assert.ok(back.links.includes('Return to the merchant'), `no way back to the merchant: ${JSON.stringify(back)}`);
        // Nothing was answered again.
        const status = await opp(gw, 'GET', `/v1/payments/${id}`);
        assert.equal(status.body.result.code, '000.100.110');
      });
    } finally {
      await context.close();
    }
  });

  test('COPYandPAY widget: challenge card, Complete, result page, Back: "Already answered" with the way back, not a browser error page', async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    const frame = (field: string) => page.frameLocator(`.wpwl-wrapper-${field} iframe`).locator('input');
    try {
      await withScreenshot(page, 'review-threeds-widget-back', async () => {
        await page.goto(`${cp.url}/checkout?order=rev-back-2`);
        await page.locator('body[data-widget="ready"]').waitFor();
        await frame('cardNumber').pressSequentially('4200000000000042');
        await frame('expiry').pressSequentially('1230');
        await frame('cvv').pressSequentially('123');
        await page.locator('.wpwl-control-cardHolder').fill('Jane Jones');
        await page.locator('.wpwl-button-pay').click();
        await page.waitForURL(/\/hosted\/3ds\//);
        await page.getByRole('button', { name: 'Complete', exact: true }).click();
        await page.waitForURL(`${cp.url}/result?**`);
        assert.equal(await page.locator('#code').innerText(), '000.100.110');
        const back = await pressBack(page);
        assert.equal(back.error, undefined, `Back from the shop's result page shows the browser's own error page: ${back.error}`);
        assert.equal(back.heading, 'Already answered');
        assert.ok(back.links.includes('Return to the merchant'), `no way back to the merchant: ${JSON.stringify(back)}`);
        assert.equal(cp.results.filter((r) => r.body.result.code === '000.100.110').length, 1);
      });
    } finally {
      await context.close();
    }
  });
});
