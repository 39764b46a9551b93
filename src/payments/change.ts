import type { Tx } from '../storage/unit-of-work.ts';
import type { VaultWriter } from '../vault/store.ts';
import type { OutboxEvent } from '../webhooks/outbox.ts';
import type { Challenge } from '../threeds/store.ts';
import type { PaymentStatus } from './model.ts';
import type { AttemptRecord, OperationRecord, PaymentRecord, PaymentWriter } from './store.ts';

/** The writers of one unit of work a payment change uses: its own, the vault's and the outbox. */
export interface Writers {
  readonly tx: Tx;
  readonly payments: PaymentWriter;
  readonly vault: VaultWriter;
  event(e: OutboxEvent): Promise<void>;
}

/** A payment as it is after a change, with what changed. */
export interface PaymentChange {
  readonly payment: PaymentRecord;
  readonly operations: readonly OperationRecord[];
  readonly attempts: readonly AttemptRecord[];
  /** The operation that changed (inserted, resumed or settled). */
  readonly operation: OperationRecord;
  readonly previousStatus: PaymentStatus | undefined;
  /** The hosted page opened for the shopper, when the change made the operation wait for one. */
  readonly challenge?: Pick<Challenge, 'id' | 'purpose'>;
  /**
   * The operation had succeeded and its PSP has since reported it failed (a capture or refund the
   * card scheme rejected): what it moved goes back (the ledger reverses its postings).
   */
  readonly undone?: boolean;
}

/**
 * Told of every change of a payment inside the unit of work that makes it, so a concern that keeps
 * its own view of payments (the executions dialect's executions) moves with them in the same
 * commit and can never be left behind by a crash. Registered by the composition root.
 */
export interface PaymentObserver {
  paymentChanged(tx: Tx, change: PaymentChange): Promise<void>;
}
