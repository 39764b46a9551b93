/**
 * A shopper in Chromium, by keyboard and by the Back button:
 * - the card fields' visible labels (the demo checkout's and the COPYandPAY widget's): a click on
 *   one and then typing must put the digits into that field, as with any <label for>;
 * - a shopper sent through links.consumerWait to the 3-D Secure challenge who answers it and then
 *   presses Back is not left on a dead "Already answered" page (the challenge is a GET page there,
 *   so Back reloads it): the page offers the way to where the payment now sends them, where a
 *   second tab pressing Complete is sent.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { startDemoShop, launchChromium, withScreenshot } from './support/browser.ts';
import { startGateway, type Gateway } from './support/harness.ts';
import { startCopyAndPayShop } from './support/copyandpay-shop.ts';
import { authorizeBody, call, execution, instrument, tokenOf, wf } from './support/executions.ts';

describe('a label click focuses the secure field inside its frame', () => {
  test('demo checkout (SDK): click "Expiry", type 1230: the expiry field holds 12 / 30', async () => {
    const shop = await startDemoShop();
    const page = await shop.browser.newPage();
    try {
      await withScreenshot(page, 'sdk-label-typing', async () => {
        await page.goto(shop.store.url);
        const expiry = page.frameLocator('#card-expiry iframe').locator('input');
        await page.frameLocator('#card-expiry iframe').locator('body[data-field=ready]').waitFor();
        await page.locator('label[data-box=card-expiry]').click();
        await page.keyboard.type('1230');
        assert.equal(await expiry.inputValue(), '12 / 30', 'the label focused the <iframe> element, not the input in it: the keys went nowhere');
      });
    } finally {
      await page.close();
      await shop.close();
    }
  });

  test('COPYandPAY widget: click "Expiry Date", type 1230: the expiry field holds 12 / 30', async () => {
    const gw = await startGateway();
    const shop = await startCopyAndPayShop({ gatewayUrl: gw.url, accessToken: gw.merchant.accessToken, entityId: gw.merchant.entityId });
    const browser = await launchChromium();
    const page = await browser.newPage();
    try {
      await withScreenshot(page, 'widget-label-typing', async () => {
        await page.goto(`${shop.url}/checkout?order=label-1`);
        await page.locator('body[data-widget="ready"]').waitFor();
        await page.locator('.wpwl-group-expiry .wpwl-label').click();
        await page.keyboard.type('1230');
        assert.equal(await page.frameLocator('.wpwl-wrapper-expiry iframe').locator('input').inputValue(), '12 / 30',
          'the widget\'s label is tied to nothing: a click on it leaves the field unfocused');
      });
    } finally {
      await browser.close();
      await shop.close();
      await gw.close();
    }
  });
});

describe('3-D Secure through consumerWait, then Back', () => {
  let gw: Gateway;
  let shopServer: Server;
  let shopUrl: string;
  before(async () => {
    gw = await startGateway({ env: { SWITCHYARD_LONG_POLL_MS: '600' } });
    shopServer = createServer((req, res) => { res.setHeader('content-type', 'text/html; charset=utf-8'); res.end(`<!doctype html><title>Shop</title><h1 id="where">${req.url}</h1>`); });
    await new Promise<void>((r) => shopServer.listen(0, '127.0.0.1', () => r()));
    shopUrl = `http://127.0.0.1:${(shopServer.address() as AddressInfo).port}`;
  });
  after(async () => {
    shopServer?.closeAllConnections();
    shopServer?.close();
    await gw?.close();
  });

  test('Complete, land on returnInfo.success, press Back: the answered page offers the way back to the merchant, not a dead end', async () => {
    const token = await tokenOf(gw);
    const inst = await instrument(gw, token, '4200000000000042', 'back-holder');
    const id = await execution(gw, token, 'back-holder');
    const returnInfo = { success: `${shopUrl}/ok`, cancel: `${shopUrl}/cancel`, error: `${shopUrl}/failed` };
    const ack = await call(gw, 'POST', `${wf}/${id}/authorize`, { token, body: { ...authorizeBody(inst), returnInfo } });
    assert.equal(ack.status, 200, JSON.stringify(ack.body));
    const browser = await launchChromium();
    const page = await browser.newPage();
    try {
      await withScreenshot(page, 'consumer-wait-back', async () => {
        await page.goto(`${shopUrl}/cart`);
        await page.goto(ack.body.links.consumerWait);
        await page.waitForURL(/\/hosted\/3ds\//);
        await page.getByRole('button', { name: 'Complete', exact: true }).click();
        await page.waitForURL(`${shopUrl}/ok`);
        await page.goBack();
        await page.waitForLoadState();
        // The answered page is not answered again; it offers the way to where the payment sends the shopper now.
        assert.equal(await page.locator('h1').innerText(), 'Already answered');
        const back = page.getByRole('link', { name: 'Return to the merchant' });
        assert.equal(await back.count(), 1, `Back left the shopper on "${(await page.locator('body').innerText()).replace(/\s+/g, ' ')}" with no way back to the merchant`);
        await back.click();
        await page.waitForURL(`${shopUrl}/ok`);
      });
    } finally {
      await browser.close();
    }
  });
});
