/**
 * Settlement reports as PSPs send them: lines in any order and a cent off, dispute lines naming the
 * capture, days that net to nothing, currencies of 0 and 3 decimals, files saved with a BOM.
 */
import { after, beforeEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { manualClock } from '../src/runtime/clock.ts';
import { Cvv, Pan } from '../src/vault/card.ts';
import type { Currency } from '../src/money/money.ts';
import { parseSettlementReport, serializeSettlementReport } from '../src/processors/settlement-report.ts';
import type { SettlementAccount } from '../src/ledger/store.ts';
import { type Gateway } from './support/harness.ts';
import { gatewayWithSettlementAccount } from './support/settlement.ts';

const dayStart = Date.UTC(2026, 2, 10);
const iso = (ms: number) => new Date(ms).toISOString().slice(0, 10);
const card = () => ({ pan: new Pan('4200000000000000'), cvv: new Cvv('123'), holder: 'Jane Jones', expiryMonth: '05', expiryYear: '2034', brand: 'VISA' as const });

describe('settlement reports as PSPs send them (sqlite)', () => {
  let clock = manualClock(dayStart + 60_000);
  let gw: Gateway | undefined; let account: SettlementAccount;
  beforeEach(async () => { await gw?.close(); clock = manualClock(dayStart + 60_000); ({ gw, account } = await gatewayWithSettlementAccount(clock, 'sqlite')); });
  after(async () => { await gw?.close(); });

  const merchant = async () => (await gw!.app.merchants.byId(gw!.merchant.merchantId))!;
  const scope = () => ({ channel: 'opp' as const, entityId: gw!.merchant.entityId });
  const pay = async (kind: 'sale' | 'authorize', amount: number, currency: Currency) => {
    const r = await gw!.app.payments.pay({
      merchant: await merchant(), scope: scope(), returnUrls: [], merchantTransactionId: undefined, context: {}, testParameters: {},
      workflowCode: 'payment-acceptance', kind, amount: { amount, currency }, card: card(),
    });
    assert.ok(r.ok && r.value.operation.status === 'succeeded', JSON.stringify(r));
    return r.value;
  };
  const follow = async (kind: 'capture' | 'refund' | 'chargeback' | 'chargeback_reversal', referencedId: string, amount: number, currency: Currency) => {
    const r = await gw!.app.payments.followUp({ merchant: await merchant(), scope: scope(), kind: kind as any, referencedId, amount: { amount, currency }, merchantTransactionId: undefined, context: {}, testParameters: {} });
    assert.ok(r.ok && r.value.operation.status === 'succeeded', JSON.stringify(r));
    return r.value;
  };
  type L = { reference: string; type: string; gross: string; fee: string; net: string; currency: string };
  const raw = (lines: L[], payouts: { currency: string; amount: string }[]) => {
    const vd = iso(clock.now() + 86_400_000);
    return { format: 'switchyard-settlement-report/1', pspAccount: 'acq', merchantId: gw!.merchant.merchantId, day: iso(clock.now()),
      lines: lines.map((l) => ({ ...l, valueDate: vd })), payouts: payouts.map((p) => ({ ...p, valueDate: vd })) };
  };
  const report = (lines: L[], payouts: { currency: string; amount: string }[]) => {
    const p = parseSettlementReport(raw(lines, payouts)); assert.ok(p.ok, JSON.stringify(p)); return p.value;
  };
  const kinds = (out: any) => out.value.discrepancies.map((d: any) => d.kind).sort();

  test('a chargeback line one minor unit off the gateway\'s chargeback (named by its capture) is an amount_mismatch, not a late_chargeback plus a missing_line', async () => {
    const s = await pay('sale', 5000, 'EUR' as Currency);
    await follow('chargeback', s.payment.id, 5000, 'EUR' as Currency);
    const out = await gw!.app.settlement.reconcile(account, report([
      { reference: s.operation.id, type: 'capture', gross: '50.00', fee: '0.00', net: '50.00', currency: 'EUR' },
      { reference: s.operation.id, type: 'chargeback', gross: '-49.99', fee: '0.00', net: '-49.99', currency: 'EUR' },
    ], [{ currency: 'EUR', amount: '0.01' }]));
    assert.ok(out.ok);
    // The gateway has a chargeback of this capture (a late_chargeback would send the operator to
    // record a second one); the line's gross differs from it: an amount mismatch, and nothing missing.
    assert.deepEqual(kinds(out), ['amount_mismatch'], JSON.stringify(out.value.discrepancies));
  });

  test('a clean day whose lines net to zero, and whose PSP lists no payout for it, raises nothing', async () => {
    const s = await pay('sale', 5000, 'EUR' as Currency);
    const rf = await follow('refund', s.payment.id, 5000, 'EUR' as Currency);
    const out = await gw!.app.settlement.reconcile(account, report([
      { reference: s.operation.id, type: 'capture', gross: '50.00', fee: '0.00', net: '50.00', currency: 'EUR' },
      { reference: rf.operation.id, type: 'refund', gross: '-50.00', fee: '0.00', net: '-50.00', currency: 'EUR' },
    ], []));
    assert.ok(out.ok);
    assert.deepEqual(kinds(out), [], JSON.stringify(out.value.discrepancies));
  });

  test('JPY and KWD lines (0 and 3 decimals) with fees match cleanly; the books verify and nothing stays receivable', async () => {
    const j = await pay('sale', 1500, 'JPY' as Currency);
    const k = await pay('authorize', 12345, 'KWD' as Currency);
    const c = await follow('capture', k.payment.id, 10001, 'KWD' as Currency);
    const out = await gw!.app.settlement.reconcile(account, report([
      { reference: j.operation.id, type: 'capture', gross: '1500', fee: '43', net: '1457', currency: 'JPY' },
      { reference: c.operation.id, type: 'capture', gross: '10.001', fee: '0.170', net: '9.831', currency: 'KWD' },
    ], [{ currency: 'JPY', amount: '1457' }, { currency: 'KWD', amount: '9.831' }]));
    assert.ok(out.ok);
    assert.deepEqual(kinds(out), [], JSON.stringify(out.value.discrepancies));
    assert.equal(await gw!.app.ledger.verify(), undefined);
    const bal = await gw!.app.ledger.balances(gw!.merchant.merchantId);
    assert.deepEqual(bal.filter((b: any) => b.kind === 'receivable' && b.balance !== 0), [], JSON.stringify(bal));
  });

  test('a wrong line for a capture followed by its right line in the same report: the right line settles it', async () => {
    const s = await pay('sale', 5000, 'EUR' as Currency);
    const out = await gw!.app.settlement.reconcile(account, report([
      { reference: s.operation.id, type: 'capture', gross: '50.01', fee: '0.00', net: '50.01', currency: 'EUR' },
      { reference: s.operation.id, type: 'capture', gross: '50.00', fee: '0.00', net: '50.00', currency: 'EUR' },
    ], [{ currency: 'EUR', amount: '100.01' }]));
    assert.ok(out.ok);
    assert.equal(out.value.summary.matched, 1, JSON.stringify(out.value.discrepancies));
  });

  test('the CLI reads a report file saved with a UTF-8 BOM and CRLF line ends, as the admin API reads the same body', async () => {
    const s = await pay('sale', 5000, 'EUR' as Currency);
    const r = report([{ reference: s.operation.id, type: 'capture', gross: '50.00', fee: '0.95', net: '49.05', currency: 'EUR' }], [{ currency: 'EUR', amount: '49.05' }]);
    const file = join(gw!.dataDir, 'bom-report.json');
    writeFileSync(file, '\uFEFF' + serializeSettlementReport(r).replace(/\n/g, '\r\n') + '\r\n\r\n');
    const env: Record<string, string> = { ...process.env as Record<string, string>, SWITCHYARD_DATA_DIR: gw!.dataDir };
    delete env.DATABASE_URL;
    const res = spawnSync(process.execPath, ['src/cli/main.ts', 'reconcile', '--psp-account', 'acq', '--merchant', gw!.merchant.merchantId, '--file', file, '--json'], { env, encoding: 'utf8' });
    assert.equal(res.status, 0, res.stderr);
  });

});

