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

/** Types the challenge test card into the widget and pays: the shopper is at the challenge. */
async function payWithChallengeCard(page: Page): Promise<void> {
  const frame = (field: string) => page.frameLocator(`.wpwl-wrapper-${field} iframe`).locator('input');
  await page.locator('body[data-widget="ready"]').waitFor();
  await frame('cardNumber').pressSequentially('4200000000000042');
  await frame('expiry').pressSequentially('1230');
  await frame('cvv').pressSequentially('123');
  await page.locator('.wpwl-control-cardHolder').fill('Jane Jones');
  await page.locator('.wpwl-button-pay').click();
  await page.waitForURL(/\/hosted\/3ds\//);
}

describe('Back from the shop\'s result page after a POSTed challenge', () => {
  test('/v1 redirect (POST form): Complete, result page, Back: "Already answered" with the way back, not a browser error page', async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    try {
      await withScreenshot(page, 'posted-challenge-v1-back', async () => {
        await page.goto(`${shop.url}/checkout?${new URLSearchParams({ card: '4200000000000042', order: 'back-1' })}`);
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
    try {
      await withScreenshot(page, 'posted-challenge-widget-back', async () => {
        await page.goto(`${cp.url}/checkout?order=back-2`);
        await payWithChallengeCard(page);
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

  test('COPYandPAY widget: Back from the open challenge to the shop\'s checkout offers the way back to it; completing it pays once', async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    try {
      // A shop that keeps its order's checkout (its page shows the same one again).
      const checkout = await opp(gw, 'POST', '/v1/checkouts', { amount: '89.90', currency: 'EUR', paymentType: 'DB', merchantTransactionId: 'back-3' });
      assert.equal(checkout.body.result.code, '000.200.100', JSON.stringify(checkout.body));
      await withScreenshot(page, 'posted-challenge-widget-resume', async () => {
        await page.goto(`${cp.url}/checkout?order=back-3&checkout=${checkout.body.id}`);
        await payWithChallengeCard(page);
        // Back to the shop's checkout page, the challenge left open: the checkout's payment waits for it.
        await page.goBack();
        await page.waitForURL(`${cp.url}/checkout?**`);
        const resume = page.getByRole('button', { name: 'Continue the verification' });
        await resume.waitFor();
        assert.match(await page.getByRole('alert').first().innerText(), /still open/);
        await resume.click();
        await page.waitForURL(/\/hosted\/3ds\//);
        await page.getByRole('button', { name: 'Complete', exact: true }).click();
        await page.waitForURL(`${cp.url}/result?**`);
        assert.equal(await page.locator('#code').innerText(), '000.100.110');
        assert.equal(cp.results.filter((r) => r.body.result.code === '000.100.110').length, 2, 'one more sale, this checkout\'s');
      });
    } finally {
      await context.close();
    }
  });
});
