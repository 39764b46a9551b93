import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Browser, Page } from 'playwright-core';
import { opp, startGateway, type Gateway } from './support/harness.ts';
import { startMerchantSite, type MerchantSite } from './support/merchant-site.ts';
import { launchChromium, withScreenshot } from './support/browser.ts';

/** How far the gateway's clock is ahead of the machine's: a shopper who left a page open for minutes. */
let offset = 0;
let gw: Gateway;
let shop: MerchantSite;
let browser: Browser;
before(async () => {
  gw = await startGateway({ clock: { now: () => Date.now() + offset }, env: { SWITCHYARD_ASYNC_TIMEOUT_MS: '60000' } });
  shop = await startMerchantSite(gw);
  browser = await launchChromium();
});
after(async () => {
  await browser?.close();
  await shop?.close();
  await gw?.close();
});

/** A shopper in Chromium: checkout at the merchant, on to the hosted page, one button, back to the merchant. */
async function checkout(name: string, query: Record<string, string>, button: 'Complete' | 'Fail' | 'Cancel and return to the merchant', check: (page: Page) => Promise<void>) {
  const context = await browser.newContext({ javaScriptEnabled: query.js !== 'off' });
  const page = await context.newPage();
  const blocked: string[] = [];
  page.on('console', (m) => { if (/Content Security Policy/i.test(m.text())) blocked.push(m.text()); });
  try {
    await withScreenshot(page, name, async () => {
      await page.goto(`${shop.url}/checkout?${new URLSearchParams(query)}`);
      await page.getByRole('button', { name: 'Continue to your bank' }).click();
      await page.waitForURL(/\/hosted\/(3ds|bank)\//);
      await check(page);
      await page.getByRole('button', { name: button, exact: true }).click();
      await page.waitForURL(`${shop.url}/result?**`);
      assert.deepEqual(blocked, [], 'the page\'s CSP blocked nothing it needs');
    });
    return page;
  } catch (err) {
    await context.close();
    throw err;
  }
}

describe('shopper in Chromium', () => {
  test('3-D Secure challenge (POST redirect), Complete: the merchant receives resourcePath and its status call shows success', async () => {
    let challengeUrl = '';
    const page = await checkout('3ds-complete', { card: '4200000000000042', order: 'browser-1' }, 'Complete', async (p) => {
      challengeUrl = p.url();
      await p.getByRole('heading', { name: 'Verify your payment' }).waitFor();
      assert.match(await p.locator('main').innerText(), /Test Merchant[\s\S]*92\.00 EUR[\s\S]*VISA •••• 0042/);
    });
    try {
      await withScreenshot(page, '3ds-complete-result', async () => {
        assert.equal(await page.locator('#code').innerText(), '000.100.110');
        const id = await page.locator('#payment-id').innerText();
        assert.equal(shop.returns.at(-1), `/v1/payments/${id}`);
        // The merchant's own later status call shows the final result too.
        const status = await opp(gw, 'GET', `/v1/query/${id}`);
        assert.equal(status.body.result.code, '000.100.110');
        assert.equal(status.body.threeDSecure.eci, '05');
        // Opening the used page again shows no buttons, only that it was used.
        const again = await page.goto(challengeUrl);
        assert.equal(again?.status(), 410);
        assert.match(await page.locator('body').innerText(), /already been used/);
        assert.equal(await page.getByRole('button').count(), 0);
      });
    } finally {
      await page.context().close();
    }
  });

  test('3-D Secure challenge, Fail: the merchant page shows the 3DS rejection', async () => {
    const page = await checkout('3ds-fail', { card: '4200000000000018', type: 'PA', order: 'browser-2' }, 'Fail', async () => {});
    try {
      await withScreenshot(page, '3ds-fail-result', async () => {
        assert.equal(await page.locator('#code').innerText(), '100.380.401');
        assert.equal(await page.locator('#description').innerText(), 'User Authentication Failed');
      });
    } finally {
      await page.context().close();
    }
  });

  test('works with JavaScript switched off; the shopper can cancel', async () => {
    const page = await checkout('3ds-nojs-cancel', { card: '5386024192625914', brand: 'MASTER', order: 'browser-3', js: 'off' }, 'Cancel and return to the merchant', async (p) => {
      assert.match(await p.locator('main').innerText(), /MASTER •••• 5914/);
    });
    try {
      assert.equal(await page.locator('#code').innerText(), '100.396.101');
    } finally {
      await page.context().close();
    }
  });

  test('bank transfer (GET redirect): Complete at the bank, back at the merchant the PA is authorized, then the receipt', async () => {
    const page = await checkout('bank-complete', { brand: 'SOFORTUEBERWEISUNG', type: 'PA', amount: '120.00', order: 'browser-4' }, 'Complete', async (p) => {
      await p.getByRole('heading', { name: 'Confirm your bank transfer' }).waitFor();
    });
    try {
      const id = await page.locator('#payment-id').innerText();
      assert.equal(await page.locator('#code').innerText(), '000.100.110');
      const rc = await opp(gw, 'POST', `/v1/payments/${id}`, { paymentType: 'RC', amount: '120.00', currency: 'EUR' });
      assert.equal(rc.body.result.code, '000.100.110');
    } finally {
      await page.context().close();
    }
  });
});

describe('3-D Secure challenge page after the payment timed out', () => {
  test('pressing Complete on a page the timeout closed sends the shopper back to the merchant, and the page says it expired, never "already been used"', async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    try {
      await withScreenshot(page, '3ds-timeout', async () => {
        await page.goto(`${shop.url}/checkout?${new URLSearchParams({ card: '4200000000000042', order: 'timeout-1' })}`);
        await page.getByRole('button', { name: 'Continue to your bank' }).click();
        await page.waitForURL(/\/hosted\/3ds\//);
        const challengeUrl = page.url();
        // The shopper goes for a coffee; the payment's timeout passes and the job closes it.
        offset += 5 * 60_000;
        assert.ok(await gw.app.payments.expireAwaiting() >= 1, 'the timeout job expired the payment');
        // The shopper comes back and presses Complete on the page still open.
        await page.getByRole('button', { name: 'Complete', exact: true }).click();
        await page.waitForLoadState();
        const text = await page.locator('body').innerText();
        assert.doesNotMatch(text, /already been used/, `a page the shopper never answered says it was used: ${page.url()}`);
        assert.ok(page.url().startsWith(shop.url), `the shopper is back at the merchant's result page, not at ${page.url()}`);
        // Reloading the challenge page says the same.
        const again = await page.goto(challengeUrl);
        assert.equal(again?.status(), 410);
        assert.doesNotMatch(await page.locator('body').innerText(), /already been used/, 'a timed-out challenge is shown as used, not expired');
      });
    } finally {
      await context.close();
    }
  });
});
