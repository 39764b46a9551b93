/**
 * The canary scan over the browser flows: a fresh random card typed into the secure-field iframes
 * of the demo checkout in Chromium, tokenized (saved) and authorized, then paid again as a saved
 * card. Neither the gateway's logs, its store (SQLite file, WAL and SHM; PostgreSQL rows), nor the
 * merchant page's DOM, requests and responses may hold the PAN or the CVV.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import type { Browser, Page } from 'playwright-core';
import { startDemoStore } from '../src/hosted/demo.ts';
import type { MerchantCredentials } from '../src/merchants/service.ts';
import { launchChromium, typeCard, watchParent, withScreenshot } from './support/browser.ts';
import { assertNoCardData, assertNoCardDataInFiles, assertNoCardDataInRows, newCanary, type Canary } from './support/canary.ts';
import { postgresAvailable, startGateway, tempDir } from './support/harness.ts';
import { adminHeaders, demoCredentials, startGatewayProcess } from './support/process.ts';

let browser: Browser;
before(async () => { browser = await launchChromium(); });
after(async () => { await browser?.close(); });

/** What the merchant's page saw: its DOM at each step, its own requests and the bodies of its own responses. */
interface ParentView { doms: string[]; requests: string[]; responses: string[]; frameRequests: string[] }

/**
 * Runs the demo checkout with the canary card: new card saved and paid, then the saved card paid.
 * `register` registers the storefront's origin for the merchant (admin API or the service).
 */
async function checkout(gatewayUrl: string, merchant: MerchantCredentials, register: (origin: string) => Promise<void>, canary: Canary): Promise<ParentView> {
  const store = await startDemoStore({ gatewayUrl, clientId: merchant.clientId, apiKey: merchant.apiKey, workspaceId: merchant.workspaceId, host: '127.0.0.1', port: 0 });
  const context = await browser.newContext();
  const view: ParentView = { doms: [], requests: [], responses: [], frameRequests: [] };
  try {
    await register(store.origin);
    const watch = async (page: Page) => {
      const seen = watchParent(page);
      const bodies: Promise<void>[] = [];
      page.on('response', (r) => {
        if (r.frame() !== page.mainFrame()) return;
        bodies.push(r.text().then((t) => { view.responses.push(t); }, () => undefined));
      });
      return async () => {
        await Promise.all(bodies);
        view.requests.push(...seen.parentRequests);
        view.frameRequests.push(...seen.frameRequests);
      };
    };
    const confirmed = async (page: Page) => {
      await page.waitForURL(`${store.origin}/demo/confirmation/**`);
      assert.equal(await page.locator('#status').innerText(), 'authorized');
      view.doms.push(await page.content());
    };

    const page = await context.newPage();
    const done = await watch(page);
    await withScreenshot(page, 'canary-new-card', async () => {
      await page.goto(store.url);
      await page.frameLocator('#card-number iframe').locator('input').waitFor();
      await typeCard(page, canary.pan, canary.cvv);
      await page.locator('#save-card').check();
      await page.locator('#place-order:not([disabled])').waitFor();
      view.doms.push(await page.content());
      await page.locator('#place-order').click();
      await confirmed(page);
    });
    await done();
    await page.close();

    const again = await context.newPage();
    const doneAgain = await watch(again);
    await withScreenshot(again, 'canary-saved-card', async () => {
      await again.goto(store.url);
      const saved = again.locator('#saved-list label');
      await saved.first().waitFor();
      assert.match(await saved.first().innerText(), new RegExp(`VISA •••• ${canary.pan.slice(-4)}`));
      view.doms.push(await again.content());
      await again.locator('#place-order').click();
      await confirmed(again);
    });
    await doneAgain();
    await again.close();
  } finally {
    await context.close();
    await store.close();
  }
  // The flow did run: the frame sent a JWE to the gateway, the parent page placed the orders.
  assert.ok(view.frameRequests.some((r) => r.startsWith('POST') && r.includes('/public/payment/instruments') && r.includes('"encryptedData"')));
  assert.equal(view.requests.filter((r) => r.includes('/demo/api/place-order')).length, 2);
  return view;
}

function assertParentClean(canary: Canary, view: ParentView) {
  for (const d of view.doms) assertNoCardData(canary, 'the merchant page DOM', d);
  for (const r of view.requests) assertNoCardData(canary, 'a request of the merchant page', r);
  for (const r of view.responses) assertNoCardData(canary, 'a response to the merchant page', r);
  // The field frames send the card only encrypted.
  for (const r of view.frameRequests) assertNoCardData(canary, 'a request of a field frame', r);
}

test('browser canary on the embedded store: not in the logs, the SQLite file, WAL or SHM, nor the merchant page', async () => {
  const canary = newCanary();
  const dataDir = tempDir();
  try {
    const proc = await startGatewayProcess({ SWITCHYARD_DATA_DIR: dataDir, LOG_LEVEL: 'debug' });
    let view: ParentView;
    try {
      const merchant = demoCredentials(dataDir, proc.output());
      view = await checkout(proc.url, merchant, async (origin) => {
        const r = await fetch(`${proc.url}/admin/merchants/${merchant.merchantId}/origins`, { method: 'POST', headers: adminHeaders(dataDir), body: JSON.stringify({ origin }) });
        assert.equal(r.status, 201, await r.text());
      }, canary);
      // While the gateway runs the WAL and the shared-memory file hold recent pages.
      const files = assertNoCardDataInFiles(canary, dataDir);
      assert.ok(files.some((f) => f.endsWith('-wal')) && files.some((f) => f.endsWith('-shm')), `WAL and SHM scanned: ${files.join(', ')}`);
    } finally {
      await proc.stop('SIGTERM');
    }
    assertNoCardDataInFiles(canary, dataDir);
    const logs = proc.output();
    assert.ok(logs.includes('"level"'), 'the gateway did log');
    assertNoCardData(canary, 'the logs', logs);
    assertParentClean(canary, view);
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
});

test('browser canary on PostgreSQL: not in any row of any table, nor the logs, nor the merchant page', async (t) => {
  if (!(await postgresAvailable())) { t.skip('PostgreSQL unreachable'); return; }
  const canary = newCanary();
  const gw = await startGateway({ store: 'postgres' });
  try {
    const view = await checkout(gw.url, gw.merchant, async (origin) => { await gw.app.merchants.addOrigin(gw.merchant.merchantId, origin); }, canary);
    assertParentClean(canary, view);
    assertNoCardData(canary, 'the logs', gw.logs.join(''));
    await assertNoCardDataInRows(canary, gw.app.storage.db);
  } finally {
    await gw.close();
  }
});
