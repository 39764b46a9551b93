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
