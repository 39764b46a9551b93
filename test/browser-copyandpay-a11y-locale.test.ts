/**
 * The COPYandPAY widget for a shopper on a keyboard and screen reader, and in a locale the widget
 * has no texts for.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { startGateway, type Gateway } from './support/harness.ts';
import { launchChromium, withScreenshot } from './support/browser.ts';
import { startCopyAndPayShop, type CopyAndPayShop } from './support/copyandpay-shop.ts';

let gw: Gateway;
let shop: CopyAndPayShop;
let browser: Browser;
let context: BrowserContext;
before(async () => {
  gw = await startGateway();
  shop = await startCopyAndPayShop({ gatewayUrl: gw.url, accessToken: gw.merchant.accessToken, entityId: gw.merchant.entityId });
  browser = await launchChromium();
  context = await browser.newContext();
});
after(async () => {
  await context?.close();
  await browser?.close();
  await shop?.close();
  await gw?.close();
});

const frame = (page: Page, field: string) => page.frameLocator(`.wpwl-wrapper-${field} iframe`).locator('input');
async function openCheckout(page: Page, query: Record<string, string>) {
  await page.goto(`${shop.url}/checkout?${new URLSearchParams(query)}`);
  await page.locator('body[data-widget="ready"]').waitFor();
}

describe('COPYandPAY widget: screen reader and locale', () => {
  test('a locale without texts (pt, ar): the widget\'s English texts are not marked up as Portuguese/Arabic', async () => {
    for (const locale of ['pt', 'ar']) {
      const page = await context.newPage();
      await withScreenshot(page, `widget-lang-${locale}`, async () => {
        await openCheckout(page, { order: `order-lang-${locale}`, locale });
        const shown = await page.locator('.wpwl-button-pay').innerText();
        const lang = await page.locator('.wpwl-container').getAttribute('lang');
        // "Pay now" is English: a screen reader told lang="pt" reads it with a Portuguese voice.
        assert.ok(!(shown === 'Pay now' && lang === locale), `the container says lang="${lang}" around English texts ("${shown}")`);
      });
      await page.close();
    }
  });

  test('Pay pressed with an incomplete card: the error is announced (role=alert) or focus moves to the first invalid field', async () => {
    const page = await context.newPage();
    await withScreenshot(page, 'widget-a11y-invalid-submit', async () => {
      await openCheckout(page, { order: 'order-a11y-invalid' });
      await frame(page, 'cardNumber').pressSequentially('4200 0000');
      await page.locator('.wpwl-control-cardHolder').fill('Jane Jones');
      // Keyboard only: the shopper tabs to Pay and presses Enter.
      await page.locator('.wpwl-form-card .wpwl-button-pay').focus();
      await page.keyboard.press('Enter');
      await page.locator('.wpwl-group-cardNumber.wpwl-has-error').waitFor();
      const alerts = await page.locator('[role=alert]:visible, [aria-live]:visible').allInnerTexts();
      const focused = String(await page.evaluate(`document.activeElement?.getAttribute('title') ?? document.activeElement?.className ?? ''`));
      const invalidInFrame = await frame(page, 'cardNumber').getAttribute('aria-invalid');
      assert.ok(alerts.some((t) => t.trim() !== '') || focused === 'Card Number' || invalidInFrame === 'true',
        `nothing tells a screen-reader user the card number is invalid (alerts ${JSON.stringify(alerts)}, focus on "${focused}", aria-invalid ${invalidInFrame})`);
    });
    await page.close();
  });
});
