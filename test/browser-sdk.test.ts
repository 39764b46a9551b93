import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import type { Gateway } from './support/harness.ts';
import { startDemoShop, typeCard, watchParent, withScreenshot } from './support/browser.ts';
import type { DemoStore } from '../src/hosted/demo.ts';

// A 3-D Secure challenge card that the page's own hint text does not show, so any appearance would be a leak.
const pan = '4012000000003119';
let gw: Gateway;
let store: DemoStore;
let browser: Browser;
let shop: Awaited<ReturnType<typeof startDemoShop>> | undefined;
before(async () => { shop = await startDemoShop(); ({ gw, store, browser } = shop); });
after(async () => { await shop?.close(); });

async function passChallenge(page: Page) {
  await page.waitForURL(/\/hosted\/3ds\//);
  await page.getByRole('button', { name: 'Complete', exact: true }).click();
  await page.waitForURL(`${store.origin}/demo/confirmation/**`);
  assert.equal(await page.locator('#status').innerText(), 'authorized');
  assert.match(await page.locator('#outcome').innerText(), /confirmed/);
}

describe('secure fields and the demo checkout in Chromium', () => {
  let context: BrowserContext;
  before(async () => { context = await browser.newContext(); });
  after(async () => { await context?.close(); });

  test('type a card into the iframes, tokenize and save it, authorize through the demo backend, pass 3-D Secure, see the confirmation; the PAN never reaches the parent page', async () => {
    const page = await context.newPage();
    const seen = watchParent(page);
    // The page runs under its CSP: anything the policy blocked would show up as a console report.
    const violations: string[] = [];
    page.on('console', (m) => { if (/Content.Security.Policy/i.test(m.text())) violations.push(m.text()); });
    await withScreenshot(page, 'sdk-new-card', async () => {
      const res = await page.goto(store.url);
      const headers = res!.headers();
      assert.equal(headers['x-content-type-options'], 'nosniff');
      const csp = headers['content-security-policy'] ?? '';
      assert.match(csp, /default-src 'none'/);
      assert.match(csp, /script-src 'nonce-[A-Za-z0-9+/=]+' http:\/\/127\.0\.0\.1:[0-9]+\/sdk\//);
      assert.match(csp, /frame-ancestors 'none'/);
      assert.ok(!csp.includes('unsafe-inline') && !csp.includes('unsafe-eval'));
      await page.frameLocator('#card-number iframe').locator('input').waitFor();
      await typeCard(page, pan);
      await page.locator('#save-card').check();
      await page.locator('#place-order:not([disabled])').waitFor();
      assert.equal(await page.locator('#brand').innerText(), 'visa');
      // The merchant page's script cannot reach into the frames (another origin).
      const reach = await page.evaluate(`(() => {
        try { return document.querySelector('#card-number iframe').contentDocument?.body?.innerHTML ?? 'blocked'; } catch { return 'blocked'; }
      })()`);
      assert.equal(reach, 'blocked');
      const dom = await page.content();
      assert.ok(!dom.includes(pan) && !dom.includes('4012 0000 0000 3119'), 'the parent DOM never holds the card number');
      await page.locator('#place-order').click();
      await passChallenge(page);
    });
    assert.deepEqual(violations, [], 'the demo pages run without a CSP violation');
    const parentText = seen.parentRequests.join('\n');
    assert.ok(!parentText.includes(pan) && !parentText.includes('0000 3119'), 'no request of the parent page carries the PAN');
    assert.ok(seen.parentRequests.some((r) => r.includes('/demo/api/place-order')));
    // The frame sent the card encrypted: a JWE to the gateway, never the digits.
    const save = seen.frameRequests.find((r) => r.startsWith('POST') && r.includes('/public/payment/instruments'));
    assert.ok(save, 'the card frame saved the instrument');
    assert.ok(!save.includes(pan) && /"encryptedData":"[\w-]+\.[\w-]+\.[\w-]+\.[\w-]+\.[\w-]+"/.test(save));
    assert.ok(!gw.logs.join('\n').includes(pan), 'no log line holds the PAN');
    await page.close();
  });

  test('a returning holder pays with the saved card from the list, with 3-D Secure', async () => {
    const page = await context.newPage();
    await withScreenshot(page, 'sdk-saved-card', async () => {
      await page.goto(store.url);
      const saved = page.locator('#saved-list label');
      await saved.first().waitFor();
      assert.match(await saved.first().innerText(), /VISA •••• 3119\s+12\/30/);
      await page.locator('#place-order').click();
      await passChallenge(page);
    });
    await page.close();
  });

  test('field frames are framed only by registered origins and talk only to them', async () => {
    const page = await context.newPage();
    const merchantId = gw.merchant.merchantId;
    const unregistered = await page.request.get(`${gw.url}/sdk/v1/field?type=cardNumber&merchant=${merchantId}&parent=${encodeURIComponent('https://evil.example')}&channel=abcdefgh12`);
    assert.equal(unregistered.status(), 400);
    const ok = await page.request.get(`${gw.url}/sdk/v1/field?type=cardNumber&merchant=${merchantId}&parent=${encodeURIComponent(store.origin)}&channel=abcdefgh12`);
    assert.equal(ok.status(), 200);
    assert.match(ok.headers()['content-security-policy']!, new RegExp(`frame-ancestors ${store.origin.replace(/[.]/g, '\\.')}(;|$)`));
    // A page on an origin the merchant did not register cannot show the fields (the browser refuses to frame them).
    await page.goto(`${gw.url}/health`);
    const src = `${gw.url}/sdk/v1/field?type=cardNumber&merchant=${merchantId}&parent=${encodeURIComponent(store.origin)}&channel=abcdefgh12`;
    const framed = await page.evaluate(`(async () => {
      const f = document.createElement('iframe');
      f.src = ${JSON.stringify(src)};
      document.body.append(f);
      await new Promise((r) => setTimeout(r, 1500));
      try { return f.contentDocument?.querySelector('input') ? 'rendered' : 'refused'; } catch { return 'refused'; }
    })()`);
    assert.equal(framed, 'refused');
    await page.close();
  });
});

describe('demo checkout, keyboard only', () => {
  test('Enter in the CVC field places the order (implicit submission), as in the COPYandPAY widget', async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    try {
      await withScreenshot(page, 'demo-enter', async () => {
        await page.goto(store.url);
        await page.frameLocator('#card-number iframe').locator('input').waitFor();
        await typeCard(page, '4111111111111111');
        await page.locator('#place-order:not([disabled])').waitFor();
        await page.frameLocator('#card-cvv iframe').locator('input').press('Enter');
        await page.waitForURL(`${store.origin}/demo/confirmation/**`, { timeout: 5000 });
      });
    } finally {
      await context.close();
    }
  });

  test('the visible "Expiry" label focuses the expiry field', async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    try {
      await page.goto(store.url);
      await page.frameLocator('#card-expiry iframe').locator('input').waitFor();
      await page.locator('label[data-box=card-expiry]').click();
      const active = String(await page.evaluate(`document.activeElement?.title ?? ''`));
      assert.equal(active, 'Expiry date', 'the label\'s click does not focus its field');
    } finally {
      await context.close();
    }
  });
});

test('the demo shop answers the browser\'s ask for its icon empty, not 404 (a failed load in the console of every demo page)', async () => {
  const r = await fetch(`${store.origin}/favicon.ico`);
  assert.equal(r.status, 204);
  assert.equal(await r.text(), '');
});
