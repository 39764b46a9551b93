import type { PaymentChange } from '../payments/change.ts';
import { initialOf, totalsOf, type Operation } from '../payments/model.ts';
import type { PaymentRecord } from '../payments/store.ts';

/**
 * Account kinds; an account is one kind for one merchant, currency and PSP account. Balances are
 * debits minus credits, so `payable` (what the gateway owes the merchant) is normally negative.
 *
 * - `authorized`: funds the shopper's bank holds for an authorization not yet captured (a hold);
 *   its contra `holds` keeps the hold out of the money accounts until a capture posts it.
 * - `receivable`: what the PSP owes the gateway for captured money, less what it paid back.
 * - `payable`: what the gateway owes the merchant for captured money (gross).
 * - `refunds`, `chargebacks`, `credits`: what went back to shoppers (or out to cards) against it.
 * - `fees`, `settled`: the PSP's fees and what it paid out to the merchant's bank (posted by
 *   settlement reconciliation). `settled` has no lower bound: a day of refunds is a negative payout.
 */
export const accountKinds = ['authorized', 'holds', 'receivable', 'payable', 'refunds', 'chargebacks', 'credits', 'fees', 'settled'] as const;
export type AccountKind = (typeof accountKinds)[number];

/** The lowest balance each kind may have (debits minus credits); absent: unbounded. */
export const lowerBounds: Partial<Record<AccountKind, number>> = {
  authorized: 0, refunds: 0, chargebacks: 0, credits: 0, fees: 0,
};
/** The highest balance each kind may have; `payable` and `holds` are credit accounts. */
export const upperBounds: Partial<Record<AccountKind, number>> = { holds: 0, payable: 0 };

/**
 * A hold is `pending`; a capture `posted` (part of it, or a movement without a hold); a void
 * releases the rest: `voided`. `settled`: a PSP's settlement report confirmed the movement (its fee
 * and payout, see reconciliation.ts).
 */
export const phases = ['pending', 'posted', 'voided', 'settled'] as const;
export type Phase = (typeof phases)[number];

/** The PSP account of a payment taken by the gateway's default acquirer. */
export const defaultPspAccount = 'default';

/** One immutable leg of a transfer: `amount` minor units from `credit` to `debit`. */
export interface Posting {
  /** Deterministic: `operationId:phase:leg`, so re-applying a change can never post twice. */
  readonly id: string;
  /** The opening operation for a hold and what captures or voids it; otherwise the operation itself. */
  readonly transferId: string;
  readonly operationId: string;
  readonly paymentId: string;
  readonly merchantId: string;
  readonly currency: string;
  readonly pspAccountId: string;
  readonly debit: AccountKind;
  readonly credit: AccountKind;
  readonly amount: number;
  readonly phase: Phase;
  readonly leg: number;
  readonly createdAt: number;
}

type Leg = Pick<Posting, 'transferId' | 'debit' | 'credit' | 'amount' | 'phase'>;

/** Whether a posting is part of an undo: the reverse of an operation its PSP reported failed after confirming it. */
export const isUndo = (p: Pick<Posting, 'id' | 'operationId'>): boolean => p.id.startsWith(`${p.operationId}:undone:`);

/**
 * A settled line posts at most two legs (its fee, its net), numbered from 0. An operation undone
 * after a report had settled it (paid out) has a second movement, the undo, which the PSP claws
 * back in a later report: that settlement numbers its legs from here, after the first's.
 */
export const clawbackLeg = 2;

/** The money legs of one operation, from its final state and its payment's other operations. */
export function legsOf(op: Operation, ops: readonly Operation[]): Leg[] {
  if (op.status !== 'succeeded') return [];
  const a = op.amount.amount;
  const initial = initialOf(ops);
  const onHold = initial.kind === 'authorize';
  const own = (debit: AccountKind, credit: AccountKind): Leg[] => (a > 0 ? [{ transferId: op.id, debit, credit, amount: a, phase: 'posted' }] : []);
  switch (op.kind) {
    case 'authorize':
      return a > 0 ? [{ transferId: op.id, debit: 'authorized', credit: 'holds', amount: a, phase: 'pending' }] : [];
    case 'sale': case 'rebill': return own('receivable', 'payable');
    case 'credit': return own('credits', 'receivable');
    case 'refund': return own('refunds', 'receivable');
    case 'chargeback': return own('chargebacks', 'receivable');
    case 'chargeback_reversal': return own('receivable', 'chargebacks');
    case 'capture': case 'receipt': {
      // A receipt on a sale, capture or rebill confirms money already posted; only one on the
      // authorization itself (a bank transfer) moves the hold, like a capture.
      if (op.kind === 'receipt' && !(onHold && op.referencedId === initial.id)) return [];
      if (!onHold || a <= 0) return [];
      return [
        { transferId: initial.id, debit: 'holds', credit: 'authorized', amount: a, phase: 'posted' },
        { transferId: initial.id, debit: 'receivable', credit: 'payable', amount: a, phase: 'posted' },
      ];
    }
    case 'void': {
      if (!onHold) return [];
      // A void is refused while a capture is in flight and nothing captures after it, so what is
      // left open when it succeeds is fixed: replaying it computes the same amount.
      const t = totalsOf(ops.filter((o) => o.kind === 'authorize' || o.kind === 'capture' || (o.kind === 'receipt' && o.referencedId === initial.id)));
      const rest = t.authorized - t.captured;
      return rest > 0 ? [{ transferId: initial.id, debit: 'holds', credit: 'authorized', amount: rest, phase: 'voided' }] : [];
    }
  }
}

/**
 * An operation's legs, or (`undone`: it had succeeded and its PSP reported it failed after all)
 * the reverse of the legs it posted then, numbered after them so both stay in the books.
 */
function legsOrReversalOf(op: Operation, ops: readonly Operation[], undone: boolean): (Leg & { key: string; leg: number })[] {
  if (!undone) return legsOf(op, ops).map((l, leg) => ({ ...l, key: l.phase, leg }));
  const was = { ...op, status: 'succeeded' as const };
  const posted = legsOf(was, ops.map((o) => (o.id === op.id ? was : o)));
  const reversed = posted.map((l, i) => ({ ...l, debit: l.credit, credit: l.debit, key: 'undone', leg: posted.length + i }));
  // Undoing a capture puts its amount back on hold; when a void has closed the authorization
  // meanwhile (the rest released, or a final capture's release), nothing will ever release it
  // again, so the same change releases it.
  const reopened = reversed.find((l) => l.debit === 'authorized');
  const voided = ops.some((o) => o.kind === 'void' && o.status === 'succeeded');
  if (!reopened || !voided) return reversed;
  return [...reversed, { transferId: reopened.transferId, debit: 'holds', credit: 'authorized', amount: reopened.amount, phase: 'voided', key: 'undone', leg: posted.length * 2 }];
}

/** The postings a payment change makes: those of the operation that changed. */
export function postingsOf(change: Pick<PaymentChange, 'payment' | 'operation' | 'operations' | 'undone'>, now: number): Posting[] {
  const { payment, operation } = change;
  // The changed operation as the payment now has it (the list is the state after the change).
  const op = change.operations.find((o) => o.id === operation.id) ?? operation;
  return legsOrReversalOf(op, change.operations, change.undone === true).map(({ key, leg, ...l }) => ({
    ...l,
    id: `${op.id}:${key}:${leg}`,
    operationId: op.id,
    paymentId: payment.id,
    merchantId: payment.merchantId,
    currency: op.amount.currency,
    pspAccountId: payment.pspAccountId ?? defaultPspAccount,
    leg,
    createdAt: now,
  }));
}

export interface AccountBalance {
  readonly merchantId: string;
  readonly currency: string;
  readonly pspAccountId: string;
  readonly kind: AccountKind;
  /** Debits minus credits, in minor units. */
  readonly balance: number;
}

type PostingAmounts = Pick<Posting, 'merchantId' | 'currency' | 'pspAccountId' | 'debit' | 'credit' | 'amount'>;

/** Balances per account, sorted by merchant, currency, PSP account and kind. */
export function balancesOf(postings: readonly PostingAmounts[]): AccountBalance[] {
  const m = new Map<string, AccountBalance>();
  const add = (p: PostingAmounts, kind: AccountKind, delta: number) => {
    const key = `${p.merchantId}\u0000${p.currency}\u0000${p.pspAccountId}\u0000${kind}`;
    const b = m.get(key);
    m.set(key, { merchantId: p.merchantId, currency: p.currency, pspAccountId: p.pspAccountId, kind, balance: (b?.balance ?? 0) + delta });
  };
  for (const p of postings) { add(p, p.debit, p.amount); add(p, p.credit, -p.amount); }
  return [...m.values()].sort((x, y) =>
    x.merchantId.localeCompare(y.merchantId) || x.currency.localeCompare(y.currency)
    || x.pspAccountId.localeCompare(y.pspAccountId) || accountKinds.indexOf(x.kind) - accountKinds.indexOf(y.kind));
}

/** A payment's money as its ledger tells it, in the terms of `totalsOf`. */
export interface LedgerTotals {
  readonly authorized: number;
  readonly captured: number;
  readonly refunded: number;
  readonly chargedBack: number;
  readonly credited: number;
  /** What is still held for it. */
  readonly held: number;
}

export function ledgerTotalsOf(postings: readonly Pick<Posting, 'debit' | 'credit' | 'amount' | 'phase' | 'transferId' | 'operationId'>[]): LedgerTotals {
  let authorized = 0, captured = 0, refunded = 0, chargedBack = 0, credited = 0, held = 0;
  for (const p of postings) {
    if (p.debit === 'authorized') { held += p.amount; if (p.phase === 'pending') authorized += p.amount; }
    if (p.credit === 'authorized') held -= p.amount;
    if (p.debit === 'receivable' && p.credit === 'payable') {
      captured += p.amount;
      // A sale or rebill is authorized and captured at once, with no hold of its own.
      if (p.transferId === p.operationId) authorized += p.amount;
    }
    // The reversal of a capture or refund its PSP reported failed after confirming it.
    if (p.debit === 'payable' && p.credit === 'receivable') captured -= p.amount;
    if (p.debit === 'refunds') refunded += p.amount;
    if (p.credit === 'refunds') refunded -= p.amount;
    if (p.debit === 'chargebacks') chargedBack += p.amount;
    if (p.credit === 'chargebacks') chargedBack -= p.amount;
    if (p.debit === 'credits') credited += p.amount;
  }
  return { authorized, captured, refunded, chargedBack, credited, held };
}

/** What the ledger must say of a payment, from its operations. */
export function expectedTotalsOf(ops: readonly Operation[]): LedgerTotals {
  const t = totalsOf(ops);
  const initial = initialOf(ops);
  const capturedOnHold = initial.kind === 'authorize' ? t.captured : 0;
  const held = initial.kind === 'authorize' && initial.status === 'succeeded' && !t.reversed ? t.authorized - capturedOnHold : 0;
  return { authorized: t.authorized, captured: t.captured, refunded: t.refunded, chargedBack: t.chargedBack, credited: t.credited, held };
}

/** The first broken invariant, in words naming it, or undefined when the books are sound. */
export function firstBrokenInvariant(input: {
  postings: readonly Posting[];
  payments: readonly { payment: Pick<PaymentRecord, 'id'> & { readonly merchantId?: string }; operations: readonly Operation[] }[];
}): string | undefined {
  for (const p of input.postings) {
    if (!Number.isSafeInteger(p.amount) || p.amount <= 0) return `posting ${p.id}: amount ${p.amount} is not a positive integer of minor units`;
    if (p.debit === p.credit) return `posting ${p.id}: debits and credits the same account`;
  }
  const perCurrency = new Map<string, number>();
  const balances = balancesOf(input.postings);
  for (const b of balances) perCurrency.set(b.currency, (perCurrency.get(b.currency) ?? 0) + b.balance);
  for (const [currency, sum] of perCurrency) if (sum !== 0) return `balance: postings in ${currency} sum to ${sum}, not zero`;
  for (const b of balances) {
    const lo = lowerBounds[b.kind], hi = upperBounds[b.kind];
    if ((lo !== undefined && b.balance < lo) || (hi !== undefined && b.balance > hi)) {
      return `bounds: ${b.kind} of merchant ${b.merchantId} ${b.currency} at ${b.pspAccountId} is ${b.balance}`;
    }
  }
  // A settled movement leaves nothing receivable: its fee and net add up to what it moved. An
  // operation undone after its settlement has moved twice: its settlement stands for the first
  // movement, and the undo (what the PSP owes back) stays receivable until a report settles the
  // PSP's clawback of it (legs from `clawbackLeg`), which must then add up to the undo.
  const receivable = new Map<string, { posted: number; undone: number; settled: number; clawed: number; settledAtAll: boolean; clawedAtAll: boolean }>();
  for (const p of input.postings) {
    if (p.phase !== 'posted' && p.phase !== 'settled') continue;
    const delta = (p.debit === 'receivable' ? p.amount : 0) - (p.credit === 'receivable' ? p.amount : 0);
    const r = receivable.get(p.operationId) ?? { posted: 0, undone: 0, settled: 0, clawed: 0, settledAtAll: false, clawedAtAll: false };
    if (p.phase === 'posted') { if (isUndo(p)) r.undone += delta; else r.posted += delta; }
    else if (p.leg >= clawbackLeg) { r.clawed += delta; r.clawedAtAll = true; }
    else { r.settled += delta; r.settledAtAll = true; }
    receivable.set(p.operationId, r);
  }
  for (const [operationId, r] of receivable) {
    if (r.settledAtAll && r.posted + r.settled !== 0) return `settlement: operation ${operationId} moved ${r.posted} receivable but its settlement ${-r.settled}`;
    if (r.clawedAtAll && (!r.settledAtAll || r.undone === 0)) return `settlement: operation ${operationId} has a clawback settled but no settled movement undone`;
    if (r.clawedAtAll && r.undone + r.clawed !== 0) return `settlement: operation ${operationId} undone moved ${r.undone} receivable but its clawback ${-r.clawed}`;
  }
  const byPayment = new Map<string, Posting[]>();
  for (const p of input.postings) byPayment.set(p.paymentId, [...(byPayment.get(p.paymentId) ?? []), p]);
  for (const { payment, operations } of input.payments) {
    const mine = byPayment.get(payment.id) ?? [];
    if (new Set(mine.map((p) => p.currency)).size > 1) return `currency: payment ${payment.id} posts in more than one currency`;
    // Its money is in its own currency and on its own merchant's books: a posting moved to another
    // (by hand, or a bug) would balance all the same and show up in the wrong balances.
    const currency = operations[0]?.amount.currency;
    const foreign = mine.find((p) => currency !== undefined && p.currency !== currency);
    if (foreign) return `currency: payment ${payment.id} is in ${currency} but posts in ${foreign.currency}`;
    const elsewhere = mine.find((p) => payment.merchantId !== undefined && p.merchantId !== payment.merchantId);
    if (elsewhere) return `merchant: payment ${payment.id} of merchant ${payment.merchantId} posts to merchant ${elsewhere.merchantId}`;
    const got = ledgerTotalsOf(mine), want = expectedTotalsOf(operations);
    for (const k of Object.keys(want) as (keyof LedgerTotals)[]) {
      if (got[k] !== want[k]) return `payment: ${payment.id} ${k} is ${got[k]} in the ledger but ${want[k]} by its operations`;
    }
    byPayment.delete(payment.id);
  }
  const [orphan] = byPayment.keys();
  if (orphan !== undefined) return `payment: postings for ${orphan}, a payment that does not exist`;
  return undefined;
}
