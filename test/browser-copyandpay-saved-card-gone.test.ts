/**
 * The COPYandPAY widget offers the shopper's saved card (a registration the shop names),
 * pre-selected. The card is removed meanwhile (the shop deregistered it: DELETE
 * /v1/registrations/{id}). Paying with it is refused 100.150.202 before any payment is made: the
 * widget told the shopper, in its alert read out by a screen reader, "The payment was declined", and
 * kept offering the card, still selected, so "Pay now" failed the same way again. It says the card
 * can no longer be used, and no longer offers it; when none is left, the focus goes to the form for a
 * new card.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Browser, Page } from 'playwright-core';
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

/** A shop page offering a saved card, pre-selected, which the shop then removes (the widget still offers it). */
async function openedThenRemoved(order: string) {
  const reg = await opp(gw, 'POST', '/v1/registrations', { ...testCard });
  assert.equal(reg.body.result.code, '000.100.110', JSON.stringify(reg.body.result));
  const ctx = await browser.newContext(); const page = await ctx.newPage();
  await page.goto(`${shop.url}/checkout?${new URLSearchParams({ order, registration: reg.body.id })}`);
  await page.locator('body[data-widget="ready"]').waitFor();
  const radio = page.locator(`input[name=registrationId][value="${reg.body.id}"]`);
  assert.equal(await radio.isChecked(), true, 'precondition: the saved card is offered, pre-selected');
  const del = await opp(gw, 'DELETE', `/v1/registrations/${reg.body.id}`);
  assert.match(del.body.result.code, /^000\./, JSON.stringify(del.body.result));
  return { ctx, page, radio };
}

/** The shopper presses Pay with the keyboard, as a screen-reader user would; the widget's alert. */
async function payWithKeyboard(page: Page) {
  await page.locator('.wpwl-container-registration .wpwl-button-pay').focus();
  await page.keyboard.press('Enter');
  const alert = page.locator('.wpwl-message[role=alert]');
  await alert.waitFor({ state: 'visible', timeout: 15_000 });
  return alert;
}

test('COPYandPAY: a saved card removed while the widget offers it is not told to the shopper as a declined payment, and is no longer offered', async () => {
  const { ctx, page, radio } = await openedThenRemoved('o-gone');
  try {
    const alert = await payWithKeyboard(page);
    const said = (await alert.innerText()).trim();
    assert.equal(await gw.app.storage.db.selectFrom('payments').select('id').execute().then((r) => r.length), 0, 'precondition: no payment was made');
    assert.doesNotMatch(said, /declined/i, `no payment was made (the saved card was removed, 100.150.202), yet the shopper is told: "${said}"`);
    const stillOffered = await radio.count() > 0 && await radio.isVisible() && await radio.isChecked();
    assert.equal(stillOffered, false, 'the removed card is still offered, selected: "Pay now" would fail the same way again');
  } finally { await ctx.close(); }
});

// The button the shopper was on is hidden with the list's section: the focus goes into what is
// shown instead, not to the page's body (a keyboard or screen-reader user sent back to the top).
test('COPYandPAY: when the last saved card leaves the list, the keyboard focus is kept in the widget (not dropped to the page body)', async () => {
  const { ctx, page } = await openedThenRemoved('o-focus');
  try {
    await payWithKeyboard(page);
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
