/**
 * Renders the COPYandPAY widget on a shop page of another origin in Debian's Chromium and saves
 * screenshots under docs/screenshots/ (desktop, and a phone viewport with a saved card offered).
 * Run: `node scripts/screenshots-copyandpay.ts`.
 */
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type Page } from 'playwright-core';
import { loadConfig } from '../src/config.ts';
import { createApp } from '../src/app.ts';
import { createLogger } from '../src/runtime/logger.ts';
import { startCopyAndPayShop } from '../test/support/copyandpay-shop.ts';

const dataDir = mkdtempSync(join(tmpdir(), 'switchyard-shots-'));
const app = await createApp(loadConfig({ SWITCHYARD_DATA_DIR: dataDir }), { logger: createLogger({ level: 'warn' }) });
const merchant = await app.merchants.create({ name: 'Fernweh Outdoor' });
const base = await app.server.listen({ port: 0, host: '127.0.0.1' });
const shop = await startCopyAndPayShop({ gatewayUrl: base, accessToken: merchant.accessToken, entityId: merchant.entityId });
const browser = await chromium.launch({ executablePath: process.env.CHROMIUM_PATH || '/usr/bin/chromium', args: ['--no-sandbox'] });
const outDir = join(process.cwd(), 'docs', 'screenshots');
mkdirSync(outDir, { recursive: true });

const registration = await fetch(`${base}/v1/registrations`, {
  method: 'POST', headers: { authorization: `Bearer ${merchant.accessToken}`, 'content-type': 'application/x-www-form-urlencoded' },
  body: new URLSearchParams({ entityId: merchant.entityId, paymentBrand: 'MASTER', 'card.number': '5200000000000007', 'card.holder': 'Jane Jones', 'card.expiryMonth': '05', 'card.expiryYear': '2034' }),
}).then((r) => r.json() as Promise<{ id: string }>);

/** A shopper half way through: a Visa number typed (brand detected), the expiry and the holder. */
async function typeSome(page: Page) {
  await page.frameLocator('.wpwl-wrapper-cardNumber iframe').locator('input').pressSequentially('4200000000000091');
  await page.frameLocator('.wpwl-wrapper-expiry iframe').locator('input').pressSequentially('1230');
  await page.locator('.wpwl-control-cardHolder').fill('Jane Jones');
}

const shots: [string, Record<string, string>, { width: number; height: number }, number, boolean][] = [
  ['copyandpay-desktop.png', { order: 'A-1042' }, { width: 1280, height: 800 }, 1, true],
  ['copyandpay-mobile.png', { order: 'A-1043', registration: registration.id }, { width: 390, height: 844 }, 2, false],
];
try {
  for (const [file, query, viewport, deviceScaleFactor, typing] of shots) {
    const context = await browser.newContext({ viewport, deviceScaleFactor });
    const page = await context.newPage();
    await page.goto(`${shop.url}/checkout?${new URLSearchParams(query)}`);
    await page.locator('body[data-widget="ready"]').waitFor();
    if (typing) await typeSome(page);
    else await page.locator('.wpwl-button-link').click();
    await page.waitForTimeout(300);
    await page.screenshot({ path: join(outDir, file), fullPage: !typing });
    await context.close();
    process.stdout.write(`docs/screenshots/${file}\n`);
  }
} finally {
  await browser.close();
  await shop.close();
  await app.close();
  rmSync(dataDir, { recursive: true, force: true });
}
