/**
 * The /demo checkout saves a card with the secure fields' "Save this card for next time"
 * (tokenize({storeInstrument: true})) before it authorizes with it. A shopper who ticked it and was
 * declined for good by the issuer (lost, stolen, suspected fraud, a wrong security code) came back
 * for a second order and was offered that card, pre-selected, only to be declined again. A soft
 * decline (funds) keeps the card.
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

async function payWithSave(page: Page, card: string): Promise<string> {
  await page.goto(store.url, { waitUntil: 'networkidle' });
  await page.frameLocator('#card-cvv iframe').locator('body[data-field=ready]').waitFor({ state: 'attached' });
  if (await page.locator('#saved').isVisible()) await page.locator('input[name=card][value=new]').check();
  await page.frameLocator('#card-cvv iframe').locator('body[data-field=ready]').waitFor();
  await typeCard(page, card);
  await page.locator('#save-card').check();
  await page.locator('#place-order').click();
  await page.waitForURL(/\/demo\/confirmation\//, { timeout: 30_000 });
  await gw.app.payments.idle();
  return (await page.locator('#status').innerText()).trim();
}

async function offered(page: Page): Promise<{ cards: string[]; checked: string | null }> {
  await page.goto(store.url, { waitUntil: 'networkidle' });
  await page.frameLocator('#card-cvv iframe').locator('body[data-field=ready]').waitFor({ state: 'attached' });
  if (!await page.locator('#saved').isVisible()) return { cards: [], checked: null };
  const cards = (await page.locator('#saved-list label').allInnerTexts()).map((s) => s.replace(/\s+/g, ' ').trim());
  const checked = await page.locator('#saved-list input:checked').count() ? (await page.locator('#saved-list label:has(input:checked)').innerText()).trim() : null;
  return { cards, checked };
}

for (const [card, what] of [['4000000000009987', 'lost'], ['4000000000009979', 'stolen'], ['4100000000000019', 'suspected fraud'], ['4000000000000127', 'wrong CVV']] as const) {
  test(`demo: "Save this card" ticked, the issuer refuses the card for good (${what}): the next checkout does not offer it`, async () => {
    const ctx = await browser.newContext();
    const page = await ctx.newPage();
    try {
      assert.equal(await payWithSave(page, card), 'authorizeFailed', `precondition: the ${what} card is declined`);
      const { cards, checked } = await offered(page);
      assert.deepEqual(cards, [], `the issuer refused the card for good (${what}), yet the shopper's next checkout offers it as saved (pre-selected: ${checked}): ${JSON.stringify(cards)}`);
    } finally { await ctx.close(); }
  });
}

test('demo: "Save this card" ticked, a soft decline (insufficient funds): the card stays offered', async () => {
  const ctx = await browser.newContext();
  const page = await ctx.newPage();
  try {
    assert.equal(await payWithSave(page, '4000000000009995'), 'authorizeFailed');
    const { cards } = await offered(page);
    assert.equal(cards.length, 1, JSON.stringify(cards));
  } finally { await ctx.close(); }
});
