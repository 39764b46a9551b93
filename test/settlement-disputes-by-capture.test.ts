/**
 * A PSP never sees the gateway's own chargeback or chargeback-reversal records (they are reported
 * to the gateway, not sent), so its settlement report names the capture they concern. A reversal
 * line so named settles the gateway's reversal, and a chargeback reported again by its capture, after
 * an earlier report settled it, is a duplicate line, not a chargeback the gateway has no record of.
 */
import { after, beforeEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { manualClock } from '../src/runtime/clock.ts';
import { parseSettlementReport } from '../src/processors/settlement-report.ts';
import type { SettlementAccount } from '../src/ledger/store.ts';
import { opp, postgresAvailable, testCard, type Gateway } from './support/harness.ts';
import { gatewayWithSettlementAccount } from './support/settlement.ts';

const pgUp = await postgresAvailable();
const ok = '000.100.110';
const dayStart = Date.UTC(2026, 2, 10);
const iso = (ms: number) => new Date(ms).toISOString().slice(0, 10);

for (const store of ['sqlite', 'postgres'] as const) describe(`settlement: disputes a PSP reports by the capture (${store})`, { skip: store === 'postgres' && !pgUp ? 'PostgreSQL unreachable' : false }, () => {
  let clock = manualClock(dayStart + 60_000);
  let gw: Gateway | undefined; let account: SettlementAccount;
  beforeEach(async () => { await gw?.close(); clock = manualClock(dayStart + 60_000); ({ gw, account } = await gatewayWithSettlementAccount(clock, store)); });
  after(async () => { await gw?.close(); });
  const bo = (id: string, paymentType: string, amount?: string) => opp(gw!, 'POST', `/v1/payments/${id}`, { paymentType, ...(amount ? { amount, currency: 'EUR' } : {}) });
  const report = (lines: [string, string, string, string, string][], payout: string) => {
    const vd = iso(clock.now() + 86_400_000);
    const p = parseSettlementReport({ format: 'switchyard-settlement-report/1', pspAccount: 'acq', merchantId: gw!.merchant.merchantId, day: iso(clock.now()),
      lines: lines.map(([reference, type, gross, fee, net]) => ({ reference, type, gross, fee, net, currency: 'EUR', valueDate: vd })),
      payouts: [{ currency: 'EUR', amount: payout, valueDate: vd }] });
    assert.ok(p.ok); return p.value;
  };
  const kinds = (out: any) => out.value.discrepancies.map((d: any) => d.kind).sort();

  test('a chargeback reversal reported by the capture it restores (the PSP never saw the gateway\'s reversal id) is matched, not unknown + missing', async () => {
    const db = await opp(gw!, 'POST', '/v1/payments', { ...testCard, amount: '50.00', currency: 'EUR', paymentType: 'DB' });
    const cb = await bo(db.body.id, 'CB', '50.00'); assert.equal(cb.body.result.code, ok);
    const cr = await bo(cb.body.id, 'CR', '50.00'); assert.equal(cr.body.result.code, ok);
    const out = await gw!.app.settlement.reconcile(account, report([
      [db.body.id, 'capture', '50.00', '0.95', '49.05'],
      [db.body.id, 'chargeback', '-50.00', '15.00', '-65.00'],
      [db.body.id, 'chargeback_reversal', '50.00', '0.00', '50.00'],
    ], '34.05'));
    assert.ok(out.ok);
    assert.deepEqual(kinds(out), [], JSON.stringify(out.value.discrepancies));
    assert.equal(await gw!.app.ledger.verify(), undefined);
  });

  test('a chargeback reported again by its capture, after a report settled it, is a duplicate line, not a late chargeback', async () => {
    const db = await opp(gw!, 'POST', '/v1/payments', { ...testCard, amount: '50.00', currency: 'EUR', paymentType: 'DB' });
    assert.equal((await bo(db.body.id, 'CB', '20.00')).body.result.code, ok);
    const first = await gw!.app.settlement.reconcile(account, report([
      [db.body.id, 'capture', '50.00', '0.95', '49.05'], [db.body.id, 'chargeback', '-20.00', '15.00', '-35.00'],
    ], '14.05'));
    assert.ok(first.ok); assert.deepEqual(kinds(first), []);
    clock.advance(86_400_000);
    const again = await gw!.app.settlement.reconcile(account, report([[db.body.id, 'chargeback', '-20.00', '15.00', '-35.00']], '-35.00'));
    assert.ok(again.ok);
    assert.deepEqual(kinds(again), ['duplicate_line']);
  });
});
