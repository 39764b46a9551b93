/**
 * A secure-field frame the browser loads again mid-entry comes back empty. What the page and the
 * card-number frame had heard from it no longer holds: the form is incomplete again (the shop's Pay
 * button goes back to disabled), and the card is paid with what the frames show now, never with an
 * expiry the shopper can no longer see. A card-number frame loaded again gets the others' values
 * back, so the expiry and code still shown are the ones used.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Page } from 'playwright-core';
import { startDemoShop, typeCard } from './support/browser.ts';

let shop: Awaited<ReturnType<typeof startDemoShop>> | undefined;
before(async () => { shop = await startDemoShop(); });
after(async () => { await shop?.close(); });

async function reload(page: Page, host: string) {
  // Waited for by its navigation: the old document is still there, ready, until the new one
  // commits, and a loaded machine gave the test the old one's value to read.
  const frame = await (await page.locator(`${host} iframe`).elementHandle())!.contentFrame();
  await Promise.all([frame!.waitForNavigation(), page.evaluate(`(() => { const f = document.querySelector('${host} iframe'); f.src = f.src; })()`)]);
  await page.frameLocator(`${host} iframe`).locator('body[data-field="ready"]').waitFor();
}

/** The expiry of the card saved last, as the vault holds it. */
async function lastSavedExpiry(): Promise<string> {
  const row = await shop!.gw.app.storage.db.selectFrom('cards').select(['expiry_month', 'expiry_year']).orderBy('created_at', 'desc').limit(1).executeTakeFirstOrThrow();
  return `${row.expiry_month}/${row.expiry_year.slice(-2)}`;
}

async function payAndWait(page: Page) {
  await page.locator('#place-order:not([disabled])').click();
  await page.waitForURL(/\/confirmation\//);
  assert.match(await page.locator('body').innerText(), /authorized/);
}

test('an expiry frame loaded again empty makes the form incomplete; the card is paid with the expiry typed after it', async () => {
  const context = await shop!.browser.newContext();
  try {
    const page = await context.newPage();
    await page.goto(shop!.store.url);
    await page.frameLocator('#card-number iframe').locator('input').waitFor();
    await typeCard(page, '4200000000000091', '123', '1230');
    await page.locator('#place-order:not([disabled])').waitFor();
    await reload(page, '#card-expiry');
    assert.equal(await page.frameLocator('#card-expiry iframe').locator('input').inputValue(), '');
    await page.locator('#place-order[disabled]').waitFor({ timeout: 5000 }).catch(() => undefined);
    assert.equal(await page.locator('#place-order').isDisabled(), true, 'Pay stayed enabled with the expiry field empty');
    await page.frameLocator('#card-expiry iframe').locator('input').pressSequentially('1131');
    await payAndWait(page);
    assert.equal(await lastSavedExpiry(), '11/31', 'the card was saved with the expiry typed before the frame was loaded again');
  } finally {
    await context.close();
  }
});

test('a card-number frame loaded again: the number is typed again, and the expiry and code still shown are the ones paid with', async () => {
  const context = await shop!.browser.newContext();
  try {
    const page = await context.newPage();
    await page.goto(shop!.store.url);
    await page.frameLocator('#card-number iframe').locator('input').waitFor();
    await typeCard(page, '4200000000000091', '123', '0932');
    await page.locator('#place-order:not([disabled])').waitFor();
    await reload(page, '#card-number');
    await page.locator('#place-order[disabled]').waitFor({ timeout: 5000 }).catch(() => undefined);
    assert.equal(await page.locator('#place-order').isDisabled(), true, 'Pay stayed enabled with the card number field empty');
    await page.frameLocator('#card-number iframe').locator('input').pressSequentially('4200000000000091');
    await payAndWait(page);
    assert.equal(await lastSavedExpiry(), '09/32');
  } finally {
    await context.close();
  }
});
