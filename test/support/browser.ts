import { mkdirSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { startGateway, type Gateway } from './harness.ts';
import { startDemoStore, type DemoStore } from '../../src/hosted/demo.ts';

/** Debian's Chromium; the project never downloads a browser. */
export const chromiumPath = process.env.CHROMIUM_PATH || '/usr/bin/chromium';

export function launchChromium(): Promise<Browser> {
  return chromium.launch({ executablePath: chromiumPath, headless: true, args: ['--no-sandbox', '--disable-dev-shm-usage'] });
}

/**
 * A gateway, a merchant's page on an origin of its own (registered for the demo merchant) holding
 * the SDK script and three hosts for the secure fields (`#n`, `#e`, `#c`) for a test to mount them
 * in, and Chromium.
 */
export async function startFieldsShop(): Promise<{ gw: Gateway; origin: string; browser: Browser; close(): Promise<void> }> {
  const gw = await startGateway();
  const server = createServer((_req, res) => {
    res.setHeader('content-type', 'text/html; charset=utf-8');
    res.end(`<!doctype html><html><body>
<div id="n"></div><div id="e"></div><div id="c"></div>
<script src="${gw.url}/sdk/v1/switchyard.js"></script></body></html>`);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  await gw.app.merchants.addOrigin(gw.merchant.merchantId, origin);
  const browser = await launchChromium();
  return {
    gw, origin, browser,
    close: async () => { await browser.close(); await new Promise<void>((r) => server.close(() => r())); await gw.close(); },
  };
}

/** A gateway, the demo storefront before it (its origin registered for the demo merchant) and Chromium. */
export async function startDemoShop(): Promise<{ gw: Gateway; store: DemoStore; browser: Browser; close(): Promise<void> }> {
  const gw = await startGateway();
  const store = await startDemoStore({
    gatewayUrl: gw.url, clientId: gw.merchant.clientId, apiKey: gw.merchant.apiKey, workspaceId: gw.merchant.workspaceId, host: '127.0.0.1', port: 0,
  });
  await gw.app.merchants.addOrigin(gw.merchant.merchantId, store.origin);
  const browser = await launchChromium();
  return { gw, store, browser, close: async () => { await browser.close(); await store.close(); await gw.close(); } };
}

/** Runs a browser step; on failure saves a screenshot under test-results/ before rethrowing. */
export async function withScreenshot<T>(page: Page, name: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    const dir = join(process.cwd(), 'test-results');
    mkdirSync(dir, { recursive: true });
    const file = join(dir, `${name.replace(/[^a-z0-9]+/gi, '-')}.png`);
    await page.screenshot({ path: file, fullPage: true }).catch(() => undefined);
    throw new Error(`${(err as Error).message}\n(screenshot: ${file})`, { cause: err });
  }
}

/** Everything the merchant page itself sees of the network: the requests its own frame makes, and those of the field frames. */
export function watchParent(page: Page): { parentRequests: string[]; frameRequests: string[] } {
  const parentRequests: string[] = [];
  const frameRequests: string[] = [];
  page.on('request', (r) => {
    const text = `${r.method()} ${r.url()}\n${r.postData() ?? ''}`;
    (r.frame() === page.mainFrame() ? parentRequests : frameRequests).push(text);
  });
  return { parentRequests, frameRequests };
}

/** Types a card into the demo checkout's secure-field iframes, as a shopper would. */
export async function typeCard(page: Page, number: string, cvv = '123', expiry = '1230'): Promise<void> {
  await page.frameLocator('#card-number iframe').locator('input').pressSequentially(number);
  await page.frameLocator('#card-expiry iframe').locator('input').pressSequentially(expiry);
  await page.frameLocator('#card-cvv iframe').locator('input').pressSequentially(cvv);
}
