import type { Tx } from '../storage/unit-of-work.ts';
import type { ExecutionRecord, ExecutionStatus } from './model.ts';

/** The execution writes inside one unit of work. */
export interface ExecutionWriter {
  /** Loads and locks (PostgreSQL: FOR UPDATE) an execution. */
  lock(id: string): Promise<ExecutionRecord | undefined>;
  /** Loads and locks the execution whose authorization made this payment. */
  lockByPayment(paymentId: string): Promise<ExecutionRecord | undefined>;
  insert(e: ExecutionRecord): Promise<void>;
  update(e: ExecutionRecord): Promise<void>;
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
  /** The execution writes of a unit of work (storage opens the transaction). */
  writer(tx: Tx): ExecutionWriter;
  get(id: string): Promise<ExecutionRecord | undefined>;
  byPayment(paymentId: string): Promise<ExecutionRecord | undefined>;
  list(filter: ExecutionFilter): Promise<ExecutionRecord[]>;
}
