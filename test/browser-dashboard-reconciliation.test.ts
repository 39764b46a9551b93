/**
 * The Reconciliation page in Chromium: each row's note box and button tell a screen reader which
 * discrepancy they resolve (fifty boxes were all "How it was resolved"), and a resolved
 * discrepancy's long note wraps in its cell (the row scrolled sideways on a phone).
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Browser, Page } from 'playwright-core';
import { manualClock } from '../src/runtime/clock.ts';
import { opp, testCard, type Gateway } from './support/harness.ts';
import { gatewayWithSettlementAccount } from './support/settlement.ts';
import { launchChromium } from './support/browser.ts';

const password = 'a long test password';
const clock = manualClock(Date.UTC(2026, 2, 10) + 60_000);
let gw: Gateway; let browser: Browser;
let ids: string[] = [];
let longNoteId = '';

before(async () => {
  ({ gw } = await gatewayWithSettlementAccount(clock, 'sqlite'));
  assert.ok((await gw.app.dashboard.addUser({ email: 'op@example.com', role: 'operator', merchantId: gw.merchant.merchantId, password })).ok);
  const sale = await opp(gw, 'POST', '/v1/payments', { ...testCard, amount: '100.00', currency: 'EUR', paymentType: 'DB' });
  const lines = [{ reference: sale.body.id, type: 'capture', gross: '100.00', fee: '1.70', net: '100.00', currency: 'EUR', valueDate: '2026-03-11' }];
  for (let i = 0; i < 60; i++) lines.push({ reference: `ghost-${String(i).padStart(3, '0')}`, type: 'capture', gross: '5.00', fee: '0.00', net: '5.00', currency: 'EUR', valueDate: '2026-03-11' });
  const report = { format: 'switchyard-settlement-report/1', pspAccount: 'acq', merchantId: gw.merchant.merchantId, day: '2026-03-10', lines, payouts: [{ currency: 'EUR', amount: '400.00', valueDate: '2026-03-11' }] };
  const r = await fetch(`${gw.url}/admin/api/ledger/reconciliations`, { method: 'POST', headers: { authorization: `Bearer ${gw.app.admin.token}`, 'content-type': 'application/json' }, body: JSON.stringify({ pspAccount: 'acq', merchantId: gw.merchant.merchantId, report }) });
  const body = await r.json() as { discrepancies: { id: string; kind: string }[] };
  ids = body.discrepancies.map((d) => d.id);
  console.log('kinds', body.discrepancies.map((d) => d.kind).join(','));
  longNoteId = ids[1]!;
  const note = '<b>bold</b> & "quoted" — naïve 🧾 ' + 'x'.repeat(400);
  assert.ok((await gw.app.settlement.resolve(longNoteId, note)).ok);
  browser = await launchChromium();
});
after(async () => { await browser?.close(); await gw?.close(); });

async function signedIn(viewport = { width: 1280, height: 900 }): Promise<Page> {
  const context = await browser.newContext({ viewport });
  const page = await context.newPage();
  await page.goto(`${gw.url}/dashboard/reconciliation`);
  await page.waitForURL(/\/dashboard\/sign-in/);
  await page.getByLabel('Email').fill('op@example.com');
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.waitForURL(/\/dashboard\/reconciliation/);
  return page;
}

test('each row\'s note box tells a screen reader which discrepancy it resolves', async () => {
  const page = await signedIn();
  const boxes = page.getByRole('textbox');
  const n = await boxes.count();
  assert.ok(n >= 40, `rows with a box: ${n}`);
  const described = new Set<string>();
  for (let i = 0; i < n; i++) {
    const b = boxes.nth(i);
    // The box's label, and the text of what it is described by, as a screen reader reads them.
    const label = await page.locator(`label[for="${await b.getAttribute('id')}"]`).textContent();
    const ids = (await b.getAttribute('aria-describedby') ?? '').split(/\s+/).filter(Boolean);
    const description = (await Promise.all(ids.map((id) => page.locator(`[id="${id}"]`).textContent()))).join(' ');
    const name = `${label ?? ''} | ${description}`.replace(/\s+/g, ' ').trim();
    described.add(name);
  }
  assert.equal(described.size, n, `the ${n} note boxes have only ${described.size} distinct accessible name/description(s): ${[...described].slice(0, 3).join(' ; ')}`);
  await page.context().close();
});

test('a resolved discrepancy\'s long note is shown escaped and wrapped at 390 px (no sideways scroll)', async () => {
  const page = await signedIn({ width: 390, height: 844 });
  await page.goto(`${gw.url}/dashboard/reconciliation?status=resolved`);
  const cell = page.locator(`#d-${longNoteId} td[data-label="Resolution"]`);
  assert.match(await cell.innerText(), /<b>bold<\/b> & "quoted" — naïve 🧾 x+/);
  const widths = await page.evaluate(`({
    doc: document.documentElement.clientWidth,
    scroll: [...document.querySelectorAll('main .scroll')].map((e) => ({ sw: e.scrollWidth, cw: e.clientWidth })),
  })`) as { doc: number; scroll: { sw: number; cw: number }[] };
  for (const s of widths.scroll) assert.ok(s.sw <= s.cw + 1, `the table is ${s.sw} px wide in a ${s.cw} px box at a 390 px viewport: the note is not wrapped`);
  const right = await cell.evaluate((e) => e.getBoundingClientRect().right);
  assert.ok(right <= 390, `the note's cell ends at ${right} px`);
  await page.context().close();
});
