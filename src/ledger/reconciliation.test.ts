import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Currency } from '../money/money.ts';
import type { SettlementLine, SettlementReport } from '../processors/settlement-report.ts';
import { balancesOf, firstBrokenInvariant, type Posting } from './model.ts';
import { reconcile, settlementPostingsOf, summaryOf, type LedgerMovement } from './reconciliation.ts';

const EUR = 'EUR' as Currency;
const mv = (operationId: string, type: LedgerMovement['type'], gross: number, settled = false): LedgerMovement => ({
  operationId, paymentId: `pay-${operationId}`, merchantId: 'm1', pspAccountId: 'acq', type, gross, currency: 'EUR', settled,
});
const line = (reference: string, type: SettlementLine['type'], gross: number, fee: number): SettlementLine => ({
  reference, pspReference: undefined, type, gross, fee, net: gross - fee, currency: EUR, valueDate: '2026-01-02',
});
const reportOf = (lines: SettlementLine[], payout = lines.reduce((s, l) => s + l.net, 0)): SettlementReport => ({
  pspAccount: 'acq', merchantId: 'm1', day: '2026-01-01', lines, payouts: [{ currency: EUR, amount: payout, valueDate: '2026-01-02' }],
});

test('lines that agree with the ledger match; each disagreement is one discrepancy of its kind', () => {
  const known = [mv('c1', 'capture', 1000), mv('c2', 'capture', 2000), mv('r1', 'refund', -300), mv('c3', 'capture', 500, true), mv('c4', 'capture', 700)];
  const report = reportOf([
    line('c1', 'capture', 1000, 30), line('r1', 'refund', -300, 0),
    line('c2', 'capture', 2100, 30), // amount differs
    line('zz', 'capture', 100, 1), // unknown
    line('c1', 'chargeback', -1000, 1500), // no chargeback recorded
    line('c3', 'capture', 500, 10), // settled before
  ]);
  const r = reconcile({ report, merchantId: 'm1', known, due: [...known, mv('c5', 'capture', 900)] });
  assert.deepEqual(r.matched.map((m) => m.line.reference), ['c1', 'r1']);
  assert.deepEqual(r.discrepancies.map((d) => `${d.kind}:${d.reference}`), [
    'amount_mismatch:c2', 'unknown_reference:zz', 'late_chargeback:c1', 'duplicate_line:c3', 'missing_line:c4', 'missing_line:c5',
  ]);
  assert.deepEqual(r.discrepancies[0], { kind: 'amount_mismatch', reference: 'c2', operationId: 'c2', paymentId: 'pay-c2', merchantId: 'm1', currency: 'EUR', expected: 2000, reported: 2100 });
});

test('a line twice in one report matches once; a payout that is not the sum of the nets is a discrepancy', () => {
  const r = reconcile({ report: reportOf([line('c1', 'capture', 1000, 30), line('c1', 'capture', 1000, 30)], 1), merchantId: 'm1', known: [mv('c1', 'capture', 1000)], due: [] });
  assert.equal(r.matched.length, 1);
  assert.deepEqual(r.discrepancies.map((d) => [d.kind, d.expected, d.reported]), [['duplicate_line', 1000, 1000], ['payout_mismatch', 1940, 1]]);
});

test('matched lines post the fee and move the net out of receivable: a capture and its refund leave nothing receivable', () => {
  const report = reportOf([line('c1', 'capture', 1000, 30), line('r1', 'refund', -300, 5)]);
  const known = [mv('c1', 'capture', 1000), mv('r1', 'refund', -300)];
  const r = reconcile({ report, merchantId: 'm1', known, due: known });
  const postings = r.matched.flatMap((m) => settlementPostingsOf(m, 'rep', 1));
  assert.deepEqual(postings.map((p) => [p.id, p.debit, p.credit, p.amount]), [
    ['c1:settled:0', 'fees', 'receivable', 30], ['c1:settled:1', 'settled', 'receivable', 970],
    ['r1:settled:0', 'fees', 'receivable', 5], ['r1:settled:1', 'receivable', 'settled', 305],
  ]);
  // With the movements themselves (receivable 1000 in, 300 out) the account is square.
  const movements = [
    { merchantId: 'm1', currency: 'EUR', pspAccountId: 'acq', debit: 'receivable' as const, credit: 'payable' as const, amount: 1000 },
    { merchantId: 'm1', currency: 'EUR', pspAccountId: 'acq', debit: 'refunds' as const, credit: 'receivable' as const, amount: 300 },
  ];
  const b = Object.fromEntries(balancesOf([...movements, ...postings]).map((x) => [x.kind, x.balance]));
  assert.deepEqual(b, { receivable: 0, payable: -1000, refunds: 300, fees: 35, settled: 665 });
  const s = summaryOf('rep', 'acq', report, r);
  assert.deepEqual(s.payouts, [{ currency: 'EUR', reported: 665, matchedNet: 665, fees: 35 }]);
});

test('verify: a settlement that does not add up to its movement is a broken invariant', () => {
  const capture: Posting = {
    id: 'c1:posted:0', transferId: 'c1', operationId: 'c1', paymentId: 'p1', merchantId: 'm1', currency: 'EUR', pspAccountId: 'acq',
    debit: 'receivable', credit: 'payable', amount: 1000, phase: 'posted', leg: 0, createdAt: 1,
  };
  const ops = [{ payment: { id: 'p1' }, operations: [{ id: 'p1', paymentId: 'p1', kind: 'sale' as const, status: 'succeeded' as const, amount: { amount: 1000, currency: EUR }, referencedId: undefined, createdAt: 1 }] }];
  const m = reconcile({ report: reportOf([line('c1', 'capture', 1000, 30)]), merchantId: 'm1', known: [{ ...mv('c1', 'capture', 1000), paymentId: 'p1' }], due: [] }).matched[0]!;
  const settled = settlementPostingsOf(m, 'rep', 2);
  assert.equal(firstBrokenInvariant({ postings: [capture, ...settled], payments: ops }), undefined);
  assert.match(firstBrokenInvariant({ postings: [capture, settled[0]!], payments: ops }) ?? '', /^settlement: operation c1/);
});
