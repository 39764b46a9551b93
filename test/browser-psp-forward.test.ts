/**
 * A PSP that runs 3-D Secure itself and asks for a POST: the gateway's forwarding page sends the
 * shopper on (by its one script, or by its button without script), and every hop after that form —
 * the PSP's page, our return endpoint, the merchant's result page — is allowed by the page's
 * form-action, so the shopper who paid reaches the merchant.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Browser } from 'playwright-core';
import { startGateway, type Gateway } from './support/harness.ts';
import { startMerchantSite, type MerchantSite } from './support/merchant-site.ts';
import { launchChromium, withScreenshot } from './support/browser.ts';
import { startOppFake, oppFakeCredentials, type OppFake } from './support/fake-psps/opp.ts';
import { suiteCards } from './support/fake-psps/bank.ts';
import { createOppConnector } from '../src/processors/opp/connector.ts';

let oppFake: OppFake;
let gw: Gateway;
let shop: MerchantSite;
let browser: Browser;
before(async () => {
  oppFake = await startOppFake();
  gw = await startGateway({ processor: createOppConnector({ baseUrl: oppFake.url, ...oppFakeCredentials }, 5000) });
  shop = await startMerchantSite(gw);
  browser = await launchChromium();
});
after(async () => { await browser?.close(); await shop?.close(); await gw?.close(); await oppFake?.close(); });

for (const js of [true, false]) {
  test(`PSP-run 3-D Secure (POST redirect) through the gateway's forwarding page, JavaScript ${js ? 'on' : 'off'}: the shopper reaches the merchant's result page, nothing blocked by CSP`, async () => {
    const context = await browser.newContext({ javaScriptEnabled: js });
    const page = await context.newPage();
    const blocked: string[] = [];
    const visited: string[] = [];
    page.on('console', (m) => { if (/Content Security Policy/i.test(m.text())) blocked.push(m.text()); });
    page.on('request', (r) => { if (r.isNavigationRequest()) visited.push(`${r.method()} ${r.url()}`); });
    try {
      await withScreenshot(page, `forward-page-js-${js}`, async () => {
        await page.goto(`${shop.url}/checkout?${new URLSearchParams({ card: suiteCards.challenge, order: `fwd-${js}` })}`);
        await page.getByRole('button', { name: 'Continue to your bank' }).click();
        if (!js) {
          await page.waitForURL(`${gw.url}/hosted/3ds/**`);
          await page.getByRole('button', { name: 'Continue to your bank' }).click();
        }
        await page.waitForURL(`${shop.url}/result?**`, { timeout: 10_000 }).catch(() => undefined);
        assert.deepEqual(blocked, [], `CSP blocked the shopper's way:\n${visited.join('\n')}`);
        assert.ok(page.url().startsWith(`${shop.url}/result`), `the shopper is stuck at ${page.url()}\n${visited.join('\n')}`);
        assert.equal(await page.locator('#code').innerText(), '000.100.110');
      });
    } finally {
      await context.close();
    }
  });
}
