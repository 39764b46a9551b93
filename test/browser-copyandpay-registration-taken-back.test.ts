/**
 * COPYandPAY, createRegistration=true, with a 3-D Secure challenge card the shopper fails: the gateway
 * takes the registration back, but the shop was told its id and names it at the shopper's next checkout.
 * That checkout was refused outright (100.150.202); it is taken now, and the card is not offered.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Browser, Page } from 'playwright-core';
import { opp, startGateway, type Gateway } from './support/harness.ts';
import { launchChromium } from './support/browser.ts';
import { startCopyAndPayShop, type CopyAndPayShop } from './support/copyandpay-shop.ts';

let gw: Gateway; let shop: CopyAndPayShop; let browser: Browser;
before(async () => {
  gw = await startGateway();
  shop = await startCopyAndPayShop({ gatewayUrl: gw.url, accessToken: gw.merchant.accessToken, entityId: gw.merchant.entityId });
  browser = await launchChromium();
});
after(async () => { await browser?.close(); await shop?.close(); await gw?.close(); });

const frame = (page: Page, field: string) => page.frameLocator(`.wpwl-wrapper-${field} iframe`).locator('input');
async function typeCard(page: Page, pan: string) {
  await frame(page, 'cardNumber').pressSequentially(pan);
  await frame(page, 'expiry').pressSequentially('1230');
  await frame(page, 'cvv').pressSequentially('123');
  await page.locator('.wpwl-control-cardHolder').fill('Jane Jones');
}

test('COPYandPAY: the shop names, at the shopper\'s next checkout, the registration the failed-challenge payment told it; the shopper is not refused the checkout', async () => {
  const ctx = await browser.newContext(); const page = await ctx.newPage();
  try {
    await page.goto(`${shop.url}/checkout?${new URLSearchParams({ order: 'o-fail', createRegistration: 'true', type: 'PA' })}`);
    await page.locator('body[data-widget="ready"]').waitFor();
    const told: string[] = [];
    page.on('response', async (r) => {
      if (r.request().method() === 'POST' && /\/v1\/checkouts\/[^/]+\/payment$/.test(r.url())) told.push((await r.json().catch(() => ({}))).registrationId);
    });
    await typeCard(page, '4200000000000042');
    await page.locator('.wpwl-button-pay').click();
    const fail = page.getByRole('button', { name: 'Fail', exact: true });
    await fail.waitFor({ timeout: 30_000 });
    await fail.click();
    await page.waitForURL(`${shop.url}/result?**`, { timeout: 30_000 });
    await gw.app.payments.idle();
    const body = shop.results.at(-1)!.body;
    assert.equal(body.result.code, '100.380.401', 'precondition: the shopper failed 3-D Secure');
    const reg: string | undefined = body.registrationId ?? told[0];
    assert.ok(reg, 'precondition: the shop was told a registration id (in the pay answer and the final status)');
    // The shop keeps the registration id it was told and offers it at the shopper's next checkout.
    await page.goto(`${shop.url}/checkout?${new URLSearchParams({ order: 'o-next', registration: reg })}`);
    const text = (await page.locator('main').innerText()).slice(0, 400);
    assert.ok(await page.locator('body[data-widget="ready"]').count() === 1 || await page.locator('body[data-widget="ready"]').waitFor({ timeout: 5000 }).then(() => true, () => false),
      `the shop was told registrationId ${reg} (the final status of the failed payment still names it), never deregistered it, and its next checkout for the shopper is refused outright: ${text}`);
    assert.equal(await page.locator('.wpwl-registration').count(), 0, 'the card taken back is not offered');
  } finally { await ctx.close(); }
});
