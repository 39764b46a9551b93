/**
 * Renders the hosted challenge page in Debian's Chromium and saves screenshots under docs/
 * (desktop and a narrow mobile viewport). Run: `node scripts/screenshots-challenge.ts`.
 */
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import { loadConfig } from '../src/config.ts';
import { createApp } from '../src/app.ts';
import { createLogger } from '../src/runtime/logger.ts';

const dataDir = mkdtempSync(join(tmpdir(), 'switchyard-shots-'));
const app = await createApp(loadConfig({ SWITCHYARD_DATA_DIR: dataDir }), { logger: createLogger({ level: 'warn' }) });
const demo = await app.merchants.create({ name: 'Demo Merchant' });
const base = await app.server.listen({ port: 0, host: '127.0.0.1' });
const browser = await chromium.launch({ executablePath: process.env.CHROMIUM_PATH || '/usr/bin/chromium', args: ['--no-sandbox'] });
const outDir = join(process.cwd(), 'docs', 'screenshots');
mkdirSync(outDir, { recursive: true });

async function redirectFor(params: Record<string, string>) {
  const res = await fetch(`${base}/v1/payments`, {
    method: 'POST',
    headers: { authorization: `Bearer ${demo.accessToken}`, 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ entityId: demo.entityId, amount: '92.00', currency: 'EUR', paymentType: 'DB', shopperResultUrl: 'https://shop.example/result', ...params }),
  });
  const body = await res.json() as { redirect: { url: string } };
  return body.redirect.url;
}

const card = { paymentBrand: 'VISA', 'card.number': '4200000000000042', 'card.holder': 'Jane Jones', 'card.expiryMonth': '05', 'card.expiryYear': '2034', 'card.cvv': '123' };
const shots: [string, Record<string, string>, { width: number; height: number }, number][] = [
  ['challenge-desktop.png', card, { width: 1280, height: 800 }, 1],
  ['challenge-mobile.png', card, { width: 360, height: 740 }, 2],
  ['bank-transfer-desktop.png', { paymentBrand: 'SOFORTUEBERWEISUNG', 'bankAccount.country': 'DE', 'bankAccount.bankName': 'Testbank' }, { width: 1280, height: 800 }, 1],
];
try {
  for (const [file, params, viewport, deviceScaleFactor] of shots) {
    const context = await browser.newContext({ viewport, deviceScaleFactor });
    const page = await context.newPage();
    // The GET form of the page looks the same as the POSTed one.
    await page.goto(await redirectFor(params));
    await page.screenshot({ path: join(outDir, file) });
    await context.close();
    process.stdout.write(`docs/screenshots/${file}\n`);
  }
} finally {
  await browser.close();
  await app.close();
  rmSync(dataDir, { recursive: true, force: true });
}
