import type { WorkflowConfig } from './model.ts';

export interface PspAccount {
  readonly id: string;
  readonly merchantId: string;
  readonly name: string;
  /** The connector that serves the account, and its settings (validated by that connector). */
  readonly connector: string;
  /**
   * The settings as stored: secret ones masked once sealed into `sealedSecrets`; on rows written
   * before credentials were sealed, still in the clear until the gateway's next start seals them.
   */
  readonly settings: unknown;
  /** The connector's secret settings as JSON, sealed by the vault (bound to the merchant and name). */
  readonly sealedSecrets: string | undefined;
  /** The account's own PSP request timeout; undefined: the gateway's. */
  readonly timeoutMs: number | undefined;
  readonly createdAt: number;
  readonly updatedAt: number;
}

export interface WorkflowStore {
  /** Inserts or replaces the account of that name; returns the stored account. */
  upsertAccount(a: PspAccount): Promise<PspAccount>;
  /**
   * Inserts or replaces the account of that name, unless `refusalOf` the account as it is now
   * (undefined: none) refuses the change: at once, or (`whileInUse`: a move of its PSP, another
   * connector or its identity settings changed) while the account holds payments (`accountInUse`).
   * Read, checked and replaced in one unit, once other changes of the account and attempts being
   * recorded at it have committed: a move made while an attempt was, or decided on the account as
   * another operator's change left it before, would leave that attempt's, or a payment's, captures,
   * voids and status calls going to the other PSP.
   */
  putAccountUnless(a: PspAccount, refusalOf: (current: PspAccount | undefined) => { readonly reason: string; readonly whileInUse: boolean } | undefined): Promise<PspAccount | { refused: string }>;
  accounts(merchantId: string): Promise<PspAccount[]>;
  /** The ids of every merchant's accounts. */
  accountIds(): Promise<string[]>;
  account(id: string): Promise<PspAccount | undefined>;
  /** Accounts of these connectors whose credentials are not sealed yet (written before they were). */
  unsealedAccounts(connectors: readonly string[], limit: number): Promise<PspAccount[]>;
  /** Every account with sealed credentials (to re-seal them under a new key version). */
  sealedAccounts(): Promise<PspAccount[]>;
  /** Replaces an account's settings and sealed credentials if its sealed credentials are still `expected`. */
  replaceSecrets(id: string, expected: string | undefined, settings: unknown, sealedSecrets: string): Promise<boolean>;
  /**
   * Removes the account unless a workflow of the merchant names it or it holds payments
   * (`accountInUse`), checked and removed under the merchant's routing (`setWorkflow` holds it too).
   */
  removeAccount(merchantId: string, name: string): Promise<'removed' | 'not_found' | 'named' | 'in_use'>;
  /**
   * Whether the account holds money's business: a payment authorized at it (its follow-ups go
   * there), an attempt at it the PSP may still approve, or a late approval being reversed there.
   */
  accountInUse(id: string): Promise<boolean>;
  workflow(merchantId: string, code: string): Promise<WorkflowConfig | undefined>;
  /**
   * What routing a payment needs, read in one statement (one snapshot): the workflow's configuration
   * (undefined until set) and the merchant's accounts it names (nothing when there is no such
   * merchant or workflow): a merchant may have hundreds of accounts for a cascade of a few.
   */
  routing(merchantId: string, code: string): Promise<{ workflow: WorkflowConfig | undefined; accounts: Pick<PspAccount, 'id' | 'name' | 'connector'>[] }>;
  /**
   * Sets the workflow's configuration, unless `refusal`, given the merchant's accounts as they are
   * under the merchant's routing (held against an account's removal meanwhile), says why not.
   */
  setWorkflow(merchantId: string, code: string, config: WorkflowConfig, at: number, refusal?: (accounts: PspAccount[]) => string | undefined): Promise<string | undefined>;
}
