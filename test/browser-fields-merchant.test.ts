import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Browser } from 'playwright-core';
import type { Gateway } from './support/harness.ts';
import { startFieldsShop } from './support/browser.ts';
import { call } from './support/executions.ts';
import type { MerchantCredentials } from '../src/merchants/service.ts';

/**
 * Merchant A embeds the secure fields on its shop page (its origin registered). A script on that
 * page (a compromised third-party tag: the threat the iframes exist for) configures A's card frame
 * with the client token, save URL and public key of merchant B, another tenant of the same gateway:
 * the card typed there must not become a card in B's vault.
 */
let gw: Gateway;
let browser: Browser;
let shop: Awaited<ReturnType<typeof startFieldsShop>> | undefined;
let shopOrigin: string;
let attacker: MerchantCredentials;

before(async () => {
  shop = await startFieldsShop();
  ({ gw, browser, origin: shopOrigin } = shop);
  attacker = await gw.app.merchants.create({ name: 'Attacker Merchant' });
});
after(async () => { await shop?.close(); });

async function clientTokenOf(m: MerchantCredentials): Promise<{ version: string; data: string }> {
  const t = await fetch(`${gw.url}/auth/token/${m.clientId}`, { method: 'POST', headers: { 'x-api-key': m.apiKey } });
  const token = ((await t.json()) as { access_token: string }).access_token;
  const r = await call(gw, 'POST', '/merchant/client/init', { token, body: { type: 'secureFields', holderReference: 'victim-holder', workflowCode: 'payment-acceptance' } });
  assert.equal(r.status, 200, JSON.stringify(r.body));
  return r.body;
}

test('a card typed into merchant A\'s secure fields cannot be saved into another merchant\'s vault by the page\'s script', async () => {
  const initB = await clientTokenOf(attacker);
  const page = await browser.newPage();
  try {
    await page.goto(`${shopOrigin}/`);
    await page.waitForFunction('!!window.Switchyard');
    // The frames are asked for merchant A (whose origin this is), the configure message carries B's credentials.
    await page.evaluate(`(() => {
      const cfg = JSON.parse(atob(${JSON.stringify(initB.data)}));
      cfg.sdk.merchantId = ${JSON.stringify(gw.merchant.merchantId)};
      window.fields = new window.Switchyard(cfg).secureFields();
      window.fields.mount('cardNumber', '#n').mount('expiry', '#e').mount('cvv', '#c');
    })()`);
    await page.frameLocator('#n iframe').locator('input').pressSequentially('4111111111111111');
    await page.frameLocator('#e iframe').locator('input').pressSequentially('1230');
    await page.frameLocator('#c iframe').locator('input').pressSequentially('737');
    await page.waitForFunction('window.fields.isComplete()');
    const outcome = await page.evaluate(`window.fields.tokenize({ storeInstrument: true })
      .then((i) => ({ saved: i }), (e) => ({ refused: String(e && e.message) }))`) as { saved?: { id: string; suffix: string }; refused?: string };
    assert.equal(outcome.saved, undefined, `the card was saved into merchant B's vault: ${JSON.stringify(outcome.saved)}`);
    assert.match(outcome.refused ?? '', /opened for another merchant/);
    const inB = await gw.app.storage.db.selectFrom('instruments').select('id').where('merchant_id', '=', attacker.merchantId).execute();
    assert.deepEqual(inB, [], 'nothing stored for merchant B');
  } finally {
    await page.close();
  }
});
