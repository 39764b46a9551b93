import type { Currency, Money } from '../money/money.ts';
import { fail, ok, type PaymentError, type Result } from './errors.ts';
import { cvvLength, detectBrand, isExpired, luhnValid, type CardInput } from '../vault/card.ts';

export const initialTypes = ['PA', 'DB', 'PA.CP'] as const;
export type InitialType = (typeof initialTypes)[number];

export const backOfficeTypes = ['CP', 'RV', 'RF', 'RB', 'CB', 'CR', 'RC'] as const;
export type BackOfficeType = (typeof backOfficeTypes)[number];

export type TransactionType = InitialType | BackOfficeType;

export const isInitialType = (s: string): s is InitialType => (initialTypes as readonly string[]).includes(s);
export const isBackOfficeType = (s: string): s is BackOfficeType => (backOfficeTypes as readonly string[]).includes(s);

/**
 * One attempt at one money movement. `awaiting`: the shopper has not finished the hosted page
 * (3-D Secure, bank) and no PSP has been asked; `pending`: the PSP is being asked; `unknown`: the
 * PSP's answer was lost and the reconciler settles it.
 */
export const transactionStatuses = ['awaiting', 'pending', 'succeeded', 'failed', 'unknown'] as const;
export type TransactionStatus = (typeof transactionStatuses)[number];

export interface Transaction {
  readonly id: string;
  readonly paymentId: string;
  readonly type: TransactionType;
  readonly status: TransactionStatus;
  readonly amount: Money;
  /** For a chargeback reversal, the chargeback it reverses; otherwise the id the merchant named. */
  readonly referencedId: string | undefined;
  readonly createdAt: number;
}

/** Status of a payment (the root authorization or debit and everything done on it since). */
export const paymentStatuses = [
  'pending', 'unknown', 'declined', 'authorized', 'reversed', 'captured', 'refunded', 'charged_back',
] as const;
export type PaymentStatus = (typeof paymentStatuses)[number];

/**
 * The payment state machine: the statuses each status may move to. Status is derived from the
 * transactions (see `paymentStatusOf`) and every change is checked against this table, so a
 * derivation bug shows up as a refused transition instead of a silent jump out of a final state.
 */
export const paymentTransitions: Readonly<Record<PaymentStatus, readonly PaymentStatus[]>> = {
  // Waiting for the PSP's first answer.
  pending: ['authorized', 'captured', 'declined', 'unknown'],
  // The PSP's answer was lost; reconciliation decides.
  unknown: ['authorized', 'captured', 'declined'],
  // Final: nothing happened at the issuer.
  declined: [],
  authorized: ['captured', 'reversed'],
  // Final: the authorization was released before any capture.
  reversed: [],
  captured: ['refunded', 'charged_back'],
  // A full refund can be followed by a rebill that makes money refundable again.
  refunded: ['captured', 'charged_back'],
  charged_back: ['captured', 'refunded'],
};

export function canTransition(from: PaymentStatus, to: PaymentStatus): boolean {
  return from === to || paymentTransitions[from].includes(to);
}

/** Money totals of a payment, counting settled transactions and reserving in-flight ones. */
export interface Totals {
  readonly authorized: number;
  readonly captured: number;
  readonly refunded: number;
  /** Chargebacks minus their reversals. */
  readonly chargedBack: number;
  readonly reversed: boolean;
  /** Captures, refunds and rebills still waiting for the PSP (or unknown): reserved against limits. */
  readonly inFlightCaptures: number;
  readonly inFlightRefunds: number;
  readonly inFlight: number;
}

/** Whether a transaction moves the authorization's open amount into captured money. */
function capturesAuthorization(t: Transaction, initial: Transaction): boolean {
  // A receipt on the authorization confirms the reserved funds arrived; on a debit, capture or
  // rebill it confirms money already counted as captured.
  return t.type === 'CP' || (t.type === 'RC' && initial.type === 'PA' && t.referencedId === initial.id);
}

export function totalsOf(txs: readonly Transaction[]): Totals {
  let authorized = 0, captured = 0, refunded = 0, chargedBack = 0, reversed = false;
  let inFlightCaptures = 0, inFlightRefunds = 0, inFlight = 0;
  const initial = txs.find((t) => isInitialType(t.type));
  for (const t of txs) {
    const a = t.amount.amount;
    const capturing = initial !== undefined && capturesAuthorization(t, initial);
    if (t.status === 'pending' || t.status === 'unknown' || t.status === 'awaiting') {
      inFlight++;
      if (capturing) inFlightCaptures += a;
      if (t.type === 'RF') inFlightRefunds += a;
      continue;
    }
    if (t.status !== 'succeeded') continue;
    switch (t.type) {
      case 'PA': authorized += a; break;
      case 'DB': case 'PA.CP': authorized += a; captured += a; break;
      case 'CP': case 'RC': if (capturing) captured += a; break;
      case 'RB': authorized += a; captured += a; break;
      case 'RF': refunded += a; break;
      case 'RV': reversed = true; break;
      case 'CB': chargedBack += a; break;
      case 'CR': chargedBack -= a; break;
    }
  }
  return { authorized, captured, refunded, chargedBack, reversed, inFlightCaptures, inFlightRefunds, inFlight };
}

/** The transaction that opened the payment (exactly one per payment). */
export function initialOf<T extends Transaction>(txs: readonly T[]): T {
  const initial = txs.find((t) => isInitialType(t.type));
  if (!initial) throw new Error('payment without an initial transaction');
  return initial;
}

/** The payment's status, derived from its transactions. */
export function paymentStatusOf(txs: readonly Transaction[]): PaymentStatus {
  const initial = initialOf(txs);
  if (initial.status === 'pending' || initial.status === 'awaiting') return 'pending';
  if (initial.status === 'unknown') return 'unknown';
  if (initial.status === 'failed') return 'declined';
  const t = totalsOf(txs);
  if (t.captured === 0) return t.reversed ? 'reversed' : 'authorized';
  if (t.chargedBack > 0) return 'charged_back';
  if (t.refunded >= t.captured) return 'refunded';
  return 'captured';
}

export interface BackOfficeRequest {
  readonly type: BackOfficeType;
  /** Absent only for reversals, which always release the whole open amount. */
  readonly amount: Money | undefined;
  /** The transaction the merchant named. */
  readonly target: Transaction;
}

/**
 * Decides whether a back-office operation may run on a payment and for how much (the reference's
 * §6 rules). Pure: the service calls it inside the transaction that holds the payment's lock.
 */
export function decideBackOffice(txs: readonly Transaction[], req: BackOfficeRequest): Result<Money> {
  const initial = initialOf(txs);
  const currency: Currency = initial.amount.currency;
  const t = totalsOf(txs);
  const needsSuccess = (err: PaymentError): Result<Money> | undefined => {
    if (initial.status === 'pending' || initial.status === 'unknown' || initial.status === 'awaiting') return fail('reference_pending');
    if (initial.status === 'failed') return fail(err);
    return undefined;
  };
  if (req.type !== 'RV') {
    if (!req.amount) return fail('amount_required');
    if (req.amount.currency !== currency) return fail('currency_mismatch');
  }
  const amount = req.amount?.amount ?? 0;
  const of = (n: number): Money => ({ amount: n, currency });

  switch (req.type) {
    case 'CP': {
      if (initial.type !== 'PA') return fail('capture_requires_authorization');
      const refused = needsSuccess('capture_requires_authorization');
      if (refused) return refused;
      if (t.reversed || t.captured + t.inFlightCaptures + amount > t.authorized) return fail('capture_exceeds_authorization');
      return ok(of(amount));
    }
    case 'RV': {
      const refused = needsSuccess('reversal_requires_authorization');
      if (refused) return refused;
      if (t.chargedBack > 0) return fail('charged_back');
      if (t.reversed) return fail('already_reversed');
      if (initial.type !== 'PA') return fail('reversal_not_possible');
      if (t.inFlight > 0) return fail('reference_pending');
      const open = t.authorized - t.captured;
      // After a partial capture a reversal releases the open remainder ("voids the entire open amount").
      if (open <= 0) return fail('reversal_after_capture');
      return ok(of(open));
    }
    case 'RF': {
      const refused = needsSuccess('refund_requires_capture');
      if (refused) return refused;
      if (t.chargedBack > 0) return fail('charged_back');
      if (t.captured === 0) return fail(t.reversed ? 'refund_exceeds_captured' : 'refund_requires_capture');
      if (t.refunded + t.inFlightRefunds + amount > t.captured) return fail('refund_exceeds_captured');
      return ok(of(amount));
    }
    case 'RB': {
      const refused = needsSuccess('rebill_requires_capture');
      if (refused) return refused;
      if (t.captured === 0) return fail('rebill_requires_capture');
      if (t.chargedBack > 0) return fail('charged_back');
      return ok(of(amount));
    }
    case 'CB': {
      const refused = needsSuccess('chargeback_requires_capture');
      if (refused) return refused;
      if (t.captured === 0) return fail('chargeback_requires_capture');
      if (txs.some((x) => x.type === 'CB' && x.status === 'succeeded')) return fail('multiple_chargebacks');
      if (amount > t.captured - t.refunded - t.inFlightRefunds) return fail('chargeback_exceeds_captured');
      return ok(of(amount));
    }
    case 'RC': {
      // A receipt confirms money the bank moved: on the authorization (funds arrived) up to its open
      // amount, on a debit, capture or rebill up to that transaction's amount.
      const target = req.target;
      const confirmable = ['PA', 'CP', 'DB', 'PA.CP', 'RB'].includes(target.type) && target.status === 'succeeded';
      if (!confirmable) return needsSuccess('receipt_requires_payment') ?? fail('receipt_requires_payment');
      if (target.id === initial.id && initial.type === 'PA') {
        if (t.reversed || t.captured + t.inFlightCaptures + amount > t.authorized) return fail('capture_exceeds_authorization');
        return ok(of(amount));
      }
      const confirmed = txs.filter((x) => x.type === 'RC' && x.referencedId === target.id && x.status !== 'failed')
        .reduce((s, x) => s + x.amount.amount, 0);
      if (confirmed + amount > target.amount.amount) return fail('receipt_exceeds_amount');
      return ok(of(amount));
    }
    case 'CR': {
      const cb = req.target;
      if (cb.type !== 'CB' || cb.status !== 'succeeded') return fail('chargeback_reversal_requires_chargeback');
      const reversedSoFar = txs.filter((x) => x.type === 'CR' && x.status === 'succeeded' && x.referencedId === cb.id)
        .reduce((s, x) => s + x.amount.amount, 0);
      if (reversedSoFar + amount > cb.amount.amount) return fail('chargeback_reversal_exceeds_chargeback');
      return ok(of(amount));
    }
  }
}

/** Invariants an independent checker asserts after every operation. Returns the broken ones. */
export function brokenInvariants(txs: readonly Transaction[]): string[] {
  const t = totalsOf(txs);
  const broken: string[] = [];
  if (t.captured > t.authorized) broken.push('captured exceeds authorized');
  if (t.refunded > t.captured) broken.push('refunded exceeds captured');
  if (t.chargedBack < 0) broken.push('chargeback reversals exceed chargebacks');
  if (t.chargedBack + t.refunded > t.captured) broken.push('chargebacks and refunds exceed captured');
  return broken;
}

/** Card checks both dialects need before anything is stored (pure: the time is passed in). */
export function checkCard(card: CardInput, nowMs: number): PaymentError | undefined {
  const digits = card.pan.reveal();
  if (!luhnValid(digits)) return 'invalid_card_number';
  const detected = detectBrand(digits);
  if (detected !== undefined && detected !== card.brand) return 'brand_mismatch';
  if (isExpired(card.expiryMonth, card.expiryYear, nowMs)) return 'card_expired';
  if (card.cvv !== undefined && card.cvv.reveal().length !== cvvLength(card.brand)) return 'cvv_brand_mismatch';
  return undefined;
}
