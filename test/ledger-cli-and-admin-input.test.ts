/**
 * The ledger's command line and admin routes with bad input and a PSP's text: a misspelt merchant
 * is told apart from a merchant without money (exit 1, 404), an impossible date is refused rather
 * than rolled into the next month, and a settlement report's references never reach the
 * operator's terminal raw.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { manualClock } from '../src/runtime/clock.ts';
import { startGateway, type Gateway } from './support/harness.ts';

const dayStart = Date.UTC(2026, 2, 10);

function cli(gw: Gateway, ...args: string[]) {
  const env: Record<string, string> = { ...process.env as Record<string, string>, SWITCHYARD_DATA_DIR: gw.dataDir };
  delete env.DATABASE_URL;
  return spawnSync(process.execPath, ['src/cli/main.ts', ...args], { env, encoding: 'utf8' });
}
async function admin(gw: Gateway, method: string, path: string, body?: unknown) {
  const res = await fetch(gw.url + '/admin/api' + path, {
    method, headers: { authorization: `Bearer ${gw.app.admin.token}`, ...(body ? { 'content-type': 'application/json' } : {}) },
    ...(body ? { body: JSON.stringify(body) } : {}),
  });
  return { status: res.status, body: await res.json() as any };
}

describe('ledger CLI and admin routes: bad input and report text', () => {
  const clock = manualClock(dayStart + 60_000);
  let gw: Gateway;
  before(async () => {
    gw = await startGateway({ clock, store: 'sqlite' });
    assert.ok((await gw.app.workflows.putAccount(gw.merchant.merchantId, 'acq', { connector: 'simulator', settings: {} })).ok);
  });
  after(async () => { await gw?.close(); });

  // As `merchants rotate` and `psp-accounts`: an unknown merchant exits 1, so a misspelt id does not
  // look like a merchant with no money.
  test('ledger balances for an unknown merchant exits 1 naming it (not 0 with empty output)', () => {
    const r = cli(gw, 'ledger', 'balances', '--merchant', 'f'.repeat(32));
    assert.equal(r.status, 1, `exit ${r.status}, stdout ${JSON.stringify(r.stdout)}, stderr ${JSON.stringify(r.stderr)}`);
    assert.match(r.stderr, /no merchant/);
  });

  test('ledger balances --json, discrepancies and export for an unknown merchant exit 1; for a known one 0', () => {
    const unknown = 'f'.repeat(32);
    for (const args of [['balances', '--json'], ['discrepancies'], ['export', '--from', '2026-03-01', '--to', '2026-03-02']]) {
      const r = cli(gw, 'ledger', ...args, '--merchant', unknown);
      assert.equal(r.status, 1, `${args[0]}: exit ${r.status}, stdout ${JSON.stringify(r.stdout)}`);
      assert.match(r.stderr, /no merchant/);
      assert.equal(cli(gw, 'ledger', ...args, '--merchant', gw.merchant.merchantId).status, 0, args[0]);
    }
  });

  test('ledger balances names each PSP account as it was put (the id beside it in --json), not by its id alone', async () => {
    assert.ok((await gw.app.workflows.configure(gw.merchant.merchantId, 'payment-acceptance', { accounts: ['acq'] })).ok);
    const paid = await fetch(`${gw.url}/v1/payments`, {
      method: 'POST', headers: { authorization: `Bearer ${gw.merchant.accessToken}`, 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ entityId: gw.merchant.entityId, amount: '12.00', currency: 'EUR', paymentType: 'DB', paymentBrand: 'VISA', 'card.number': '4200000000000000', 'card.holder': 'Jane Jones', 'card.expiryMonth': '05', 'card.expiryYear': '2034', 'card.cvv': '123' }),
    });
    assert.equal(paid.status, 200);
    const text = cli(gw, 'ledger', 'balances', '--merchant', gw.merchant.merchantId);
    assert.equal(text.status, 0, text.stderr);
    assert.match(text.stdout, /^EUR {2}acq {2,}receivable {2,}12\.00$/m, text.stdout);
    const json = JSON.parse(cli(gw, 'ledger', 'balances', '--json', '--merchant', gw.merchant.merchantId).stdout);
    const receivable = json.balances.find((b: { kind: string }) => b.kind === 'receivable');
    assert.equal(receivable.pspAccountName, 'acq');
    assert.match(receivable.pspAccountId, /^[0-9a-f]{32}$/);
  });

  test('admin balances, postings and discrepancies for an unknown merchant are a 404 merchant_not_found', async () => {
    const unknown = 'f'.repeat(32);
    for (const path of [`/ledger/balances?merchantId=${unknown}`, `/ledger/postings?from=2026-03-01&to=2026-03-02&merchantId=${unknown}`, `/ledger/discrepancies?merchantId=${unknown}`]) {
      const r = await admin(gw, 'GET', path);
      assert.equal(r.status, 404, `${path}: ${JSON.stringify(r.body)}`);
      assert.equal(r.body.error.code, 'merchant_not_found');
    }
    assert.equal((await admin(gw, 'GET', `/ledger/balances?merchantId=${gw.merchant.merchantId}`)).status, 200);
  });

  // Text from PSPs never reaches the operator's terminal raw. A settlement report's line reference
  // is PSP text: one holding control characters is refused by name (no reference holds one, and
  // PostgreSQL refuses a NUL), and the refusal does not print it either.
  test('reconcile refuses a report reference holding control characters, naming the line, and prints none of them', () => {
    const ref = 'x\u001b]0;owned\u0007\nfake  open  missing_line';
    const report = {
      format: 'switchyard-settlement-report/1', pspAccount: 'acq', merchantId: gw.merchant.merchantId, day: '2026-03-09',
      lines: [{ reference: ref, type: 'capture', gross: '1.00', fee: '0.00', net: '1.00', currency: 'EUR', valueDate: '2026-03-10' }],
      payouts: [{ currency: 'EUR', amount: '1.00', valueDate: '2026-03-10' }],
    };
    const file = join(gw.dataDir, 'esc.json');
    writeFileSync(file, JSON.stringify(report));
    const r = cli(gw, 'reconcile', '--psp-account', 'acq', '--file', file);
    assert.notEqual(r.status, 0, r.stdout);
    assert.match(r.stderr, /lines\[0\]: a reference must not contain control characters/);
    assert.ok(!(r.stdout + r.stderr).includes('\u001b'), `ESC reached the terminal: ${JSON.stringify(r.stdout + r.stderr)}`);
    const listed = cli(gw, 'ledger', 'discrepancies', '--status', 'open');
    assert.equal(listed.status, 0, listed.stderr);
    assert.ok(!listed.stdout.includes('owned'), `nothing of the refused report was recorded: ${JSON.stringify(listed.stdout)}`);
  });

  // What disagreed is on the line: the operator needed --json to see any amount.
  test('ledger discrepancies prints what each side said, in the currency\'s decimals, with the line\'s fee and net where its net is wrong', async () => {
    const paid = await fetch(`${gw.url}/v1/payments`, {
      method: 'POST', headers: { authorization: `Bearer ${gw.merchant.accessToken}`, 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ entityId: gw.merchant.entityId, amount: '100.00', currency: 'EUR', paymentType: 'DB', 'card.number': '4200000000000000', 'card.holder': 'J J', 'card.expiryMonth': '05', 'card.expiryYear': '2034', 'card.cvv': '123', paymentBrand: 'VISA' }),
    });
    const sale = await paid.json() as { id: string };
    const report = {
      format: 'switchyard-settlement-report/1', pspAccount: 'acq', merchantId: gw.merchant.merchantId, day: '2026-03-10',
      lines: [
        { reference: sale.id, type: 'capture', gross: '100.00', fee: '1.70', net: '100.00', currency: 'EUR', valueDate: '2026-03-11' },
        { reference: 'nobody-knows-me', type: 'capture', gross: '5.00', fee: '0.00', net: '5.00', currency: 'EUR', valueDate: '2026-03-11' },
      ],
      payouts: [{ currency: 'EUR', amount: '105.00', valueDate: '2026-03-11' }],
    };
    const file = join(gw.dataDir, 'net.json');
    writeFileSync(file, JSON.stringify(report));
    const r = cli(gw, 'reconcile', '--psp-account', 'acq', '--file', file);
    assert.equal(r.status, 0, r.stderr);
    const listed = cli(gw, 'ledger', 'discrepancies', '--status', 'open');
    assert.equal(listed.status, 0, listed.stderr);
    const lines = listed.stdout.split('\n');
    assert.match(lines.find((l) => l.includes(`amount_mismatch`) && l.includes(sale.id)) ?? '', /ledger 100\.00, report 100\.00 \(fee 1\.70, net 100\.00\)/, listed.stdout);
    assert.match(lines.find((l) => l.includes('nobody-knows-me')) ?? '', /unknown_reference .*ledger none, report 5\.00$/, listed.stdout);
  });

  // The window is [from, to) of ISO dates; 2026-02-30 is not a date.
  test('export refuses an impossible ISO date instead of silently rolling it into March', async () => {
    const r = await admin(gw, 'GET', '/ledger/postings?from=2026-02-01&to=2026-02-30');
    assert.equal(r.status, 400, JSON.stringify(r.body));
    const c = cli(gw, 'ledger', 'export', '--from', '2026-02-01', '--to', '2026-02-31');
    assert.equal(c.status, 2, c.stdout.slice(0, 200));
  });
});
