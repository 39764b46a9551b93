/**
 * Screenshots of every dashboard page in Debian's Chromium, desktop and phone, into
 * docs/screenshots/dashboard-*.png, over a fresh gateway with a few payments of each kind.
 * Run: `node scripts/screenshots-dashboard.ts`.
 */
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type Page } from 'playwright-core';
import { loadConfig } from '../src/config.ts';
import { createApp } from '../src/app.ts';
import { createLogger } from '../src/runtime/logger.ts';
import { parseSettlementReport } from '../src/processors/settlement-report.ts';

const dataDir = mkdtempSync(join(tmpdir(), 'switchyard-shots-'));
const app = await createApp(loadConfig({ SWITCHYARD_DATA_DIR: dataDir, SWITCHYARD_WEBHOOK_ALLOW: '127.0.0.0/8' }), { logger: createLogger({ level: 'warn' }) });
const shop = await app.merchants.create({ name: 'Demo Shop' });
const books = await app.merchants.create({ name: 'Corner Books' });
const base = await app.server.listen({ port: 0, host: '127.0.0.1' });
const password = 'screenshots only, not a real password';
await app.dashboard.addUser({ email: 'ops@example.com', role: 'admin', merchantId: undefined, password });

// Two PSP accounts in a cascade: the first declines cards ending 1111 (soft), so the second takes them.
await app.workflows.putAccount(shop.merchantId, 'acquirer-a', { connector: 'simulator', settings: { latencyMs: 40, declines: [{ cardSuffixes: ['1111'], category: 'soft' }] } });
await app.workflows.putAccount(shop.merchantId, 'acquirer-b', { connector: 'simulator', settings: { latencyMs: 90 } });
await app.workflows.configure(shop.merchantId, 'payment-acceptance', { accounts: ['acquirer-a', 'acquirer-b'] });
await app.merchants.addOrigin(shop.merchantId, 'https://shop.example');
const hook = await app.webhooks.addEndpoint({ merchantId: shop.merchantId, dialect: 'opp', url: 'http://127.0.0.1:9/notify' });

const v1 = async (m: typeof shop, params: Record<string, string>) => {
  const res = await fetch(`${base}/v1/payments`, {
    method: 'POST', headers: { authorization: `Bearer ${m.accessToken}`, 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ entityId: m.entityId, currency: 'EUR', paymentBrand: 'VISA', 'card.holder': 'Jane Jones', 'card.expiryMonth': '05', 'card.expiryYear': '2034', 'card.cvv': '123', ...params }),
  });
  return (await res.json()) as { id: string };
};
const made: string[] = [];
for (let i = 0; i < 14; i++) {
  const card = ['4200000000000000', '5454545454545454', '4111111111111111', '4000000000000002'][i % 4]!;
  const r = await v1(i % 5 === 4 ? books : shop, {
    amount: `${(19.9 + i * 7.35).toFixed(2)}`, paymentType: i % 3 === 0 ? 'DB' : 'PA', 'card.number': card, paymentBrand: card.startsWith('5') ? 'MASTER' : 'VISA',
    merchantTransactionId: `order-${1000 + i}`, ...(i % 7 === 6 ? { 'customParameters[forceResultCode]': '800.100.151' } : {}),
  });
  made.push(r.id);
}
await app.webhooks.runOnce();
const story = made[1]!;
// A day's settlement report of the shop's first acquirer that disagrees with the books: a line whose
// net is not its gross less its fee, one the gateway has no record of, and the rest missing.
const account = await app.settlement.account('acquirer-a', shop.merchantId);
const report = parseSettlementReport({
  format: 'switchyard-settlement-report/1', pspAccount: 'acquirer-a', merchantId: shop.merchantId, day: new Date().toISOString().slice(0, 10),
  lines: [
    { reference: made[0]!, type: 'capture', gross: '19.90', fee: '0.35', net: '19.90', currency: 'EUR', valueDate: new Date(Date.now() + 86_400_000).toISOString().slice(0, 10) },
    { reference: 'PSP-7731-unmatched', type: 'capture', gross: '42.00', fee: '0.70', net: '41.30', currency: 'EUR', valueDate: new Date(Date.now() + 86_400_000).toISOString().slice(0, 10) },
  ],
  payouts: [{ currency: 'EUR', amount: '61.20', valueDate: new Date(Date.now() + 86_400_000).toISOString().slice(0, 10) }],
});
if (account.ok && report.ok) await app.settlement.reconcile(account.value, report.value);

const browser = await chromium.launch({ executablePath: process.env.CHROMIUM_PATH || '/usr/bin/chromium', args: ['--no-sandbox'] });
const outDir = join(process.cwd(), 'docs', 'screenshots');
mkdirSync(outDir, { recursive: true });
const viewports = { desktop: { width: 1280, height: 860 }, phone: { width: 390, height: 844 } } as const;

async function signIn(page: Page) {
  await page.goto(`${base}/dashboard/sign-in`);
  await page.getByLabel('Email').fill('ops@example.com');
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.waitForURL(`${base}/dashboard`);
}

const pages: [string, (page: Page) => Promise<void>][] = [
  ['overview', async (p) => { await p.goto(`${base}/dashboard`); }],
  ['payments', async (p) => { await p.goto(`${base}/dashboard/payments`); }],
  ['payments-search', async (p) => { await p.goto(`${base}/dashboard/payments?q=1111`); }],
  ['payment', async (p) => { await p.goto(`${base}/dashboard/payments/${story}`); }],
  ['payment-confirm', async (p) => {
    await p.goto(`${base}/dashboard/payments/${story}`);
    await p.getByLabel(/^Capture amount/).fill('10.00');
    await p.getByRole('button', { name: 'Capture…' }).click();
  }],
  ['reconciliation', async (p) => { await p.goto(`${base}/dashboard/reconciliation`); }],
  ['merchants', async (p) => { await p.goto(`${base}/dashboard/merchants`); }],
  ['merchant', async (p) => { await p.goto(`${base}/dashboard/merchants/${shop.merchantId}`); }],
  ['webhook-endpoint', async (p) => { await p.goto(`${base}/dashboard/webhooks/${hook.ok ? hook.value.endpointId : ''}`); }],
  ['keys', async (p) => { await p.goto(`${base}/dashboard/keys`); }],
  ['audit', async (p) => { await p.goto(`${base}/dashboard/audit`); }],
];

try {
  for (const [device, viewport] of Object.entries(viewports)) {
    const context = await browser.newContext({ viewport, deviceScaleFactor: device === 'phone' ? 2 : 1 });
    const page = await context.newPage();
    await page.goto(`${base}/dashboard/sign-in`);
    await page.screenshot({ path: join(outDir, `dashboard-sign-in-${device}.png`), fullPage: true });
    await signIn(page);
    for (const [name, open] of pages) {
      await open(page);
      await page.screenshot({ path: join(outDir, `dashboard-${name}-${device}.png`), fullPage: true });
    }
    await context.close();
  }
  process.stdout.write(`screenshots written to ${outDir}\n`);
} finally {
  await browser.close();
  await app.close();
  rmSync(dataDir, { recursive: true, force: true });
}
