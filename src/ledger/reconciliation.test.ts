import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Currency } from '../money/money.ts';
import type { SettlementLine, SettlementReport } from '../processors/settlement-report.ts';
import { balancesOf, firstBrokenInvariant, type Posting } from './model.ts';
import { reconcile, settlementPostingsOf, summaryOf, type LedgerMovement } from './reconciliation.ts';

const EUR = 'EUR' as Currency;
const mv = (operationId: string, type: LedgerMovement['type'], gross: number, settled = false, undo = false): LedgerMovement => ({
  operationId, paymentId: `pay-${operationId}`, merchantId: 'm1', pspAccountId: 'acq', type, gross, currency: 'EUR', undo, settled,
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

test('a chargeback line naming its capture, twice in one report: the first settles the chargeback, the second is a duplicate_line, not a late_chargeback', () => {
  const capture = { ...mv('c1', 'capture', 1000, true), paymentId: 'pay-1' };
  const chargeback = { ...mv('cb1', 'chargeback', -1000), paymentId: 'pay-1' };
  const r = reconcile({
    report: reportOf([line('c1', 'chargeback', -1000, 0), line('c1', 'chargeback', -1000, 0)]), merchantId: 'm1',
    known: [capture], due: [chargeback], chargebacks: [chargeback],
  });
  assert.deepEqual(r.matched.map((m) => m.movement.operationId), ['cb1']);
  // A late_chargeback would tell the operator the scheme took money back that the gateway has no
  // chargeback for, and an operator would record a second one.
  assert.deepEqual(r.discrepancies.map((d) => [d.kind, d.operationId]), [['duplicate_line', 'cb1']]);
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

test('verify: a capture settled and then undone by its PSP stands until its clawback settles; a clawback that does not add up is broken', () => {
  const base = { transferId: 'a1', operationId: 'c1', paymentId: 'p1', merchantId: 'm1', currency: 'EUR', pspAccountId: 'acq', amount: 1000, createdAt: 1 } as const;
  const hold: Posting = { ...base, id: 'a1:pending:0', operationId: 'a1', debit: 'authorized', credit: 'holds', phase: 'pending', leg: 0 };
  const capture: Posting = { ...base, id: 'c1:posted:1', debit: 'receivable', credit: 'payable', phase: 'posted', leg: 1 };
  const undo: Posting = { ...base, id: 'c1:undone:3', debit: 'payable', credit: 'receivable', phase: 'posted', leg: 3 };
  // The hold released by the capture, and taken up again by its undo.
  const holds: Posting[] = [
    hold, { ...base, id: 'c1:posted:0', debit: 'holds', credit: 'authorized', phase: 'posted', leg: 0 },
    { ...base, id: 'c1:undone:2', debit: 'authorized', credit: 'holds', phase: 'posted', leg: 2 },
  ];
  const operations = [
    { id: 'a1', paymentId: 'p1', kind: 'authorize' as const, status: 'succeeded' as const, amount: { amount: 1000, currency: EUR }, referencedId: undefined, createdAt: 1 },
    { id: 'c1', paymentId: 'p1', kind: 'capture' as const, status: 'failed' as const, amount: { amount: 1000, currency: EUR }, referencedId: 'a1', createdAt: 2 },
  ];
  const ops = [{ payment: { id: 'p1' }, operations }];
  const paid = reconcile({ report: reportOf([line('c1', 'capture', 1000, 30)]), merchantId: 'm1', known: [{ ...mv('c1', 'capture', 1000), paymentId: 'p1' }], due: [] });
  const settled = paid.matched.flatMap((m) => settlementPostingsOf(m, 'rep1', 2));
  const verify = (...ps: Posting[]) => firstBrokenInvariant({ postings: [...holds, ...ps], payments: ops });
  assert.equal(verify(capture, undo, ...settled), undefined, 'the PSP owes the 1000 it paid out back');
  assert.equal(balancesOf([...holds, capture, undo, ...settled]).find((b) => b.kind === 'receivable')?.balance, -1000);
  assert.match(verify(capture, undo, settled[0]!) ?? '', /^settlement: operation c1 moved 1000 receivable but its settlement 30/, 'the first settlement must still add up');

  // The clawback: the same reference and type, the opposite sign; the undo's line, not the capture's.
  const known = [{ ...mv('c1', 'capture', 1000, true), paymentId: 'p1' }, { ...mv('c1', 'capture', -1000, false, true), paymentId: 'p1' }];
  const back = reconcile({ report: reportOf([line('c1', 'capture', -1000, 0)]), merchantId: 'm1', known, due: [known[1]!] });
  assert.deepEqual(back.discrepancies, []);
  const clawed = back.matched.flatMap((m) => settlementPostingsOf(m, 'rep2', 3));
  assert.deepEqual(clawed.map((p) => [p.id, p.debit, p.credit, p.amount, p.leg]), [['c1:settled:2', 'receivable', 'settled', 1000, 2]]);
  assert.equal(verify(capture, undo, ...settled, ...clawed), undefined);
  assert.equal(balancesOf([capture, undo, ...settled, ...clawed]).find((b) => b.kind === 'receivable')?.balance, 0);
  const short = { ...clawed[0]!, amount: 900 };
  const rest = { ...short, id: 'c1:settled:3', leg: 3, debit: 'receivable' as const, credit: 'fees' as const, amount: 100 };
  assert.match(verify(capture, undo, ...settled, short, rest) ?? '', /^bounds: fees/, 'a negative fee is out of bounds');
  assert.match(verify(capture, undo, ...settled, short) ?? '', /^settlement: operation c1 undone moved -1000 receivable but its clawback -900/);
  assert.match(verify(capture, ...settled, ...clawed) ?? '', /^settlement: operation c1 has a clawback settled but no settled movement undone/);
  assert.match(verify(capture, undo, ...clawed) ?? '', /^settlement: operation c1 has a clawback settled but no settled movement undone/);

  // The capture's line again, and the clawback's: both duplicates, each of its own movement (the
  // clawback's read after the line of the money it takes back).
  const again = reconcile({ report: reportOf([line('c1', 'capture', -1000, 0), line('c1', 'capture', 1000, 30)]), merchantId: 'm1', known: known.map((m) => ({ ...m, settled: true })), due: [] });
  assert.deepEqual(again.discrepancies.filter((d) => d.kind !== 'payout_mismatch').map((d) => [d.kind, d.expected]), [['duplicate_line', 1000], ['duplicate_line', -1000]]);
});

const pspLine = (reference: string, pspReference: string, gross: number): SettlementLine => ({
  reference, pspReference, type: 'capture', gross, fee: 0, net: gross, currency: EUR, valueDate: '2026-01-02',
});

// Stripe's partial captures of one PaymentIntent all answer with its id (pi_…), so the operations
// share their PSP reference. A report naming each capture by its own line id, with the PaymentIntent
// as pspReference, settles each once, by its amount, whatever the order of the lines.
test('two captures sharing a PSP reference are each settled by their own line', () => {
  const known = [mv('cap1', 'capture', 3000), mv('cap2', 'capture', 7000)];
  const lines = [pspLine('py_A', 'pi_X', 3000), pspLine('py_B', 'pi_X', 7000)];
  const report: SettlementReport = { pspAccount: 'acq', merchantId: 'm1', day: '2026-01-01', lines, payouts: [{ currency: EUR, amount: 10000, valueDate: '2026-01-02' }] };
  const knownAs = new Map([['pi_X', ['pa1', 'cap1', 'cap2']]]);
  const r = reconcile({ report, merchantId: 'm1', known, due: known, knownAs });
  assert.deepEqual(r.discrepancies.map((d) => `${d.kind}:${d.reference}`), []);
  assert.deepEqual(r.matched.map((m) => m.movement.operationId).sort(), ['cap1', 'cap2']);
});

test('line order differing from operation order: the 7000 line still matches the 7000 capture', () => {
  const known = [mv('cap1', 'capture', 3000), mv('cap2', 'capture', 7000)];
  const lines = [pspLine('py_B', 'pi_X', 7000), pspLine('py_A', 'pi_X', 3000)];
  const report: SettlementReport = { pspAccount: 'acq', merchantId: 'm1', day: '2026-01-01', lines, payouts: [{ currency: EUR, amount: 10000, valueDate: '2026-01-02' }] };
  const r = reconcile({ report, merchantId: 'm1', known, due: known, knownAs: new Map([['pi_X', ['pa1', 'cap1', 'cap2']]]) });
  assert.deepEqual(r.discrepancies.map((d) => `${d.kind}:${d.reference}`), []);
});
