/**
 * Renders the gateway's /docs page (the OpenAPI documents as one page) in Debian's Chromium and
 * saves screenshots under docs/screenshots/. Run: `node scripts/screenshots-docs.ts`.
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
const base = await app.server.listen({ port: 0, host: '127.0.0.1' });
const browser = await chromium.launch({ executablePath: process.env.CHROMIUM_PATH || '/usr/bin/chromium', args: ['--no-sandbox'] });
const outDir = join(process.cwd(), 'docs', 'screenshots');
mkdirSync(outDir, { recursive: true });
try {
  const page = await browser.newPage({ viewport: { width: 1440, height: 900 } });
  // Offline: any request leaving the gateway would fail the page, and is counted.
  const outside: string[] = [];
  page.on('request', (r) => { if (!r.url().startsWith(base)) outside.push(r.url()); });
  await page.goto(`${base}/docs`);
  await page.screenshot({ path: join(outDir, 'docs-top.png') });
  await page.locator('#v1-post-v1-payments').scrollIntoViewIfNeeded();
  await page.locator('#v1-post-v1-payments').screenshot({ path: join(outDir, 'docs-v1-payments.png') });
  if (outside.length > 0) throw new Error(`the docs page fetched from elsewhere: ${outside.join(', ')}`);
  process.stdout.write(`saved docs-top.png and docs-v1-payments.png in ${outDir}\n`);
} finally {
  await browser.close();
  await app.close();
  rmSync(dataDir, { recursive: true, force: true });
}
