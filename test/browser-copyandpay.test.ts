/**
 * COPYandPAY in Chromium: a shop page on another origin (localhost vs the gateway's 127.0.0.1)
 * loads /v1/paymentWidgets.js with its checkout id and a `paymentWidgets` form. The shopper types
 * into the gateway's frames and pays frictionless, through a 3-D Secure challenge and with a saved
 * registration; a declined card is shown by the widget; the shop's backend reads the result through
 * resourcePath and its webhook listener gets the payments; the shop page never sees the PAN.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { opp, startGateway, testCard, type Gateway } from './support/harness.ts';
import { launchChromium, watchParent, withScreenshot } from './support/browser.ts';
import { startCopyAndPayShop, type CopyAndPayShop } from './support/copyandpay-shop.ts';
import { admin, freePort, listen, closeServer, loopbackAllow } from './support/webhooks.ts';
import { createReceiver, type Notification } from '../examples/webhooks/opp-receiver.ts';
import type { Server } from 'node:http';

const success = '000.100.110';
const frictionless = '4200000000000091';
const challenge = '4012000000003119';
const declining = '4000000000000002';
let gw: Gateway;
let shop: CopyAndPayShop;
let browser: Browser;
let receiver: Server;
const notifications: Notification[] = [];

before(async () => {
  gw = await startGateway({ env: { SWITCHYARD_WEBHOOK_ALLOW: loopbackAllow } });
  shop = await startCopyAndPayShop({ gatewayUrl: gw.url, accessToken: gw.merchant.accessToken, entityId: gw.merchant.entityId });
  const port = await freePort();
  const r = await admin(gw, 'POST', '/webhooks/endpoints', { merchantId: gw.merchant.merchantId, dialect: 'opp', url: `http://127.0.0.1:${port}/notify` });
  assert.equal(r.status, 201);
  receiver = createReceiver(r.body.secret, (n) => { notifications.push(n); });
  await listen(receiver, port);
  browser = await launchChromium();
});
after(async () => {
  await browser?.close();
  await shop?.close();
  if (receiver) await closeServer(receiver);
  await gw?.close();
});

const frame = (page: Page, field: string) => page.frameLocator(`.wpwl-wrapper-${field} iframe`).locator('input');

async function openCheckout(page: Page, query: Record<string, string>) {
  await page.goto(`${shop.url}/checkout?${new URLSearchParams(query)}`);
  await page.locator('body[data-widget="ready"]').waitFor();
}

async function typeCard(page: Page, pan: string, holder = 'Jane Jones') {
  await frame(page, 'cardNumber').pressSequentially(pan);
  await frame(page, 'expiry').pressSequentially('1230');
  await frame(page, 'cvv').pressSequentially('123');
  await page.locator('.wpwl-control-cardHolder').fill(holder);
}

/** The shop's result page after the widget sent the shopper back; what its backend read through resourcePath. */
async function landed(page: Page, order: string) {
  await page.waitForURL(`${shop.url}/result?**`);
  const url = new URL(page.url());
  assert.equal(url.searchParams.get('order'), order, "the form action's own parameters are kept");
  const id = url.searchParams.get('id')!;
  assert.equal(url.searchParams.get('resourcePath'), `/v1/checkouts/${id}/payment`);
  const read = shop.results.findLast((r) => r.id === id);
  assert.ok(read, 'the shop backend read the resourcePath');
  assert.equal(await page.locator('#code').innerText(), read.body.result.code);
  return read.body;
}

function assertNoPan(seen: { parentRequests: string[] }, dom: string, pan: string) {
  const spaced = pan.replace(/(\d{4})(?=\d)/g, '$1 ');
  assert.ok(!dom.includes(pan) && !dom.includes(spaced), 'the shop page DOM never holds the card number');
  const text = seen.parentRequests.join('\n');
  assert.ok(!text.includes(pan) && !text.includes(spaced), 'no request of the shop page carries the PAN');
  assert.ok(!gw.logs.join('\n').includes(pan), 'no log line holds the PAN');
}

describe('COPYandPAY widget in Chromium, on a shop page of another origin', () => {
  let context: BrowserContext;
  before(async () => { context = await browser.newContext(); });
  after(async () => { await context?.close(); });

  test('frictionless: the widget renders in the form, the card is typed into the gateway\'s frames, the shopper lands on the result page; the PAN never reaches the shop page', async () => {
    const page = await context.newPage();
    const seen = watchParent(page);
    await withScreenshot(page, 'copyandpay-frictionless', async () => {
      await openCheckout(page, { order: 'order-frictionless' });
      assert.deepEqual(await page.evaluate('window.wpwlEvents'), ['ready'], 'onReady ran once all fields were ready');
      assert.equal(await page.locator('.wpwl-container').getAttribute('class'), 'wpwl-container wpwl-container-card wpwl-style-card');
      assert.deepEqual(await page.locator('.wpwl-brand').allInnerTexts(), ['Visa', 'Mastercard', 'American Express']);
      await typeCard(page, frictionless);
      // Brand detection: the typed card's brand is highlighted, the others dimmed.
      await page.locator('.wpwl-brand-VISA.wpwl-brand-detected').waitFor();
      assert.equal(await page.locator('.wpwl-brand-dimmed').count(), 2);
      // The shop's script cannot reach into the frames (the gateway's origin).
      const reach = await page.evaluate(`(() => { try { return document.querySelector('.wpwl-wrapper-cardNumber iframe').contentDocument?.body?.innerHTML ?? 'blocked'; } catch { return 'blocked'; } })()`);
      assert.equal(reach, 'blocked');
      assertNoPan(seen, await page.content(), frictionless);
      await page.locator('.wpwl-button-pay').click();
      const body = await landed(page, 'order-frictionless');
      assert.equal(body.result.code, success);
      assert.equal(body.amount, '89.90');
      assert.equal(body.card.last4Digits, '0091');
      assert.equal(body.card.holder, 'Jane Jones');
      assert.equal(body.threeDSecure.eci, '05', 'frictionless authentication ECI of Visa');
    });
    assertNoPan(seen, await page.content(), frictionless);
    // The card went from the card frame to the gateway's own origin, never from the shop page.
    assert.ok(seen.frameRequests.some((r) => r.startsWith('POST') && r.includes('/v1/checkouts/') && r.includes('/payment')));
    assert.ok(!seen.parentRequests.some((r) => r.startsWith('POST') && r.includes('/v1/')));
    await page.close();
  });

  test('3-D Secure challenge: the widget sends the shopper to the challenge; Complete lands on the result page', async () => {
    const page = await context.newPage();
    const seen = watchParent(page);
    await withScreenshot(page, 'copyandpay-challenge', async () => {
      await openCheckout(page, { order: 'order-3ds', amount: '120.00' });
      await typeCard(page, challenge);
      await page.locator('.wpwl-button-pay').click();
      await page.waitForURL(/\/hosted\/3ds\//);
      await page.getByRole('button', { name: 'Complete', exact: true }).click();
      const body = await landed(page, 'order-3ds');
      assert.equal(body.result.code, success);
      assert.equal(body.amount, '120.00');
    });
    assertNoPan(seen, '', challenge);
    await page.close();
  });

  test('a declined card is shown by the widget, the shopper tries another card in the same checkout; onBeforeSubmitCard can veto a submit', async () => {
    const page = await context.newPage();
    const seen = watchParent(page);
    await withScreenshot(page, 'copyandpay-declined', async () => {
      await openCheckout(page, { order: 'order-declined', locale: 'de' });
      assert.equal(await page.locator('.wpwl-button-pay').innerText(), 'Jetzt bezahlen', 'wpwlOptions.locale');
      // Incomplete fields are flagged by the widget, not sent.
      await page.locator('.wpwl-button-pay').click();
      await page.locator('.wpwl-group-cardNumber.wpwl-has-error').waitFor();
      await typeCard(page, declining);
      await page.evaluate('window.blockSubmit = true');
      await page.locator('.wpwl-button-pay').click();
      assert.deepEqual(await page.evaluate('window.wpwlEvents'), ['ready', 'beforeSubmitCard', 'beforeSubmitCard']);
      assert.equal(await page.locator('.wpwl-button-pay').innerText(), 'Jetzt bezahlen', 'vetoed: nothing sent');
      await page.evaluate('window.blockSubmit = false');
      await page.locator('.wpwl-button-pay').click();
      const message = page.locator('.wpwl-message.wpwl-has-error');
      await message.waitFor();
      assert.match(await message.innerText(), /^Die Zahlung wurde abgelehnt: /);
      assert.equal(new URL(page.url()).pathname, '/checkout', 'still on the shop page');
      // The same checkout takes another card.
      await frame(page, 'cardNumber').fill('');
      await frame(page, 'cardNumber').pressSequentially(frictionless);
      await page.locator('.wpwl-button-pay').click();
      const body = await landed(page, 'order-declined');
      assert.equal(body.result.code, success);
    });
    assertNoPan(seen, '', declining);
    await page.close();
  });

  test('two tabs of one checkout: while the first tab\'s payment waits for its challenge, the second is told it is still open, with the way to it (not sent to the result page as paid); once the challenge fails, the second tab pays', async () => {
    const first = await context.newPage();
    const second = await context.newPage();
    await withScreenshot(second, 'copyandpay-two-tabs', async () => {
      await openCheckout(first, { order: 'order-two-tabs' });
      const src = await first.locator('script[src*="paymentWidgets.js"]').getAttribute('src');
      const checkoutId = new URL(src!).searchParams.get('checkoutId')!;
      await openCheckout(second, { order: 'order-two-tabs', checkout: checkoutId });
      await typeCard(first, challenge);
      await first.locator('.wpwl-button-pay').click();
      await first.waitForURL(/\/hosted\/3ds\//);
      await typeCard(second, frictionless);
      await second.locator('.wpwl-button-pay').click();
      const message = second.locator('.wpwl-message.wpwl-has-error');
      await message.waitFor();
      assert.match(await message.innerText(), /^The verification of your payment with your bank is still open\.\s+Continue the verification$/);
      assert.equal(new URL(second.url()).pathname, '/checkout', 'still on the shop page');
      await first.getByRole('button', { name: 'Fail', exact: true }).click();
      const declined = await landed(first, 'order-two-tabs');
      assert.match(declined.result.code, /^100\.380\./);
      await second.locator('.wpwl-button-pay').click();
      const paid = await landed(second, 'order-two-tabs');
      assert.equal(paid.result.code, success);
    });
    await first.close();
    await second.close();
  });

  test('one-click: a registration offered by the checkout is listed masked and pays with one click', async () => {
    const reg = await opp(gw, 'POST', '/v1/registrations', { ...testCard, 'card.number': '5200000000000007', paymentBrand: 'MASTER' });
    assert.equal(reg.body.result.code, success);
    const page = await context.newPage();
    await withScreenshot(page, 'copyandpay-registration', async () => {
      await openCheckout(page, { order: 'order-oneclick', registration: reg.body.id });
      const saved = page.locator('.wpwl-registration');
      assert.equal(await saved.count(), 1);
      assert.match(await saved.innerText(), /Mastercard\s+•••• 0007\s+Expires 05\/34/);
      assert.equal(await page.locator('.wpwl-form-card').isHidden(), true, 'the new-card form waits behind "Pay with another card"');
      await page.locator('.wpwl-container-registration .wpwl-button-pay').click();
      const body = await landed(page, 'order-oneclick');
      assert.equal(body.result.code, success);
      assert.equal(body.registrationId, reg.body.id);
      assert.equal(body.card.last4Digits, '0007');
    });
    await page.close();
  });

  test('the webhook listener received every payment the widget made, and the checkout cannot be paid twice', async () => {
    await gw.app.webhooks.runOnce();
    const payments = notifications.filter((n) => n.type === 'PAYMENT').map((n) => n.payload as any);
    for (const r of shop.results) {
      assert.ok(payments.some((p) => p.id === r.body.id && p.result.code === r.body.result.code), `a notification for ${r.body.merchantTransactionId}`);
    }
    assert.ok(payments.some((p) => p.merchantTransactionId === 'order-declined' && /^800\./.test(p.result.code)), 'the decline was notified too');
    const paid = shop.results[0]!;
    const again = await fetch(`${gw.url}/v1/checkouts/${paid.id}/payment`, {
      method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ 'card.number': frictionless, 'card.expiryMonth': '12', 'card.expiryYear': '2030', 'card.cvv': '123' }),
    });
    assert.equal(again.status, 400);
  });
});
