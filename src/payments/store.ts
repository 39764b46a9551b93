import type { Tx } from '../storage/unit-of-work.ts';
import type { DeclineReason, InitialKind, Operation, OperationKind, OperationStatus, PaymentStatus } from './model.ts';

export const paymentMethods = ['card', 'bank_transfer'] as const;
export type PaymentMethod = (typeof paymentMethods)[number];

/** Which dialect a payment was made through: it decides who is told about it, never how money moves. */
export const channels = ['opp', 'executions'] as const;
export type Channel = (typeof channels)[number];

/** A payment: the merchant's intent, the root of its operations. */
export interface PaymentRecord {
  readonly id: string;
  readonly merchantId: string;
  readonly channel: Channel;
  /** The /v1 entity a payment of that channel belongs to. */
  readonly entityId: string | undefined;
  readonly initialKind: InitialKind;
  readonly status: PaymentStatus;
  readonly amount: number;
  readonly currency: string;
  readonly cardId: string | undefined;
  readonly method: PaymentMethod;
  /** A live merchant's payments reach PSPs' production systems. */
  readonly live: boolean;
  /** The PSP account that holds the authorization (set by the approving attempt); every follow-up goes there. */
  readonly pspAccountId: string | undefined;
  /** The workflow whose cascade routes the authorization; none: the gateway's default acquirer. */
  readonly workflowCode: string | undefined;
  readonly version: number;
  readonly createdAt: number;
  readonly updatedAt: number;
}

/** An operation with what the store keeps beside the rule-relevant fields. */
export interface OperationRecord extends Operation {
  /** Position within the payment (0 for the opening operation). */
  readonly seq: number;
  readonly merchantId: string;
  readonly entityId: string | undefined;
  /** The acquirer's own result code, when a PSP answered. */
  readonly resultCode: string | undefined;
  /** Why it did not succeed, in neutral terms. */
  readonly reason: DeclineReason | undefined;
  readonly pspReference: string | undefined;
  readonly merchantTransactionId: string | undefined;
  readonly shortId: string;
  /** What the merchant sent that the engine keeps for the dialect and never interprets. */
  readonly context: Readonly<Record<string, unknown>>;
  /** What the PSP and 3-D Secure reported. */
  readonly details: Readonly<Record<string, string>>;
  /** When its PSP answer was found lost (the reconciler settles it later). */
  readonly unknownSince: number | undefined;
  readonly updatedAt: number;
}

/** One try of an operation at one PSP account, recorded before the call. */
export interface AttemptRecord {
  /** Also the PSP's idempotency key and what the reconciler asks about. */
  readonly id: string;
  readonly paymentId: string;
  readonly operationId: string;
  readonly seq: number;
  readonly accountId: string;
  readonly accountName: string;
  readonly connector: string;
  readonly authenticated: boolean;
  readonly status: OperationStatus;
  readonly reason: DeclineReason | undefined;
  readonly resultCode: string | undefined;
  readonly pspReference: string | undefined;
  readonly createdAt: number;
  readonly updatedAt: number;
}

/** What settling an operation or an attempt writes. */
export interface Settlement {
  readonly status: OperationStatus;
  readonly reason: DeclineReason | undefined;
  readonly resultCode: string | undefined;
  readonly pspReference: string | undefined;
  readonly details: Readonly<Record<string, string>>;
  readonly at: number;
}

/** A payment as a unit of work holds it: kept up to date by that unit's own writes. */
export interface LockedPayment {
  payment: PaymentRecord;
  operations: OperationRecord[];
  readonly attempts: AttemptRecord[];
}

/** The payment writes inside one unit of work. */
export interface PaymentWriter {
  /** Loads and locks (PostgreSQL: FOR UPDATE) a payment with its operations and attempts, oldest first. */
  lock(paymentId: string): Promise<LockedPayment | undefined>;
  insertPayment(p: PaymentRecord): Promise<void>;
  /**
   * Inserts an operation. With `uniqueMerchantTransactionId` the database refuses a second opening
   * operation with the same merchant transaction id on the entity: false then, and nothing written.
   */
  insertOperation(o: OperationRecord, options?: { uniqueMerchantTransactionId?: boolean }): Promise<boolean>;
  settleOperation(id: string, s: Settlement, unknownSince?: number): Promise<void>;
  /**
   * Frees a failed opening operation's merchant transaction id on an entity that keeps them unique,
   * so another payment may carry it (a checkout's next card after a decline). Nothing else changes.
   */
  releaseReference(operationId: string): Promise<void>;
  /** An awaiting operation whose shopper finished: back to `pending`, about to go to the PSP. */
  resumeOperation(id: string, details: Readonly<Record<string, string>>, at: number): Promise<void>;
  /** Marks an open operation as looked at (the reconciler's backoff counts from here). */
  touchOperation(id: string, at: number): Promise<void>;
  updatePayment(id: string, change: { status: PaymentStatus; pspAccountId?: string | undefined }, at: number): Promise<void>;
  /**
   * False when the (operation, seq) slot is taken: another node started that attempt. For an
   * operation this writer inserted (no other transaction can see it) the answer is true at once and
   * the insert may be held: a slot taken twice within the unit is a bug, and fails the unit.
   */
  insertAttempt(a: AttemptRecord): Promise<boolean>;
  settleAttempt(attempt: Pick<AttemptRecord, 'operationId' | 'seq'>, s: Settlement): Promise<void>;
  /**
   * Marks the authorization's hold released (the expiry job need not look at it again), or, with
   * null, open again (a capture its PSP reported failed put money back on hold).
   */
  setHoldReleased(paymentId: string, at: number | null): Promise<void>;
  /** Marks a bank transfer a receipt has confirmed: the receipt sweep never reads it again. */
  setReceiptSettled(paymentId: string, at: number): Promise<void>;
  /**
   * Whether a payment other than `paymentId` was made with this card, read in the unit of work (so
   * after whatever the caller holds: a stored card's row, which a payment holds as it records its intent).
   */
  chargedElsewhere(cardId: string, paymentId: string): Promise<boolean>;
}

export interface PaymentStore {
  /** The payment writes of a unit of work (storage opens the transaction). */
  writer(tx: Tx): PaymentWriter;
  operation(id: string): Promise<OperationRecord | undefined>;
  payment(id: string): Promise<PaymentRecord | undefined>;
  operationsOf(paymentId: string): Promise<OperationRecord[]>;
  attemptsOf(paymentId: string): Promise<AttemptRecord[]>;
  /** One attempt by its id (the id a PSP knows it by). */
  attempt(id: string): Promise<AttemptRecord | undefined>;
  /** An entity's operations with that reference, oldest first; `page` skips `offset` and returns at most `limit`. */
  /** The operations of a merchant reference, oldest first; only those of `kinds` when given. */
  byMerchantTransactionId(entityId: string, merchantTransactionId: string, page?: { offset: number; limit: number }, kinds?: readonly OperationKind[]): Promise<OperationRecord[]>;
  countByMerchantTransactionId(entityId: string, merchantTransactionId: string, kinds?: readonly OperationKind[]): Promise<number>;
  /** The payments held at a PSP account one of whose operations the PSP knows by that reference (at most two: more than one is ambiguous). */
  paymentsByPspReference(accountId: string, pspReference: string): Promise<string[]>;
  /**
   * Operations whose PSP outcome is open (unknown, pending with the PSP, or recorded without an
   * attempt's answer), last touched before `before`, oldest first; after `after` (the last of the
   * previous page) when given.
   */
  openOperations(before: number, limit: number, after?: { readonly updatedAt: number; readonly id: string }): Promise<OperationRecord[]>;
  /** Operations still waiting for their shopper, last changed before `before`. */
  awaitingBefore(before: number, limit: number): Promise<OperationRecord[]>;
  /** Bank transfers the shopper confirmed, not yet marked confirmed by a receipt, last changed before `before`. */
  bankTransfersAwaitingReceipt(before: number, limit: number): Promise<PaymentRecord[]>;
  /**
   * Authorizations (by card, or a bank transfer's) whose hold may still be open (authorized or partly
   * captured, not yet marked released), made before `before`, after the (created_at, id) cursor,
   * oldest first, with the card's brand.
   */
  openHoldsBefore(before: number, after: { createdAt: number; id: string } | undefined, limit: number): Promise<(PaymentRecord & { readonly brand: string | undefined })[]>;
  /** Whether a payment with this card was ever approved (whatever became of it since). */
  approvedWithCard(cardId: string): Promise<boolean>;
  /**
   * Whether the payment that stored this card, made at `createdAt` (a registration made with a
   * payment shares its card and its time), has no outcome yet (pending or unknown).
   */
  firstChargeOpen(cardId: string, createdAt: number): Promise<boolean>;
  /** An operation of this merchant whose id or PSP reference is `reference`, if any (the first found). */
  operationNamed(merchantId: string, reference: string): Promise<OperationRecord | undefined>;
  /**
   * Captures that ended with `status` (succeeded, or failed after their PSP released the rest) and
   * last changed in (`from`, `to`], after the (updated_at, id) cursor, oldest first.
   */
  capturesEndedBetween(status: 'succeeded' | 'failed', from: number, to: number, after: { readonly updatedAt: number; readonly id: string } | undefined, limit: number): Promise<OperationRecord[]>;
  /**
   * Whether an operation that may charge the card is still open (pending, awaiting its shopper, or
   * unknown): an attempt of it, or the cascade's next, needs the card number. A payment's own open
   * operations count (a rebill on a captured payment among them), and a rebill naming the card as
   * the one it charges (a renewed registration's).
   */
  openWithCard(cardId: string): Promise<boolean>;
}
