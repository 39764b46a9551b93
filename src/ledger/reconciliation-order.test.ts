/** Which ledger movement each line of a report settles, whatever the order of the lines. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Currency } from '../money/money.ts';
import type { SettlementLine, SettlementReport } from '../processors/settlement-report.ts';
import { reconcile, type LedgerMovement } from './reconciliation.ts';

const EUR = 'EUR' as Currency;
const mv = (operationId: string, gross: number): LedgerMovement => ({
  operationId, paymentId: 'pay1', merchantId: 'm1', pspAccountId: 'acq', type: 'capture', gross, currency: 'EUR', undo: false, settled: false,
});
const pspLine = (reference: string, pspReference: string, gross: number): SettlementLine => ({
  reference, pspReference, type: 'capture', gross, fee: 0, net: gross, currency: EUR, valueDate: '2026-01-02',
});

test('two partial captures sharing a PSP reference, the first line one minor unit off: the exact line still settles its own capture', () => {
  const known = [mv('cap1', 6000), mv('cap2', 4000)];
  // The PSP reports capture 2 one cent short, listed first; capture 1 exactly.
  const lines = [pspLine('py_B', 'pi_X', 3999), pspLine('py_A', 'pi_X', 6000)];
  const report: SettlementReport = { pspAccount: 'acq', merchantId: 'm1', day: '2026-01-01', lines, payouts: [{ currency: EUR, amount: 9999, valueDate: '2026-01-02' }] };
  const r = reconcile({ report, merchantId: 'm1', known, due: known, knownAs: new Map([['pi_X', ['pa1', 'cap1', 'cap2']]]) });
  assert.deepEqual(r.matched.map((m) => m.movement.operationId), ['cap1'], JSON.stringify(r.discrepancies));
  assert.deepEqual(r.discrepancies.map((d) => `${d.kind}:${d.operationId}:${d.expected}:${d.reported}`), ['amount_mismatch:cap2:4000:3999']);
});

test('a capture the PSP paid out in two lines: both lines disagree with it, neither is called a duplicate of a movement never settled', () => {
  const known = [mv('cap1', 10000)];
  const lines = [pspLine('cap1', 'pi_Y', 6000), pspLine('cap1', 'pi_Y', 4000)];
  const report: SettlementReport = { pspAccount: 'acq', merchantId: 'm1', day: '2026-01-01', lines, payouts: [{ currency: EUR, amount: 10000, valueDate: '2026-01-02' }] };
  const r = reconcile({ report, merchantId: 'm1', known, due: known });
  assert.deepEqual(r.matched, []);
  assert.deepEqual(r.discrepancies.map((d) => `${d.kind}:${d.operationId}:${d.expected}:${d.reported}`), ['amount_mismatch:cap1:10000:6000', 'amount_mismatch:cap1:10000:4000']);
});

test('the same line twice: the first settles the capture, the second is a duplicate', () => {
  const known = [mv('cap1', 5000)];
  const lines = [pspLine('cap1', 'pi_Z', 5000), pspLine('cap1', 'pi_Z', 5000)];
  const report: SettlementReport = { pspAccount: 'acq', merchantId: 'm1', day: '2026-01-01', lines, payouts: [{ currency: EUR, amount: 10000, valueDate: '2026-01-02' }] };
  const r = reconcile({ report, merchantId: 'm1', known, due: known });
  assert.deepEqual(r.matched.map((m) => m.movement.operationId), ['cap1']);
  assert.deepEqual(r.discrepancies.map((d) => d.kind), ['duplicate_line']);
});

const settledCapture: LedgerMovement = { operationId: 'cap1', paymentId: 'pay1', merchantId: 'm1', pspAccountId: 'acq', type: 'capture', gross: 10000, currency: 'EUR', undo: false, settled: true };
const chargeback: LedgerMovement = { operationId: 'cb1', paymentId: 'pay1', merchantId: 'm1', pspAccountId: 'acq', type: 'chargeback', gross: -10000, currency: 'EUR', undo: false, settled: false };
// The PSP names the capture (it knows no id of the gateway's chargeback record).
const chargebackLine = (gross: number): SettlementLine => ({ reference: 'cap1', pspReference: 'psp1', type: 'chargeback', gross, fee: 0, net: gross, currency: EUR, valueDate: '2026-01-02' });

const reconcileChargebackLines = (lines: SettlementLine[]) => {
  const report: SettlementReport = { pspAccount: 'acq', merchantId: 'm1', day: '2026-01-01', lines, payouts: [{ currency: EUR, amount: -19999, valueDate: '2026-01-02' }] };
  const r = reconcile({ report, merchantId: 'm1', known: [settledCapture], due: [chargeback], chargebacks: [chargeback] });
  return { matched: r.matched.map((m) => m.movement.operationId), discrepancies: r.discrepancies.map((d) => `${d.kind}:${d.reported}`).sort() };
};

test('chargeback lines naming the capture, one a cent off: the same outcome whichever is listed first', () => {
  const offFirst = reconcileChargebackLines([chargebackLine(-9999), chargebackLine(-10000)]);
  const rightFirst = reconcileChargebackLines([chargebackLine(-10000), chargebackLine(-9999)]);
  assert.deepEqual(offFirst.matched, ['cb1']);
  assert.deepEqual(rightFirst, offFirst, `the order of the lines decided the outcome: ${JSON.stringify({ offFirst, rightFirst })}`);
  // The cent-off line repeats a chargeback this report settled: a duplicate, not one the gateway lacks.
  assert.deepEqual(offFirst.discrepancies, ['duplicate_line:-9999']);
});
