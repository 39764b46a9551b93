/**
 * What real shoppers do with the COPYandPAY widget, in Chromium: press Enter in a card field; let
 * the checkout expire with the page open; lose the pay answer on a flaky network after the payment
 * went through (they must land on the result page, never read "declined" and pay again elsewhere);
 * type a number of no known brand; paste or autofill an expiry with a four-digit year; double-click
 * Pay; answer the challenge in a second tab, then in the first; use a screen reader; ask for a locale
 * the widget has no texts for. One payment at most per checkout, and a message that says what happened.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { startGateway, type Gateway } from './support/harness.ts';
import { launchChromium, withScreenshot } from './support/browser.ts';
import { startCopyAndPayShop, type CopyAndPayShop } from './support/copyandpay-shop.ts';

const frictionless = '4200000000000091';
const challenge = '4012000000003119';
let offset = 0;
let gw: Gateway;
let shop: CopyAndPayShop;
let browser: Browser;
let context: BrowserContext;

before(async () => {
  gw = await startGateway({ clock: { now: () => Date.now() + offset } });
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
async function typeCard(page: Page, pan: string) {
  await frame(page, 'cardNumber').pressSequentially(pan);
  await frame(page, 'expiry').pressSequentially('1230');
  await frame(page, 'cvv').pressSequentially('123');
  await page.locator('.wpwl-control-cardHolder').fill('Jane Jones');
}

describe('shoppers at the COPYandPAY widget', () => {
  test('a screen reader names every field in the page\'s language: the frames, the inputs inside them, the holder\'s input by its label', async () => {
    const page = await context.newPage();
    await withScreenshot(page, 'shopper-screen-reader', async () => {
      await openCheckout(page, { order: 'order-a11y', locale: 'de' });
      const titles = await page.locator('.wpwl-form-card iframe').evaluateAll((frames) => frames.map((f) => f.getAttribute('title')));
      assert.deepEqual(titles, ['Kartennummer', 'Gültig bis', 'Prüfnummer'], 'a German page\'s frames were announced in English');
      await frame(page, 'cvv').and(page.frameLocator('.wpwl-wrapper-cvv iframe').getByLabel('Prüfnummer')).waitFor();
      await page.getByLabel('Karteninhaber').fill('Jane Jones');
      assert.equal(await page.locator('.wpwl-control-cardHolder').inputValue(), 'Jane Jones', 'the holder\'s label names no input');
    });
    await page.close();
  });

  test('pressing Enter in the CVV field submits the payment form (implicit submission)', async () => {
    const page = await context.newPage();
    await withScreenshot(page, 'shopper-enter', async () => {
      await openCheckout(page, { order: 'order-enter' });
      await page.locator('.wpwl-control-cardHolder').fill('Jane Jones');
      await frame(page, 'cardNumber').pressSequentially(frictionless);
      await frame(page, 'expiry').pressSequentially('1230');
      await frame(page, 'cvv').pressSequentially('123');
      await frame(page, 'cvv').press('Enter');
      await page.waitForURL(`${shop.url}/result?**`, { timeout: 5000 });
    });
    await page.close();
  });

  test('the checkout expires while the page is open: the shopper is told the session expired, not that the payment was declined', async () => {
    const page = await context.newPage();
    await withScreenshot(page, 'shopper-expired', async () => {
      await openCheckout(page, { order: 'order-expired' });
      await typeCard(page, frictionless);
      offset = 31 * 60 * 1000;
      try {
        await page.locator('.wpwl-button-pay').click();
        const message = page.locator('.wpwl-message.wpwl-has-error');
        await message.waitFor();
        const text = await message.innerText();
        assert.doesNotMatch(text, /declined/i, `the widget says: ${text}`);
      } finally { offset = 0; }
    });
    await page.close();
  });

  test('the answer to the pay request is lost on the network (the payment went through): the shopper lands on the result page, never on "declined"', async () => {
    const page = await context.newPage();
    await withScreenshot(page, 'shopper-lost-answer', async () => {
      await openCheckout(page, { order: 'order-lost' });
      await typeCard(page, frictionless);
      let dropped = 0;
      await context.route('**/v1/checkouts/*/payment', async (route) => {
        if (route.request().method() !== 'POST' || dropped > 0) return route.continue();
        dropped++;
        await route.fetch(); // the gateway processes the payment ...
        await route.abort('connectionreset'); // ... but the shopper's mobile network loses the answer
      });
      try {
        await page.locator('.wpwl-button-pay').click();
        // The widget finds the checkout paid (its view refuses a paid one) and takes the shopper to the result.
        await page.waitForURL(`${shop.url}/result?**`, { timeout: 10_000 });
        assert.equal(await page.locator('#code').innerText(), '000.100.110');
        assert.equal(dropped, 1);
      } finally { await context.unroute('**/v1/checkouts/*/payment'); }
    });
    await page.close();
  });

  test('a card number whose brand is unknown gets a clear error, not "declined: may not be empty"', async () => {
    const page = await context.newPage();
    await withScreenshot(page, 'shopper-unknown-brand', async () => {
      await openCheckout(page, { order: 'order-unknown-brand' });
      await typeCard(page, '1234567890123452');
      await page.locator('.wpwl-button-pay').click();
      const message = page.locator('.wpwl-message.wpwl-has-error');
      const hint = page.locator('.wpwl-group-cardNumber.wpwl-has-error');
      await Promise.race([message.waitFor(), hint.waitFor()]);
      const text = (await message.isVisible()) ? await message.innerText() : '';
      assert.doesNotMatch(text, /may not be empty|declined/i, `the widget says: ${text}`);
    });
    await page.close();
  });

  test('double-click on Pay and Enter pressed twice make one payment and land on the result page', async () => {
    const page = await context.newPage();
    const posts: string[] = [];
    page.on('request', (r) => { if (r.method() === 'POST' && /\/v1\/checkouts\/.*\/payment/.test(r.url())) posts.push(r.url()); });
    await withScreenshot(page, 'shopper-dblclick-pay', async () => {
      await openCheckout(page, { order: 'order-dblclick' });
      await typeCard(page, frictionless);
      await page.locator('.wpwl-button-pay').dblclick();
      await page.waitForURL(`${shop.url}/result?**`);
      assert.equal(posts.length, 1, 'one pay request');
      assert.equal(await page.locator('#code').innerText(), '000.100.110');
    });
    await page.close();
  });

  test('autofill / paste: a card number with spaces and an expiry "12/2030" (4-digit year, as password managers fill cc-exp) are taken as typed', async () => {
    const page = await context.newPage();
    await withScreenshot(page, 'shopper-autofill', async () => {
      await openCheckout(page, { order: 'order-autofill' });
      await frame(page, 'cardNumber').fill('4200 0000 0000 0091');
      await frame(page, 'expiry').fill('12/2030');
      await frame(page, 'cvv').fill('123');
      await page.locator('.wpwl-control-cardHolder').fill('Jane Jones');
      const shown = await frame(page, 'expiry').inputValue();
      await page.locator('.wpwl-button-pay').click();
      await page.waitForTimeout(1500);
      const expiryError = await page.locator('.wpwl-group-expiry.wpwl-has-error').count();
      assert.equal(expiryError, 0, `the expiry field now reads "${shown}" and is flagged invalid`);
      await page.waitForURL(`${shop.url}/result?**`);
      const r = shop.results.at(-1)!;
      assert.equal(r.body.card.expiryYear, '2030');
    });
    await page.close();
  });

  test('the challenge answered in a second tab: Complete in the first tab, answered already, takes the shopper back to the shop as well', async () => {
    const page = await context.newPage();
    await withScreenshot(page, 'shopper-challenge-two-tabs', async () => {
      await openCheckout(page, { order: 'order-two-tabs' });
      await typeCard(page, challenge);
      await page.locator('.wpwl-button-pay').click();
      await page.waitForURL(/\/hosted\/3ds\//);
      const tab = await context.newPage();
      await tab.goto(page.url());
      await tab.getByRole('button', { name: 'Complete', exact: true }).click();
      await tab.waitForURL(`${shop.url}/result?**`);
      await tab.close();
      await page.getByRole('button', { name: 'Complete', exact: true }).click();
      await page.waitForURL(`${shop.url}/result?**`);
      assert.equal(await page.locator('#code').innerText(), '000.100.110');
    });
    await page.close();
  });
});

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
