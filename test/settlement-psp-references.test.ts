/**
 * A settlement report names movements by what the PSP knows. The attempt id a connector sent as
 * the merchant reference, or the PSP's own reference, settles the operation they belong to. A PSP
 * never sees the gateway's own chargeback or chargeback-reversal records (they are reported to the
 * gateway, not sent), so its report names the capture they concern: a reversal line so named
 * settles the gateway's reversal, and a chargeback reported again by its capture, after an earlier
 * report settled it, is a duplicate line, not a chargeback the gateway has no record of.
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

for (const store of ['sqlite', 'postgres'] as const) describe(`settlement: movements named as the PSP knows them (${store})`, { skip: store === 'postgres' && !pgUp ? 'PostgreSQL unreachable' : false }, () => {
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

  test('lines naming the attempt id the PSP was sent, or the PSP\'s own reference, settle their operations: no unknown reference, no missing line', async () => {
    // A cascade: the first account declines, so the sale is made at acq by a second attempt, whose id
    // (the merchant reference acq was sent) is not the operation's.
    assert.ok((await gw!.app.workflows.putAccount(gw!.merchant.merchantId, 'first', { connector: 'simulator', settings: { declines: [{ category: 'soft', amountAtLeast: 0 }] } })).ok);
    assert.ok((await gw!.app.workflows.configure(gw!.merchant.merchantId, 'payment-acceptance', { accounts: ['first', 'acq'], moveOn: ['soft', 'error'] })).ok);
    const db = await opp(gw!, 'POST', '/v1/payments', { ...testCard, amount: '50.00', currency: 'EUR', paymentType: 'DB' });
    assert.equal(db.body.result.code, ok, JSON.stringify(db.body));
    const rf = await bo(db.body.id, 'RF', '20.00');
    assert.equal(rf.body.result.code, ok);
    const attempts = await gw!.app.storage.db.selectFrom('attempts').select(['id', 'transaction_id', 'account_name', 'psp_reference']).where('payment_id', '=', db.body.id).orderBy('created_at').execute();
    const sale = attempts.find((a) => a.transaction_id === db.body.id && a.account_name === 'acq')!;
    const refund = attempts.find((a) => a.transaction_id === rf.body.id)!;
    assert.notEqual(sale.id, db.body.id, 'acq knows the second attempt, not the operation');
    assert.ok(refund.psp_reference);
    const lineDay = iso(clock.now() + 86_400_000);
    const parsed = parseSettlementReport({
      format: 'switchyard-settlement-report/1', pspAccount: 'acq', merchantId: gw!.merchant.merchantId, day: iso(clock.now()),
      lines: [
        { reference: sale.id, type: 'capture', gross: '50.00', fee: '0.95', net: '49.05', currency: 'EUR', valueDate: lineDay },
        // The PSP's own line id, with its reference of the refund beside it.
        { reference: `line-${refund.psp_reference}`, pspReference: refund.psp_reference!, type: 'refund', gross: '-20.00', fee: '0.00', net: '-20.00', currency: 'EUR', valueDate: lineDay },
      ],
      payouts: [{ currency: 'EUR', amount: '29.05', valueDate: lineDay }],
    });
    assert.ok(parsed.ok);
    const out = await gw!.app.settlement.reconcile(account, parsed.value);
    assert.ok(out.ok);
    assert.deepEqual(kinds(out), [], JSON.stringify(out.value.discrepancies));
    assert.equal(out.value.summary.matched, 2);
    assert.equal(await gw!.app.ledger.verify(), undefined);
  });

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
