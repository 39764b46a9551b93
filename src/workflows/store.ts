import type { WorkflowConfig } from './model.ts';

export interface PspAccount {
  readonly id: string;
  readonly merchantId: string;
  readonly name: string;
  /** The connector that serves the account, and its settings (validated by that connector). */
  readonly connector: string;
  readonly settings: unknown;
  readonly createdAt: number;
  readonly updatedAt: number;
}

export interface WorkflowStore {
  /** Inserts or replaces the account of that name; returns the stored account. */
  upsertAccount(a: PspAccount): Promise<PspAccount>;
  accounts(merchantId: string): Promise<PspAccount[]>;
  account(id: string): Promise<PspAccount | undefined>;
  removeAccount(merchantId: string, name: string): Promise<boolean>;
  workflow(merchantId: string, code: string): Promise<WorkflowConfig | undefined>;
  setWorkflow(merchantId: string, code: string, config: WorkflowConfig, at: number): Promise<void>;
}
