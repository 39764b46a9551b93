import type { OutboxEvent } from '../payments/store.ts';
import type { ExecutionRecord, ExecutionStatus } from './model.ts';

/** Writes inside one database transaction. */
export interface ExecutionWriter {
  /** Loads and locks (PostgreSQL: FOR UPDATE) an execution. */
  lock(id: string): Promise<ExecutionRecord | undefined>;
  insert(e: ExecutionRecord): Promise<void>;
  update(e: ExecutionRecord): Promise<void>;
  addEvent(e: OutboxEvent): Promise<void>;
  /** Tells other nodes the execution changed; delivered when (and only if) the transaction commits. */
  notify(id: string): Promise<void>;
}

export interface ExecutionFilter {
  readonly merchantId: string;
  readonly workflowCode: string;
  readonly merchantReference?: string;
  readonly holderReference?: string;
  readonly lastStatus?: ExecutionStatus;
  readonly workspaceId?: string;
  /** Keyset cursor: rows strictly after this (createdAt, id), newest first. */
  readonly before?: { createdAt: number; id: string };
  readonly limit: number;
}

export interface ExecutionStore {
  write<T>(fn: (w: ExecutionWriter) => Promise<T>): Promise<T>;
  get(id: string): Promise<ExecutionRecord | undefined>;
  list(filter: ExecutionFilter): Promise<ExecutionRecord[]>;
  /**
   * Executions in one of these statuses, last changed before `before`, oldest change first: work a
   * crash may have left. Executions awaiting their shopper (`authorizePending` with an action) are left out.
   */
  stale(statuses: readonly ExecutionStatus[], before: number, limit: number): Promise<ExecutionRecord[]>;
}
