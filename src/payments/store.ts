import type { InstrumentRecord, StoredCard } from '../vault/store.ts';
import type { PaymentStatus, Transaction, TransactionStatus } from './model.ts';

export const paymentMethods = ['card', 'bank_transfer'] as const;
export type PaymentMethod = (typeof paymentMethods)[number];

/** A payment row: the root of a tree of transactions. */
export interface PaymentRecord {
  readonly id: string;
  readonly merchantId: string;
  readonly entityId: string;
  readonly initialType: string;
  readonly status: PaymentStatus;
  readonly amount: number;
  readonly currency: string;
  readonly cardId: string | undefined;
  readonly method: PaymentMethod;
  readonly mode: string;
  readonly version: number;
  readonly createdAt: number;
  readonly updatedAt: number;
}

/** A transaction with what the store keeps beside the rule-relevant fields. */
export interface TransactionRecord extends Transaction {
  /** Position within the payment (0 for the initial transaction). */
  readonly seq: number;
  readonly merchantId: string;
  readonly entityId: string;
  readonly resultCode: string | undefined;
  readonly pspReference: string | undefined;
  readonly merchantTransactionId: string | undefined;
  readonly shortId: string;
  /** Request parameters to echo back (customer, billing, customParameters, …). */
  readonly echo: Readonly<Record<string, unknown>>;
  /** What the PSP reported (resultDetails). */
  readonly details: Readonly<Record<string, string>>;
  readonly updatedAt: number;
}

export interface TransactionOutcome {
  readonly status: TransactionStatus;
  readonly resultCode: string;
  readonly pspReference: string | undefined;
  readonly details: Readonly<Record<string, string>>;
  readonly at: number;
}

export interface OutboxEvent {
  readonly id: string;
  readonly merchantId: string;
  readonly type: string;
  readonly subjectId: string;
  readonly payload: Readonly<Record<string, unknown>>;
  readonly createdAt: number;
}

/** Writes that happen inside one database transaction. */
export interface PaymentWriter {
  /** Loads and locks (PostgreSQL: FOR UPDATE) a payment and its transactions, oldest first. */
  lock(paymentId: string): Promise<{ payment: PaymentRecord; transactions: TransactionRecord[] } | undefined>;
  merchantTransactionIdTaken(entityId: string, merchantTransactionId: string): Promise<boolean>;
  insertCard(card: StoredCard): Promise<void>;
  /** A registration made with the payment (`createRegistration`). */
  insertInstrument(instrument: InstrumentRecord): Promise<void>;
  insertPayment(p: PaymentRecord): Promise<void>;
  insertTransaction(t: TransactionRecord): Promise<void>;
  settleTransaction(id: string, outcome: TransactionOutcome): Promise<void>;
  /** An awaiting attempt whose shopper finished: back to `pending` without a result, about to go to the PSP. */
  resumeTransaction(id: string, details: Readonly<Record<string, string>>, at: number): Promise<void>;
  updatePaymentStatus(id: string, status: PaymentStatus, at: number): Promise<void>;
  addEvent(e: OutboxEvent): Promise<void>;
}

export interface PaymentStore {
  /** Runs `fn` in one database transaction; everything it writes commits together or not at all. */
  write<T>(fn: (w: PaymentWriter) => Promise<T>): Promise<T>;
  transaction(id: string): Promise<TransactionRecord | undefined>;
  payment(id: string): Promise<PaymentRecord | undefined>;
  transactionsOf(paymentId: string): Promise<TransactionRecord[]>;
  /** An entity's transactions with that reference, oldest first; `page` skips `offset` and returns at most `limit`. */
  byMerchantTransactionId(entityId: string, merchantTransactionId: string, page?: { offset: number; limit: number }): Promise<TransactionRecord[]>;
  countByMerchantTransactionId(entityId: string, merchantTransactionId: string): Promise<number>;
  /** Attempts left `unknown`, or `pending` without any PSP answer, last touched before `before`. */
  unsettled(before: number, limit: number): Promise<TransactionRecord[]>;
  /** Initial attempts still waiting for their shopper, started before `before`. */
  awaitingBefore(before: number, limit: number): Promise<TransactionRecord[]>;
  /** Authorized bank-transfer payments without a full receipt, last changed before `before`. */
  bankTransfersAwaitingReceipt(before: number, limit: number): Promise<PaymentRecord[]>;
}
