/**
 * The secure fields check what the gateway will check before they say complete: the security
 * code's length by the card's brand (American Express prints four digits, the others three), the
 * expiry as a shopper types it (1/30 is January 2030); and a field left wrong says so to assistive
 * technology inside its frame (aria-invalid).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import type { DemoStore } from '../src/hosted/demo.ts';
import { startDemoShop } from './support/browser.ts';

let store: DemoStore;
let browser: Browser;
let context: BrowserContext;
let shop: Awaited<ReturnType<typeof startDemoShop>> | undefined;
before(async () => {
  shop = await startDemoShop();
  ({ store, browser } = shop);
  context = await browser.newContext();
});
after(async () => {
  await context?.close();
  await shop?.close();
});

async function open(): Promise<Page> {
  const page = await context.newPage();
  await page.goto(store.url);
  await page.frameLocator('#card-number iframe').locator('input').waitFor();
  return page;
}
const field = (page: Page, id: string) => page.frameLocator(`#${id} iframe`).locator('input');

describe('secure fields: input checks in the frames', () => {
  test('an Amex card with a 3-digit security code is not reported complete (Amex prints 4 digits; the vault refuses it)', async () => {
    const page = await open();
    try {
      await field(page, 'card-number').pressSequentially('378282246310005');
      await field(page, 'card-expiry').pressSequentially('1230');
      await field(page, 'card-cvv').pressSequentially('123');
      await page.waitForTimeout(800);
      assert.equal(await page.locator('#brand').innerText(), 'amex');
      assert.equal(await page.locator('#place-order').isDisabled(), true,
        'the fields said complete: the SDK lets the shopper submit a CVV the gateway refuses (cvv_brand_mismatch)');
    } finally { await page.close(); }
  });

  test('a Visa card with a 4-digit security code is not reported complete', async () => {
    const page = await open();
    try {
      await field(page, 'card-number').pressSequentially('4111111111111111');
      await field(page, 'card-expiry').pressSequentially('1230');
      await field(page, 'card-cvv').pressSequentially('1234');
      await page.waitForTimeout(800);
      assert.equal(await page.locator('#place-order').isDisabled(), true);
    } finally { await page.close(); }
  });

  test('a CVV typed before the card number is judged again once the brand is known', async () => {
    const page = await open();
    try {
      await field(page, 'card-expiry').pressSequentially('1230');
      await field(page, 'card-cvv').pressSequentially('1234');
      await field(page, 'card-number').pressSequentially('378282246310005');
      await page.locator('#place-order:not([disabled])').waitFor({ timeout: 5000 });
      // Another brand: four digits no longer fit.
      await field(page, 'card-number').fill('');
      await field(page, 'card-number').pressSequentially('4111111111111111');
      await page.waitForTimeout(800);
      assert.equal(await page.locator('#place-order').isDisabled(), true);
    } finally { await page.close(); }
  });

  test('an expiry typed with a one-digit month, 1/30, is read as January 2030 (not "13 / 0")', async () => {
    const page = await open();
    try {
      await field(page, 'card-expiry').pressSequentially('1/30');
      assert.equal(await field(page, 'card-expiry').inputValue(), '01 / 30');
    } finally { await page.close(); }
  });

  test('an expiry typed key by key with its year in full, 12/2030, is December 2030 (it was cut to "12 / 20", a month long past)', async () => {
    const page = await open();
    try {
      await field(page, 'card-expiry').pressSequentially('12/2030');
      assert.equal(await field(page, 'card-expiry').inputValue(), '12 / 30', 'read as the two-digit year, as a pasted 12/2030 is');
      await field(page, 'card-number').pressSequentially('4200000000000091');
      await field(page, 'card-cvv').pressSequentially('123');
      await page.locator('#place-order:not([disabled])').waitFor({ timeout: 5000 });
    } finally { await page.close(); }
  });

  test('an invalid card number is exposed to assistive technology inside the frame (aria-invalid)', async () => {
    const page = await open();
    try {
      await field(page, 'card-number').pressSequentially('4111111111111112');
      await field(page, 'card-number').blur();
      await page.waitForTimeout(300);
      assert.equal(await field(page, 'card-number').getAttribute('aria-invalid'), 'true');
    } finally { await page.close(); }
  });
});
