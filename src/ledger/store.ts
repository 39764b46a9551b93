import type { Tx } from '../storage/unit-of-work.ts';
import type { Operation } from '../payments/model.ts';
import type { Posting } from './model.ts';

/** The ledger's writes inside the unit of work of a payment change. */
export interface LedgerWriter {
  /** Inserts postings; one already there (same operation, phase and leg) is left as it is. */
  post(postings: readonly Posting[]): Promise<void>;
}

/** A payment with its operations, as the invariant checker compares them to the ledger. */
export interface PaymentOperations {
  readonly payment: { readonly id: string; readonly merchantId: string };
  readonly operations: readonly Operation[];
}

export interface LedgerStore {
  writer(tx: Tx): LedgerWriter;
  /** Postings oldest first; all of them without a filter. */
  postings(filter?: { merchantId?: string; paymentId?: string }): Promise<Posting[]>;
  /** Every payment and its operations, for `ledger verify`. */
  paymentsWithOperations(): Promise<PaymentOperations[]>;
}
