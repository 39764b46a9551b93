/**
 * The /demo storefront saves a card through the secure fields (tokenize({storeInstrument: true}))
 * and authorizes with that instrument's id. A shopper who ticks "save card" and then fails or
 * cancels the 3-D Secure challenge never paid with the card: it must not be offered as saved at
 * their next checkout, and a card paid with twice so is offered once.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Browser, Page } from 'playwright-core';
import { startDemoStore, type DemoStore } from '../src/hosted/demo.ts';
import { startGateway, type Gateway } from './support/harness.ts';
import { launchChromium, typeCard } from './support/browser.ts';

let gw: Gateway; let store: DemoStore; let browser: Browser;
before(async () => {
  gw = await startGateway();
  store = await startDemoStore({ gatewayUrl: gw.url, clientId: gw.merchant.clientId, apiKey: gw.merchant.apiKey, workspaceId: gw.merchant.workspaceId, host: '127.0.0.1', port: 0 });
  await gw.app.merchants.addOrigin(gw.merchant.merchantId, store.origin);
  browser = await launchChromium();
});
after(async () => { await browser?.close(); await store?.close(); await gw?.close(); });

async function payWithSave(page: Page, card: string, button?: 'Complete' | 'Fail' | 'Cancel and return to the merchant'): Promise<string> {
  await page.goto(store.url, { waitUntil: 'networkidle' });
  await page.frameLocator('#card-cvv iframe').locator('body[data-field=ready]').waitFor({ state: 'attached' });
  if (await page.locator('#saved').isVisible()) await page.locator('input[name=card][value=new]').check();
  await page.frameLocator('#card-cvv iframe').locator('body[data-field=ready]').waitFor();
  await typeCard(page, card);
  await page.locator('#save-card').check();
  await page.locator('#place-order').click();
  if (button) {
    const b = page.getByRole('button', { name: button, exact: true });
    await b.waitFor({ timeout: 30_000 });
    await b.click();
  }
  await page.waitForURL(/\/demo\/confirmation\//, { timeout: 30_000 });
  await gw.app.payments.idle();
  return (await page.locator('#status').innerText()).trim();
}

async function offered(page: Page): Promise<string[]> {
  await page.goto(store.url, { waitUntil: 'networkidle' });
  await page.frameLocator('#card-cvv iframe').locator('body[data-field=ready]').waitFor({ state: 'attached' });
  if (!await page.locator('#saved').isVisible()) return [];
  return (await page.locator('#saved-list label').allInnerTexts()).map((s) => s.replace(/\s+/g, ' ').trim());
}

for (const button of ['Fail', 'Cancel and return to the merchant'] as const) {
  test(`demo: a card saved by a payment whose challenge the shopper pressed "${button}" on is not offered at the next checkout`, async () => {
    const ctx = await browser.newContext();
    const page = await ctx.newPage();
    try {
      const status = await payWithSave(page, '4200000000000042', button);
      assert.equal(status, 'authorizeFailed', 'precondition: the payment ended at 3-D Secure');
      const cards = await offered(page);
      assert.deepEqual(cards, [], `the shopper never paid with the card (3-D Secure ${button}), yet the next checkout offers it as saved: ${JSON.stringify(cards)}`);
    } finally { await ctx.close(); }
  });
}

test('demo: a card whose challenge the shopper completed is offered at the next checkout', async () => {
  const ctx = await browser.newContext();
  const page = await ctx.newPage();
  try {
    assert.equal(await payWithSave(page, '4200000000000042', 'Complete'), 'authorized');
    const cards = await offered(page);
    assert.equal(cards.length, 1, JSON.stringify(cards));
    assert.match(cards[0]!, /0042/);
  } finally { await ctx.close(); }
});

test('demo: the shopper cancels the challenge, then pays with the same card (save ticked) and completes it: the card is offered once', async () => {
  const ctx = await browser.newContext();
  const page = await ctx.newPage();
  try {
    assert.equal(await payWithSave(page, '4200000000000042', 'Cancel and return to the merchant'), 'authorizeFailed');
    assert.equal(await payWithSave(page, '4200000000000042', 'Complete'), 'authorized');
    const cards = await offered(page);
    assert.deepEqual(cards.length, 1, `the one card the shopper saved is offered ${cards.length} times: ${JSON.stringify(cards)}`);
  } finally { await ctx.close(); }
});
