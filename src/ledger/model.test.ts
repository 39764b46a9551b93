import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import type { Currency } from '../money/money.ts';
import type { Operation, OperationKind, OperationStatus } from '../payments/model.ts';
import { decideFollowUp, initialOf } from '../payments/model.ts';
import {
  balancesOf, expectedTotalsOf, firstBrokenInvariant, ledgerTotalsOf, postingsOf, type Posting,
} from './model.ts';

let n = 0;
const op = (paymentId: string, kind: OperationKind, amount: number, status: OperationStatus = 'succeeded', referencedId?: string, currency: Currency = 'EUR' as Currency): Operation =>
  ({ id: `op${++n}`, paymentId, kind, status, amount: { amount, currency }, referencedId, createdAt: n });

const payment = (id: string, currency = 'EUR') => ({
  id, merchantId: 'm1', channel: 'opp', entityId: undefined, initialKind: 'authorize', status: 'authorized', amount: 0, currency,
  cardId: undefined, method: 'card', live: false, pspAccountId: 'acc1', workflowCode: undefined, version: 1, createdAt: 0, updatedAt: 0,
}) as const;

/** Posts each operation as the engine would announce it, in order, each change seeing the operations so far. */
function ledgerOf(paymentId: string, ops: readonly Operation[], currency = 'EUR'): Posting[] {
  const out: Posting[] = [];
  for (let i = 0; i < ops.length; i++) {
    out.push(...postingsOf({ payment: payment(paymentId, currency) as never, operation: ops[i] as never, operations: ops.slice(0, i + 1) as never }, 0));
  }
  return out;
}

const balance = (ps: readonly Posting[], kind: string) => balancesOf(ps).find((b) => b.kind === kind)?.balance ?? 0;

test('authorize holds, partial captures post it, a void releases the rest', () => {
  const pa = op('p', 'authorize', 1000);
  const ops = [pa, op('p', 'capture', 300, 'succeeded', pa.id), op('p', 'capture', 200, 'succeeded', pa.id), op('p', 'void', 0, 'succeeded', pa.id)];
  const ps = ledgerOf('p', ops);
  assert.equal(balance(ps, 'authorized'), 0);
  assert.equal(balance(ps, 'receivable'), 500);
  assert.equal(balance(ps, 'payable'), -500);
  assert.deepEqual(ps.map((p) => p.phase), ['pending', 'posted', 'posted', 'posted', 'posted', 'voided']);
  assert.equal(ps.at(-1)!.amount, 500);
  assert.ok(ps.every((p) => p.transferId === pa.id), 'captures and the void belong to the hold\'s transfer');
  assert.equal(firstBrokenInvariant({ postings: ps, payments: [{ payment: { id: 'p' }, operations: ops }] }), undefined);
});

test('a sale with refund, chargeback and its reversal', () => {
  const db = op('s', 'sale', 1000);
  const cb = op('s', 'chargeback', 400, 'succeeded', db.id);
  const ops = [db, op('s', 'refund', 100, 'succeeded', db.id), cb, op('s', 'chargeback_reversal', 400, 'succeeded', cb.id)];
  const ps = ledgerOf('s', ops);
  assert.equal(balance(ps, 'receivable'), 900);
  assert.equal(balance(ps, 'refunds'), 100);
  assert.equal(balance(ps, 'chargebacks'), 0);
  assert.deepEqual(ledgerTotalsOf(ps), expectedTotalsOf(ops));
});

test('only succeeded operations post', () => {
  for (const status of ['pending', 'failed', 'unknown', 'awaiting'] as const) {
    assert.deepEqual(ledgerOf('x', [op('x', 'authorize', 10, status)]), []);
  }
});

test('the checker names a broken invariant', () => {
  const pa = op('p', 'authorize', 1000);
  const ops = [pa, op('p', 'capture', 300, 'succeeded', pa.id)];
  const ps = ledgerOf('p', ops);
  const payments = [{ payment: { id: 'p' }, operations: ops }];
  assert.match(firstBrokenInvariant({ postings: ps.slice(0, 1), payments })!, /^payment: p captured/);
  assert.match(firstBrokenInvariant({ postings: [...ps, { ...ps[0]!, id: 'dup', leg: 9 }], payments })!, /^payment: p authorized/);
  assert.match(firstBrokenInvariant({ postings: [{ ...ps[0]!, debit: 'holds', credit: 'authorized' }], payments: [] })!, /^bounds: authorized/);
  assert.match(firstBrokenInvariant({ postings: [{ ...ps[0]!, amount: -5 }], payments: [] })!, /not a positive integer/);
  assert.match(firstBrokenInvariant({ postings: ps, payments: [] })!, /does not exist/);
});

/** Random follow-ups on an authorization or a sale, each admitted only if the engine's rules admit it. */
const kinds: readonly OperationKind[] = ['capture', 'void', 'refund', 'chargeback', 'chargeback_reversal', 'rebill'];
const scenario = fc.record({
  initial: fc.constantFrom<OperationKind>('authorize', 'sale', 'credit'),
  amount: fc.integer({ min: 1, max: 100_000 }),
  currency: fc.constantFrom('EUR', 'JPY', 'USD', 'BHD'),
  steps: fc.array(fc.record({ kind: fc.constantFrom(...kinds), amount: fc.integer({ min: 1, max: 100_000 }), outcome: fc.constantFrom<OperationStatus>('succeeded', 'succeeded', 'failed') }), { maxLength: 12 }),
});

function run(id: string, s: typeof scenario extends fc.Arbitrary<infer T> ? T : never): Operation[] {
  const c = s.currency as Currency;
  const ops: Operation[] = [op(id, s.initial, s.amount, 'succeeded', undefined, c)];
  for (const step of s.steps) {
    const initial = initialOf(ops);
    const target = step.kind === 'chargeback_reversal' ? ops.find((o) => o.kind === 'chargeback' && o.status === 'succeeded') : initial;
    if (!target) continue;
    const d = decideFollowUp(ops, { kind: step.kind as never, amount: step.kind === 'void' ? undefined : { amount: step.amount, currency: c }, target, awaitsReceipt: false });
    if (!d.ok) continue;
    ops.push(op(id, step.kind, d.value.amount, step.outcome, target.id, c));
  }
  return ops;
}

test('property: any admitted sequence balances, stays in bounds, and matches its operations', () => {
  const seen = new Set<string>();
  fc.assert(fc.property(fc.array(scenario, { minLength: 1, maxLength: 5 }), (scenarios) => {
    const payments = scenarios.map((s, i) => ({ id: `p${i}`, ops: run(`p${i}`, s), currency: s.currency }));
    const postings = payments.flatMap((p) => ledgerOf(p.id, p.ops, p.currency));
    assert.equal(firstBrokenInvariant({ postings, payments: payments.map((p) => ({ payment: { id: p.id }, operations: p.ops })) }), undefined);
    for (const p of payments) assert.deepEqual(ledgerTotalsOf(postings.filter((x) => x.paymentId === p.id)), expectedTotalsOf(p.ops));
    for (const p of payments) for (const o of p.ops) seen.add(`${o.kind}:${o.status}`);
  }), { numRuns: 300 });
  // The generator must reach every kind, or the property proves less than it says.
  for (const k of ['capture', 'void', 'refund', 'chargeback', 'chargeback_reversal', 'rebill', 'credit', 'sale']) assert.ok(seen.has(`${k}:succeeded`), `never generated a succeeded ${k}`);
});

test('property: replaying every change posts nothing new', () => {
  fc.assert(fc.property(scenario, (s) => {
    const ops = run('r', s);
    const once = ledgerOf('r', ops);
    // A replayed change sees the operations as they are now; keyed by (operation, phase, leg) it lands on the same rows.
    const replay = ops.flatMap((o) => postingsOf({ payment: payment('r', s.currency) as never, operation: o as never, operations: ops as never }, 0));
    const ids = new Set(once.map((p) => p.id));
    for (const p of replay) {
      assert.ok(ids.has(p.id), `replay made a new posting ${p.id}`);
      assert.deepEqual(p, once.find((q) => q.id === p.id));
    }
  }), { numRuns: 300 });
});

test('a capture or refund its PSP reports failed after confirming it is reversed: new legs, the first kept, the books sound', () => {
  const pa = op('u', 'authorize', 1000);
  const cp = op('u', 'capture', 600, 'succeeded', pa.id);
  const rf = op('u', 'refund', 100, 'succeeded', cp.id);
  const ops = [pa, cp, rf];
  const ps = ledgerOf('u', ops);
  const undo = (target: Operation, current: readonly Operation[]) => {
    const failed = { ...target, status: 'failed' as const };
    const after = current.map((o) => (o.id === target.id ? failed : o));
    return { after, postings: postingsOf({ payment: payment('u') as never, operation: failed as never, operations: after as never, undone: true }, 0) };
  };
  const refundUndone = undo(rf, ops);
  assert.deepEqual(refundUndone.postings.map((p) => [p.debit, p.credit, p.amount, p.leg]), [['receivable', 'refunds', 100, 1]]);
  const captureUndone = undo(cp, refundUndone.after);
  assert.deepEqual(captureUndone.postings.map((p) => [p.debit, p.credit, p.amount, p.leg]), [['authorized', 'holds', 600, 2], ['payable', 'receivable', 600, 3]]);
  const all = [...ps, ...refundUndone.postings, ...captureUndone.postings];
  assert.equal(new Set(all.map((p) => p.id)).size, all.length, 'reversals never collide with the postings they reverse');
  assert.deepEqual(ledgerTotalsOf(all), expectedTotalsOf(captureUndone.after));
  assert.deepEqual({ ...ledgerTotalsOf(all) }, { authorized: 1000, captured: 0, refunded: 0, chargedBack: 0, credited: 0, held: 1000 });
  assert.equal(firstBrokenInvariant({ postings: all, payments: [{ payment: { id: 'u' }, operations: captureUndone.after }] }), undefined);
  // Without `undone`, a failed operation posts nothing (a capture that never succeeded moved nothing).
  assert.deepEqual(postingsOf({ payment: payment('u') as never, operation: { ...cp, status: 'failed' } as never, operations: captureUndone.after as never }, 0), []);
});

test('a capture undone after a void closed the authorization releases what it puts back on hold: nothing stays held', () => {
  const pa = op('v', 'authorize', 1000);
  const cp = op('v', 'capture', 600, 'succeeded', pa.id);
  // The rest released (by the merchant, a final capture's release, or expiry).
  const rv = op('v', 'void', 400, 'succeeded', pa.id);
  const ops = [pa, cp, rv];
  const ps = ledgerOf('v', ops);
  const failed = { ...cp, status: 'failed' as const };
  const after = [pa, failed, rv];
  const undone = postingsOf({ payment: payment('v') as never, operation: failed as never, operations: after as never, undone: true }, 0);
  assert.deepEqual(undone.map((p) => [p.debit, p.credit, p.amount, p.phase, p.leg]),
    [['authorized', 'holds', 600, 'posted', 2], ['payable', 'receivable', 600, 'posted', 3], ['holds', 'authorized', 600, 'voided', 4]]);
  const all = [...ps, ...undone];
  assert.equal(new Set(all.map((p) => p.id)).size, all.length);
  assert.equal(ledgerTotalsOf(all).held, 0);
  assert.equal(firstBrokenInvariant({ postings: all, payments: [{ payment: { id: 'v' }, operations: after }] }), undefined);
});
