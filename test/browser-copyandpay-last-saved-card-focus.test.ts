/**
 * The COPYandPAY widget's saved-card-gone handling. The shopper, on the keyboard,
 * presses "Pay now" on their only saved card, which the shop removed meanwhile (100.150.202). The
 * card leaves the list and the list's section is hidden, the form for a new card shown; but the
 * button the shopper was on is hidden with it and the keyboard focus falls to the page's body: a
 * keyboard or screen-reader user is sent back to the top of the shop's page to find the new form.
 * (When another card is left, the widget moves focus to it; when none is, it should move it into
 * what is shown instead.)
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Browser } from 'playwright-core';
import { opp, startGateway, testCard, type Gateway } from './support/harness.ts';
import { launchChromium } from './support/browser.ts';
import { startCopyAndPayShop, type CopyAndPayShop } from './support/copyandpay-shop.ts';

let gw: Gateway; let shop: CopyAndPayShop; let browser: Browser;
before(async () => {
  gw = await startGateway();
  shop = await startCopyAndPayShop({ gatewayUrl: gw.url, accessToken: gw.merchant.accessToken, entityId: gw.merchant.entityId });
  browser = await launchChromium();
});
after(async () => { await browser?.close(); await shop?.close(); await gw?.close(); });

test('COPYandPAY: when the last saved card leaves the list, the keyboard focus is kept in the widget (not dropped to the page body)', async () => {
  const reg = await opp(gw, 'POST', '/v1/registrations', { ...testCard });
  assert.equal(reg.body.result.code, '000.100.110', JSON.stringify(reg.body.result));
  const ctx = await browser.newContext(); const page = await ctx.newPage();
  try {
    await page.goto(`${shop.url}/checkout?${new URLSearchParams({ order: 'o-focus', registration: reg.body.id })}`);
    await page.locator('body[data-widget="ready"]').waitFor();
    const del = await opp(gw, 'DELETE', `/v1/registrations/${reg.body.id}`);
    assert.match(del.body.result.code, /^000\./, JSON.stringify(del.body.result));
    await page.locator('.wpwl-container-registration .wpwl-button-pay').focus();
    await page.keyboard.press('Enter');
    await page.locator('.wpwl-message[role=alert]').waitFor({ state: 'visible', timeout: 15_000 });
    assert.equal(await page.locator('.wpwl-form-card').isVisible(), true, 'precondition: the new-card form shows');
    // A string, run in the page (the tests are type-checked without the DOM's types).
    const focus = await page.evaluate(`(() => {
      const a = document.activeElement;
      const inWidget = !!a && !!document.querySelector('.wpwl-container')?.contains(a);
      const visible = !!a && a.offsetParent !== null;
      return { tag: a?.tagName ?? 'none', inWidget, visible };
    })()`) as { tag: string; inWidget: boolean; visible: boolean };
    assert.ok(focus.inWidget && focus.visible,
      `after the last saved card left the list the keyboard focus is on <${focus.tag}> (in the widget: ${focus.inWidget}, visible: ${focus.visible}): it fell off the hidden "Pay now" button`);
  } finally { await ctx.close(); }
});
