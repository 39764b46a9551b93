import type { Currency, Money } from '../money/money.ts';
import { fail, ok, type PaymentError, type Result } from './errors.ts';

/**
 * The payment engine's model, in payment terms: a payment (the merchant's intent), its operations
 * (each money movement asked for), and the rules on their amounts. Pure: values in, values out.
 * Neither dialect's vocabulary appears here; each dialect maps these names to its own.
 */

/** Operations that open a payment: an authorization (a hold), a sale (authorize and capture at once), a credit to a card. */
export const initialKinds = ['authorize', 'sale', 'credit'] as const;
export type InitialKind = (typeof initialKinds)[number];

/** Operations on a payment that exists. */
export const followUpKinds = ['capture', 'void', 'refund', 'rebill', 'chargeback', 'chargeback_reversal', 'receipt'] as const;
export type FollowUpKind = (typeof followUpKinds)[number];

export type OperationKind = InitialKind | FollowUpKind;

export const isInitialKind = (s: string): s is InitialKind => (initialKinds as readonly string[]).includes(s);
export const isFollowUpKind = (s: string): s is FollowUpKind => (followUpKinds as readonly string[]).includes(s);

/** Follow-ups that report what the card scheme or the bank already did: recorded, never sent to a PSP. */
export const recordedOnlyKinds: ReadonlySet<OperationKind> = new Set<OperationKind>(['chargeback', 'chargeback_reversal', 'receipt']);

/**
 * The state of one operation. `awaiting`: the shopper must act first (3-D Secure, the bank) and
 * no PSP has been asked, or the PSP asked the shopper to pass its own 3-D Secure; `pending`: the PSP is being asked, or answered that it is still
 * processing; `unknown`: the PSP's answer was lost and the reconciler settles it.
 */
export const operationStatuses = ['awaiting', 'pending', 'succeeded', 'failed', 'unknown'] as const;
export type OperationStatus = (typeof operationStatuses)[number];

/** The operation state machine: the states each state may move to. */
export const operationTransitions: Readonly<Record<OperationStatus, readonly OperationStatus[]>> = {
  // The shopper finishes (on to the PSP), fails, cancels or never comes back; back from a PSP's
  // own 3-D Secure, the PSP's answer settles it.
  awaiting: ['pending', 'succeeded', 'failed', 'unknown'],
  // The PSP answers, or its answer is lost, or it keeps processing (stays pending), or it sends
  // the shopper to its own 3-D Secure (awaiting).
  pending: ['pending', 'awaiting', 'succeeded', 'failed', 'unknown'],
  // Only the reconciler, asking the PSP, moves an unknown operation on.
  unknown: ['pending', 'succeeded', 'failed'],
  // Only a PSP's later word that a capture or refund it confirmed failed after all (the card
  // scheme rejected it): what it moved goes back.
  succeeded: ['failed'],
  failed: [],
};

/** Operations a PSP may report failed after confirming them (Adyen's CAPTURE_FAILED, REFUND_FAILED). */
export const undoableKinds: ReadonlySet<OperationKind> = new Set<OperationKind>(['capture', 'refund']);

export const isOpen = (s: OperationStatus) => s === 'awaiting' || s === 'pending' || s === 'unknown';

export { declineReasons, isDeclineReason, shopperActions, type DeclineReason, type Outcome, type ShopperAction } from '../processors/outcome.ts';
import type { DeclineReason, Outcome } from '../processors/outcome.ts';

/** The operation state an outcome leaves. */
export const statusOfOutcome: Readonly<Record<Outcome['kind'], OperationStatus>> = {
  approved: 'succeeded', declined: 'failed', pending: 'pending', unknown: 'unknown',
};

/** One operation as the amount rules see it. */
export interface Operation {
  readonly id: string;
  readonly paymentId: string;
  readonly kind: OperationKind;
  readonly status: OperationStatus;
  readonly amount: Money;
  /** For a chargeback reversal, the chargeback it reverses; for a receipt, what it confirms; otherwise the operation the merchant named. */
  readonly referencedId: string | undefined;
  readonly createdAt: number;
}

/** Status of a payment (its opening operation and everything done on it since). */
export const paymentStatuses = [
  'pending', 'unknown', 'declined', 'authorized', 'reversed', 'captured', 'refunded', 'charged_back', 'credited',
] as const;
export type PaymentStatus = (typeof paymentStatuses)[number];

/**
 * The payment state machine: the statuses each status may move to. Status is derived from the
 * operations (`paymentStatusOf`) and every change is checked against this table, so a derivation
 * bug shows up as a refused transition instead of a silent jump out of a final state.
 */
export const paymentTransitions: Readonly<Record<PaymentStatus, readonly PaymentStatus[]>> = {
  // Waiting for the PSP's first answer (or the shopper's).
  pending: ['authorized', 'captured', 'credited', 'declined', 'unknown'],
  // The PSP's answer was lost; reconciliation decides (or learns the PSP is still processing).
  unknown: ['pending', 'authorized', 'captured', 'credited', 'declined'],
  // Final: nothing happened at the issuer.
  declined: [],
  authorized: ['captured', 'reversed'],
  // Final: the authorization was released with nothing captured (before any capture, or after the
  // card scheme rejected the only capture that released the rest).
  reversed: [],
  // Captured money can be refunded or charged back; a capture after a void of the open rest keeps it
  // captured; a capture the card scheme rejected after its PSP confirmed it leaves it authorized
  // again, or released when the rest was released already.
  captured: ['refunded', 'charged_back', 'authorized', 'reversed'],
  // A full refund can be followed by a rebill that makes money refundable again.
  refunded: ['captured', 'charged_back'],
  charged_back: ['captured', 'refunded'],
  // Final: money sent to a card.
  credited: [],
};

export function canTransition(from: PaymentStatus, to: PaymentStatus): boolean {
  return from === to || paymentTransitions[from].includes(to);
}

/** Money totals of a payment, counting settled operations and reserving in-flight ones. */
export interface Totals {
  readonly authorized: number;
  readonly captured: number;
  readonly refunded: number;
  /** Chargebacks minus their reversals. */
  readonly chargedBack: number;
  readonly credited: number;
  readonly reversed: boolean;
  /** Captures still waiting for the PSP (or unknown): reserved against the authorization. */
  readonly inFlightCaptures: number;
  readonly inFlightRefunds: number;
  /** What receipts confirmed arrived (a bank transfer's money), and what receipts on their way will. */
  readonly received: number;
  readonly inFlightReceipts: number;
  /** A void waiting for its PSP: nothing may be captured meanwhile. */
  readonly inFlightVoid: boolean;
  readonly inFlight: number;
}

/** Whether an operation moves the authorization's open amount into captured money. */
function capturesAuthorization(o: Operation, initial: Operation): boolean {
  // A receipt on the authorization confirms the reserved funds arrived (a bank transfer); on a
  // sale, capture or rebill it confirms money already counted as captured.
  return o.kind === 'capture' || (o.kind === 'receipt' && initial.kind === 'authorize' && o.referencedId === initial.id);
}

export function totalsOf(ops: readonly Operation[]): Totals {
  let authorized = 0, captured = 0, refunded = 0, chargedBack = 0, credited = 0, reversed = false;
  let inFlightCaptures = 0, inFlightRefunds = 0, inFlightVoid = false, inFlight = 0, received = 0, inFlightReceipts = 0;
  const initial = ops.find((o) => isInitialKind(o.kind));
  for (const o of ops) {
    const a = o.amount.amount;
    const capturing = initial !== undefined && capturesAuthorization(o, initial);
    if (isOpen(o.status)) {
      inFlight++;
      if (capturing) inFlightCaptures += a;
      if (o.kind === 'refund') inFlightRefunds += a;
      if (o.kind === 'receipt') inFlightReceipts += a;
      if (o.kind === 'void') inFlightVoid = true;
      continue;
    }
    if (o.status !== 'succeeded') continue;
    switch (o.kind) {
      case 'authorize': authorized += a; break;
      case 'sale': authorized += a; captured += a; break;
      case 'credit': credited += a; break;
      case 'capture': if (capturing) captured += a; break;
      case 'receipt': received += a; if (capturing) captured += a; break;
      case 'rebill': authorized += a; captured += a; break;
      case 'refund': refunded += a; break;
      case 'void': reversed = true; break;
      case 'chargeback': chargedBack += a; break;
      case 'chargeback_reversal': chargedBack -= a; break;
    }
  }
  return { authorized, captured, refunded, chargedBack, credited, reversed, inFlightCaptures, inFlightRefunds, received, inFlightReceipts, inFlightVoid, inFlight };
}

/**
 * What was refunded (or is being refunded) beyond what stays captured: nothing, unless a PSP
 * reported a capture failed after confirming it and after refunds were drawn on it.
 */
export function uncovered(t: Pick<Totals, 'refunded' | 'inFlightRefunds' | 'captured'>): number {
  return Math.max(0, t.refunded + t.inFlightRefunds - t.captured);
}

/** The operation that opened the payment (exactly one per payment). */
export function initialOf<T extends Operation>(ops: readonly T[]): T {
  const initial = ops.find((o) => isInitialKind(o.kind));
  if (!initial) throw new Error('payment without an opening operation');
  return initial;
}

/** The payment's status, derived from its operations. */
export function paymentStatusOf(ops: readonly Operation[]): PaymentStatus {
  const initial = initialOf(ops);
  if (initial.status === 'pending' || initial.status === 'awaiting') return 'pending';
  if (initial.status === 'unknown') return 'unknown';
  if (initial.status === 'failed') return 'declined';
  if (initial.kind === 'credit') return 'credited';
  const t = totalsOf(ops);
  if (t.captured === 0) return t.reversed ? 'reversed' : 'authorized';
  if (t.chargedBack > 0) return 'charged_back';
  if (t.refunded >= t.captured) return 'refunded';
  return 'captured';
}

export interface FollowUpRequest {
  readonly kind: FollowUpKind;
  /**
   * Absent only for voids, which always release the whole open amount: one that names an amount
   * must name that one (a merchant asking to release part must not lose the whole hold).
   */
  readonly amount: Money | undefined;
  /** The currency a void names without an amount: it must be the payment's too. */
  readonly currency?: Currency | undefined;
  /**
   * The expiry job's void (the issuer releases the hold about now), or the record of a release its
   * PSP reported: the hold goes whatever the books say.
   */
  readonly expiring?: boolean;
  /** The operation the merchant named. */
  readonly target: Operation;
  /** Whether the payment is settled by the shopper's bank and confirmed by a receipt (a bank transfer). */
  readonly awaitsReceipt: boolean;
  /** A chargeback or reversal the PSP reported (its notification), not one a merchant records. */
  readonly reportedByPsp?: boolean;
  /**
   * The merchant named one transaction of the payment (the /v1 dialect): the operation must apply
   * to that kind of transaction, and a refund naming a capture, rebill or receipt is limited by
   * what that one moved. Naming the opening transaction (the PA, the DB) names the payment as a
   * whole, as the executions dialect, the dashboard and the gateway's own jobs always do: only the
   * payment's totals count.
   */
  readonly namesTransaction?: boolean;
}

/**
 * Money that moved (a sale, a capture, a rebill; a bank transfer's receipt moved it as a capture
 * does a card's), or the payment as a whole through its authorization: the payment's totals then
 * say whether any moved (a refund of an authorization nothing was captured of is 700.400.520).
 */
const moved: readonly OperationKind[] = ['authorize', 'sale', 'capture', 'rebill', 'receipt'];

/**
 * What each follow-up may name when a transaction is named, and what naming anything else (a
 * refund, a reversal, a chargeback) is: a capture needs the authorization; a refund, a rebill and a
 * chargeback money that moved; a reversal the authorization (a sale, capture or rebill it finds
 * settled already: 700.300.700, never a void of the authorization's rest through them).
 */
const namedTargets: Partial<Record<FollowUpKind, { kinds: readonly OperationKind[]; otherwise: PaymentError }>> = {
  capture: { kinds: ['authorize'], otherwise: 'capture_requires_authorization' },
  void: { kinds: ['authorize', 'sale', 'capture', 'rebill'], otherwise: 'reversal_requires_authorization' },
  refund: { kinds: moved, otherwise: 'refund_requires_capture' },
  rebill: { kinds: moved, otherwise: 'rebill_requires_capture' },
  chargeback: { kinds: moved, otherwise: 'chargeback_requires_capture' },
};

/**
 * The transaction whose money a refund gives back (a capture, the sale, a rebill), for a PSP that
 * refunds per transaction: the OPP family refunds a capture and refuses a refund of the
 * authorization it captured. Named by the merchant, it is that one; naming the payment as a whole,
 * the latest whose money not yet given back covers the amount. Kept on the refund
 * (`context.drawsOn`), so later refunds count what each one drew on. Undefined when no one
 * transaction covers it (a refund wider than any one capture): it then names the payment, as
 * before, which a PSP judging by the payment's totals takes.
 */
export function refundDrawsOn(ops: readonly OperationWithContext[], target: Operation, amount: number): string | undefined {
  if (target.id !== initialOf(ops).id) return target.id;
  return moneyLeftByTransaction(ops).findLast((m) => m.left >= amount)?.id;
}

type OperationWithContext = Operation & { readonly context: Readonly<Record<string, unknown>> };

/** The transaction whose money a refund gave back: the one it drew on, else the one it named. */
function drawnOn(r: Operation & { readonly context?: Readonly<Record<string, unknown>> }): string | undefined {
  return typeof r.context?.drawsOn === 'string' ? r.context.drawsOn : r.referencedId;
}

/** Each transaction that moved money (in order), with what of it no refund has drawn on yet. */
function moneyLeftByTransaction(ops: readonly OperationWithContext[]): { id: string; left: number }[] {
  const drawn = new Map<string, number>();
  for (const r of ops) {
    if (r.kind !== 'refund' || r.status === 'failed') continue;
    const on = drawnOn(r);
    if (on !== undefined) drawn.set(on, (drawn.get(on) ?? 0) + r.amount.amount);
  }
  return ops.filter((o) => (o.kind === 'sale' || o.kind === 'capture' || o.kind === 'rebill') && o.status === 'succeeded')
    .map((m) => ({ id: m.id, left: m.amount.amount - (drawn.get(m.id) ?? 0) }));
}

/**
 * A refund of `amount` (a cancel's: everything still captured) in parts, each drawing on one
 * transaction that moved money, the latest first, as much as it has left: a PSP that refunds per
 * transaction takes each part, where it refuses one refund wider than any one capture. What no
 * transaction is known to hold (refunds that named the payment as a whole before) is one more
 * part, naming the payment.
 */
export function refundParts(ops: readonly OperationWithContext[], amount: number): { drawsOn: string | undefined; amount: number }[] {
  const parts: { drawsOn: string | undefined; amount: number }[] = [];
  let rest = amount;
  for (const m of moneyLeftByTransaction(ops).reverse()) {
    const take = Math.min(m.left, rest);
    if (take <= 0) continue;
    parts.push({ drawsOn: m.id, amount: take });
    rest -= take;
  }
  if (rest > 0) parts.push({ drawsOn: undefined, amount: rest });
  return parts;
}

/** Why the named transaction cannot carry this follow-up; undefined when it can (or nothing was named). */
function namedTargetRefusal(req: FollowUpRequest): PaymentError | undefined {
  const rule = req.namesTransaction ? namedTargets[req.kind] : undefined;
  if (!rule) return undefined;
  if (!rule.kinds.includes(req.target.kind)) return rule.otherwise;
  if (isOpen(req.target.status)) return 'reference_pending';
  if (req.target.status !== 'succeeded') return rule.otherwise;
  return undefined;
}

/**
 * Decides whether a follow-up may run on a payment and for how much. Pure: the service calls it
 * inside the unit of work that holds the payment's lock, counting operations in flight as
 * reserved, so two concurrent requests can never both spend the same money, and an operation that
 * conflicts with one in flight (a capture while a void is on its way) is refused before any PSP call.
 */
export function decideFollowUp(ops: readonly (Operation & { readonly context?: Readonly<Record<string, unknown>> })[], req: FollowUpRequest): Result<Money> {
  const initial = initialOf(ops);
  const currency: Currency = initial.amount.currency;
  const t = totalsOf(ops);
  const needsSuccess = (err: PaymentError): Result<Money> | undefined => {
    if (isOpen(initial.status)) return fail('reference_pending');
    if (initial.status === 'failed') return fail(err);
    return undefined;
  };
  if (initial.kind === 'credit') return fail('not_allowed_on_credit');
  if (req.kind !== 'void') {
    if (!req.amount) return fail('amount_required');
    if (req.amount.currency !== currency) return fail('currency_mismatch');
    if (req.amount.amount <= 0) return fail('amount_required');
  }
  const amount = req.amount?.amount ?? 0;
  const of = (n: number): Money => ({ amount: n, currency });
  const wrongTarget = namedTargetRefusal(req);
  if (wrongTarget) return fail(wrongTarget);

  switch (req.kind) {
    case 'capture': {
      if (initial.kind !== 'authorize') return fail('capture_requires_authorization');
      // A bank transfer is captured by its receipt (the bank says the money arrived), never by a CP.
      if (req.awaitsReceipt) return fail('capture_requires_authorization');
      const refused = needsSuccess('capture_requires_authorization');
      if (refused) return refused;
      // A void on its way releases the open amount: a capture now would race it at the PSP.
      if (t.inFlightVoid) return fail('reference_pending');
      if (t.reversed || t.captured + t.inFlightCaptures + amount > t.authorized) return fail('capture_exceeds_authorization');
      return ok(of(amount));
    }
    case 'void': {
      const refused = needsSuccess('reversal_requires_authorization');
      if (refused) return refused;
      // A chargeback takes back money that moved; an authorization's uncaptured rest is still held
      // and is still released (by the merchant, or by the expiry job).
      if (t.chargedBack > 0 && t.authorized - t.captured <= 0) return fail('charged_back');
      if (t.reversed) return fail('already_reversed');
      // Money that moved (a sale, a capture, a rebill) is settled by the time a reversal could reach it: a refund gives it back.
      if (initial.kind !== 'authorize' || (req.namesTransaction && req.target.kind !== 'authorize')) return fail('reversal_not_possible');
      // A capture on its way would change the open rest; a refund or rebill on its way does not,
      // so cancelling a partly captured authorization can refund the capture and void the rest at once.
      if (t.inFlightCaptures > 0 || t.inFlightVoid) return fail('reference_pending');
      const open = t.authorized - t.captured;
      // After a partial capture a void releases the open remainder.
      if (open <= 0) return fail('reversal_after_capture');
      // Refunds standing on a capture its PSP reported failed after confirming it: the shopper was
      // paid back money never taken, and the hold is what a new capture can recover it from, until
      // the authorization expires.
      if (uncovered(t) > 0 && !req.expiring) return fail('reversal_after_refund');
      const named = req.amount?.currency ?? req.currency;
      if (named !== undefined && named !== currency) return fail('currency_mismatch');
      if (req.amount && req.amount.amount !== open) return fail('reversal_amount_mismatch');
      return ok(of(open));
    }
    case 'refund': {
      const refused = needsSuccess('refund_requires_capture');
      if (refused) return refused;
      if (t.chargedBack > 0) return fail('charged_back');
      if (t.captured === 0) return fail(t.reversed ? 'refund_exceeds_captured' : 'refund_requires_capture');
      if (t.refunded + t.inFlightRefunds + amount > t.captured) return fail('refund_exceeds_captured');
      // A bank transfer gives back only money its bank confirmed (receipts), not what the shopper promised.
      if (req.awaitsReceipt) {
        if (t.received === 0) return fail('refund_requires_capture');
        if (t.refunded + t.inFlightRefunds + amount > t.received) return fail('refund_exceeds_captured');
      }
      if (req.namesTransaction && req.target.id !== initial.id) {
        const target = req.target;
        // A refund that named the payment as a whole drew on one transaction (`context.drawsOn`): it counts there.
        const refundedOfTarget = ops.filter((x) => x.kind === 'refund' && drawnOn(x) === target.id && x.status !== 'failed')
          .reduce((s, x) => s + x.amount.amount, 0);
        if (refundedOfTarget + amount > target.amount.amount) return fail('refund_exceeds_captured');
      }
      return ok(of(amount));
    }
    case 'rebill': {
      const refused = needsSuccess('rebill_requires_capture');
      if (refused) return refused;
      // A rebill charges the stored card again; a bank transfer has none (the shopper pays each one
      // at the bank), and its money counts only once the bank's receipt confirms it.
      if (req.awaitsReceipt) return fail('rebill_requires_capture');
      if (t.captured === 0) return fail('rebill_requires_capture');
      if (t.chargedBack > 0) return fail('charged_back');
      return ok(of(amount));
    }
    case 'chargeback': {
      const refused = needsSuccess('chargeback_requires_capture');
      if (refused) return refused;
      if (t.captured === 0) return fail('chargeback_requires_capture');
      // One chargeback per payment, as the /v1 family has it; only a PSP reports a second one, the
      // issuer's second presentment after the merchant defended the first (reversed in full).
      const standing = req.reportedByPsp ? t.chargedBack > 0 : ops.some((x) => x.kind === 'chargeback' && x.status === 'succeeded');
      if (standing) return fail('multiple_chargebacks');
      // A refund still at the PSP bounds what an operator may record; what the PSP reports it took,
      // it took, whatever refund it may still refuse (a refused refund would otherwise leave the
      // chargeback out of the books for good).
      const pending = req.reportedByPsp ? 0 : t.inFlightRefunds;
      if (amount > t.captured - t.refunded - pending) return fail('chargeback_exceeds_captured');
      // As with a refund: a scheme can take back only money the shopper's bank confirmed it moved.
      if (req.awaitsReceipt) {
        if (t.received === 0) return fail('chargeback_requires_capture');
        if (amount > t.received - t.refunded - pending) return fail('chargeback_exceeds_captured');
      }
      return ok(of(amount));
    }
    case 'receipt': {
      // A receipt confirms money the shopper's bank moved: only payments settled that way await one.
      if (!req.awaitsReceipt) return fail('receipt_requires_payment');
      const target = req.target;
      const confirmable = (['authorize', 'capture', 'sale', 'rebill'] as OperationKind[]).includes(target.kind) && target.status === 'succeeded';
      if (!confirmable) return needsSuccess('receipt_requires_payment') ?? fail('receipt_requires_payment');
      if (target.id === initial.id && initial.kind === 'authorize') {
        if (t.reversed || t.inFlightVoid || t.captured + t.inFlightCaptures + amount > t.authorized) return fail('capture_exceeds_authorization');
        return ok(of(amount));
      }
      const confirmed = ops.filter((x) => x.kind === 'receipt' && x.referencedId === target.id && x.status !== 'failed')
        .reduce((s, x) => s + x.amount.amount, 0);
      if (confirmed + amount > target.amount.amount) return fail('receipt_exceeds_amount');
      return ok(of(amount));
    }
    case 'chargeback_reversal': {
      const cb = req.target;
      if (cb.kind !== 'chargeback' || cb.status !== 'succeeded') return fail('chargeback_reversal_requires_chargeback');
      const reversedSoFar = ops.filter((x) => x.kind === 'chargeback_reversal' && x.status === 'succeeded' && x.referencedId === cb.id)
        .reduce((s, x) => s + x.amount.amount, 0);
      if (reversedSoFar + amount > cb.amount.amount) return fail('chargeback_reversal_exceeds_chargeback');
      return ok(of(amount));
    }
  }
}

/**
 * What cancelling a payment means now: refund what was captured and not yet refunded, and void
 * what was authorized and not captured. Each step is still checked by `decideFollowUp`. While a
 * chargeback stands, nothing is refunded (the scheme took the money back, and a refund is refused):
 * the cancel only releases the uncaptured rest. A chargeback of only part of what is captured
 * leaves a refund due that cannot be made while it stands, so that cancel is refused (by the refund
 * rule) rather than answered as if everything had gone back.
 */
export function cancelPlan(ops: readonly Operation[]): { refund: Money | undefined; voidOpen: boolean } {
  const t = totalsOf(ops);
  const currency = initialOf(ops).amount.currency;
  const unrefunded = t.captured - t.refunded - t.inFlightRefunds;
  const refundable = t.chargedBack > 0 && t.chargedBack >= unrefunded ? 0 : unrefunded;
  const open = t.authorized - t.captured - t.inFlightCaptures;
  return {
    refund: refundable > 0 ? { amount: refundable, currency } : undefined,
    voidOpen: !t.reversed && !t.inFlightVoid && open > 0,
  };
}

/** Invariants an independent checker asserts after every operation. Returns the broken ones. */
export function brokenInvariants(ops: readonly Operation[]): string[] {
  const t = totalsOf(ops);
  const broken: string[] = [];
  if (t.captured > t.authorized) broken.push('captured exceeds authorized');
  if (t.refunded > t.captured) broken.push('refunded exceeds captured');
  if (t.chargedBack < 0) broken.push('chargeback reversals exceed chargebacks');
  if (t.chargedBack + t.refunded > t.captured) broken.push('chargebacks and refunds exceed captured');
  if (t.reversed && t.inFlightCaptures > 0) broken.push('capture in flight on a voided authorization');
  return broken;
}


/** A payment's metadata may change until its authorization has an outcome. */
export function metadataLocked(status: PaymentStatus | undefined): boolean {
  return status !== undefined && status !== 'pending';
}

/** Whether nothing more can ever be voided of this payment's hold: fully captured, voided, charged back, or not a hold at all. */
export function holdClosed(ops: readonly Operation[]): boolean {
  const initial = ops.find((o) => isInitialKind(o.kind));
  if (!initial || initial.kind !== 'authorize' || initial.status !== 'succeeded') return initial?.status === 'failed';
  const t = totalsOf(ops);
  if (t.inFlightVoid || t.inFlightCaptures > 0) return false;
  return t.reversed || t.authorized - t.captured <= 0;
}

/**
 * Whether a payment's authorization has expired and its open rest must be released: an approved
 * authorization made at or before `cutoff` with money still open (uncaptured, no capture or void
 * on its way, not already voided). The authorization's age counts from when it was made, as the
 * issuer's hold does: when its PSP approved it (the approving attempt of `attempts` settled), after
 * the request by as long as the shopper's 3-D Secure challenge took. An approval settled later
 * than the shopper may take (`shopperWaitMs` after its attempt) was a lost answer the reconciler
 * found: its PSP approved it earlier, so it counts from the end of the shopper's wait, which is at
 * most that late. Without its attempts, from when it was asked for.
 */
export function authorizationExpired(
  ops: readonly Operation[], cutoff: number,
  attempts: readonly { readonly operationId: string; readonly status: OperationStatus; readonly createdAt: number; readonly updatedAt: number }[] = [],
  shopperWaitMs = 0,
): boolean {
  const initial = ops.find((o) => isInitialKind(o.kind));
  if (!initial || initial.kind !== 'authorize' || initial.status !== 'succeeded') return false;
  const approvals = attempts.filter((a) => a.operationId === initial.id && a.status === 'succeeded')
    .map((a) => Math.min(a.updatedAt, a.createdAt + shopperWaitMs));
  const madeAt = approvals.length > 0 ? Math.min(...approvals) : initial.createdAt;
  if (madeAt > cutoff) return false;
  const t = totalsOf(ops);
  if (t.reversed || t.inFlightVoid || t.inFlightCaptures > 0) return false;
  return t.authorized - t.captured > 0;
}

/**
 * The attempts of one operation in the order they were made: by seq. Not by their time: clocks of
 * two nodes (or one clock stepped back) can put a later attempt's time before an earlier one's, and
 * the cascade, which goes on from the last attempt, would then go on from the wrong one.
 */
export function attemptsOfOperation<A extends { readonly operationId: string; readonly seq: number }>(attempts: readonly A[], operationId: string): A[] {
  return attempts.filter((a) => a.operationId === operationId).sort((a, b) => a.seq - b.seq);
}

/**
 * Whether the card a failed operation charged still stands for its cardholder: an issuer declined it
 * softly (funds, a limit, try later) at some attempt of its cascade (a decline the cascade moved on
 * from, to a PSP that then erred, counts), and none declined it hard or as fraud (lost, stolen,
 * closed, expired, a wrong security code: it will not be honoured again). A card stored by the
 * payment that made it is kept only after an approval or such a decline: one whose first charge no
 * issuer saw (its cardholder did not authenticate, no PSP took it) was never shown to be the
 * holder's, and one an issuer refused for good would be offered to its holder, or charged by the
 * merchant alone, only to fail again.
 */
export function storedCardStands(op: OperationReasons, attempts: readonly AttemptReasons[]): boolean {
  return reasonsOf(op, attempts).includes('soft') && !issuerRefusedForGood(op, attempts);
}

type OperationReasons = { readonly id: string; readonly reason: DeclineReason | undefined };
type AttemptReasons = { readonly operationId: string; readonly seq: number; readonly reason: DeclineReason | undefined };
const reasonsOf = (op: OperationReasons, attempts: readonly AttemptReasons[]) => [op.reason, ...attemptsOfOperation(attempts, op.id).map((a) => a.reason)];

/**
 * Whether an issuer refused a failed operation's card for good at some attempt of its cascade (a hard
 * or fraud decline: lost, stolen, closed, expired, a wrong security code). A card saved before its
 * first payment (a shopper's "save my card", or the merchant's own) is taken back then too: kept, it
 * would be offered pre-selected, or charged for a subscription, only to be declined again.
 */
export function issuerRefusedForGood(op: OperationReasons, attempts: readonly AttemptReasons[]): boolean {
  return reasonsOf(op, attempts).some((r) => r === 'hard' || r === 'fraud');
}
