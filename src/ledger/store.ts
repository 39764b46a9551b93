import type { Tx } from '../storage/unit-of-work.ts';
import type { Operation } from '../payments/model.ts';
import type { Posting } from './model.ts';
import type { LateApprovalReference } from './reconciliation.ts';

/** Which discrepancies a list reads, and the page. */
export interface DiscrepancyFilter {
  readonly id?: string;
  readonly status?: 'open' | 'resolved';
  readonly merchantId?: string;
  readonly reportId?: string;
  readonly after?: { readonly createdAt: number; readonly id: string };
  readonly limit?: number;
}

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
  /**
   * A merchant's postings summed per currency, PSP account and pair of accounts: what its balances
   * are made of, computed by the database (a merchant's postings never all come into memory).
   */
  sums(merchantId: string): Promise<Pick<Posting, 'merchantId' | 'currency' | 'pspAccountId' | 'debit' | 'credit' | 'amount'>[]>;
  /** Every posting and every payment with its operations, read in one snapshot (for `ledger verify` on a running gateway). */
  books(): Promise<{ postings: Posting[]; payments: PaymentOperations[] }>;
}

/** A PSP account a report can be reconciled for; `default` (no merchant) is the gateway's own acquirer. */
export interface SettlementAccount {
  readonly id: string;
  readonly name: string;
  readonly merchantId: string | undefined;
  readonly connector: string;
  readonly settings: unknown;
}

export interface DiscrepancyRecord {
  readonly id: string;
  readonly reportId: string;
  readonly pspAccountId: string;
  readonly merchantId: string | undefined;
  readonly kind: string;
  readonly reference: string;
  readonly paymentId: string | undefined;
  readonly operationId: string | undefined;
  readonly currency: string;
  readonly expected: number | undefined;
  /** The currency of `expected` where it is not `currency` (the report line's). */
  readonly expectedCurrency: string | undefined;
  readonly reported: number | undefined;
  /** The report line's fee and net where its net is not its gross (`reported`) less its fee. */
  readonly reportedFee: number | undefined;
  readonly reportedNet: number | undefined;
  readonly status: 'open' | 'resolved';
  readonly note: string | undefined;
  readonly createdAt: number;
  readonly resolvedAt: number | undefined;
}

/** The settlement side of the books: reports imported, discrepancies, and the ledger's view of a PSP account. */
export interface SettlementStore {
  writer(tx: Tx): {
    /**
     * Holds the PSP account's settlements until the transaction ends (PostgreSQL: an advisory lock;
     * SQLite has one writer): two imports at once must not both find a movement unsettled.
     */
    lockAccount(pspAccountId: string): Promise<void>;
    /**
     * Which movements of these operations a settlement has posted already, read under the lock:
     * their `settledKey`s (reconciliation.ts), the undo of one apart from its movement.
     */
    settledMovements(operationIds: readonly string[]): Promise<Set<string>>;
    /** Records a report; false when one with the same id is there already (nothing else is written then). */
    insertReport(r: { id: string; pspAccountId: string; day: string; summary: string; importedAt: number }): Promise<boolean>;
    insertDiscrepancies(ds: readonly DiscrepancyRecord[]): Promise<void>;
    /** Marks an open discrepancy resolved; undefined when there is no open one with that id. */
    resolve(id: string, note: string, at: number): Promise<DiscrepancyRecord | undefined>;
  };
  /** The summary an import of this report recorded, as JSON. */
  reportSummary(id: string): Promise<string | undefined>;
  /** PSP accounts named so (for one merchant, or all). */
  accountsNamed(name: string, merchantId: string | undefined): Promise<SettlementAccount[]>;
  /** Posted receivable legs at a PSP account: made within [from, to), or of these operations. */
  receivablePostings(pspAccountId: string, filter: { from: number; to: number } | { operationIds: readonly string[] } | { paymentIds: readonly string[] }): Promise<Posting[]>;
  /**
   * What a PSP knows the gateway's operations by: for each of these references that is the id of an
   * attempt at this account (the merchant reference a connector sends) or the PSP's own reference of
   * one, the operations it names (a PSP reference may name two: Stripe's PaymentIntent is the
   * authorization's and its capture's).
   */
  operationsKnownAs(pspAccountId: string, references: readonly string[]): Promise<Map<string, string[]>>;
  /** Late approvals at a PSP account whose charge's operation or reversal's key is one of these references. */
  lateApprovalReferences(pspAccountId: string, references: readonly string[]): Promise<Map<string, LateApprovalReference>>;
  /** Merchant id → workspace id, for webhook bodies. */
  workspaces(merchantIds: readonly string[]): Promise<Map<string, string>>;
  /**
   * Oldest first. `after` (a discrepancy's `createdAt` and `id`) starts past it; `limit` bounds the
   * page (none: every match).
   */
  discrepancies(filter: DiscrepancyFilter): Promise<DiscrepancyRecord[]>;
  /** Postings made within [from, to), oldest first, optionally of one merchant. */
  postingsPage(from: number, to: number, merchantId: string | undefined, after: Pick<Posting, 'createdAt' | 'operationId' | 'phase' | 'leg'> | undefined, limit: number): Promise<Posting[]>;
}
