import type { Clock } from '../runtime/clock.ts';
import type { Result } from '../runtime/result.ts';
import type { Money } from '../money/money.ts';
import type { MerchantService } from '../merchants/service.ts';
import type { WorkflowService } from '../workflows/service.ts';
import type { WebhookService } from '../webhooks/service.ts';
import type { VaultService } from '../vault/service.ts';
import type { PaymentService } from '../payments/service.ts';
import type { PaymentRecord } from '../payments/store.ts';
import type { PaymentSearch } from '../search/model.ts';
import type { LedgerService } from '../ledger/service.ts';
import type { SettlementService } from '../ledger/settlement.ts';
import type { DashboardAuth } from './service.ts';
import type { Idempotency } from '../idempotency/service.ts';
import type { Tx } from '../storage/unit-of-work.ts';

export type ActionKind = 'capture' | 'refund' | 'void';

/**
 * Runs a back-office action through the engine (the composition root routes it through the
 * payment's own dialect, so that dialect's view and webhooks follow). Errors are the engine's codes.
 */
export type PaymentAction = (input: {
  payment: PaymentRecord; kind: ActionKind; amount: Money | undefined;
  /** Written in the unit of work that records the action (the confirmation key's completion). */
  join: (tx: Tx) => Promise<void>;
}) => Promise<Result<void, string>>;

/**
 * Whether the payment's own dialect lets the action be asked now (an execution's status, a capture
 * closed by a final one); the engine's money rules are checked apart.
 */
export type DialectAllows = (payment: PaymentRecord, kind: ActionKind) => Promise<boolean>;

export interface DashboardDeps {
  auth: DashboardAuth;
  search: PaymentSearch;
  payments: PaymentService;
  merchants: MerchantService;
  workflows: WorkflowService;
  webhooks: WebhookService;
  vault: Pick<VaultService, 'keyStatus' | 'loadedKeyVersions'>;
  ledger: Pick<LedgerService, 'paymentPostings'>;
  /** Settlement reconciliation's discrepancies, listed and resolved. */
  settlement: Pick<SettlementService, 'discrepancies' | 'resolve'>;
  act: PaymentAction;
  dialectAllows: DialectAllows;
  /** Each confirmation page's one-time key: the action it confirms runs once however often the form is sent. */
  idempotency: Pick<Idempotency, 'admit' | 'complete' | 'completeIn' | 'release'>;
  clock: Clock;
  /** Masks card numbers in free text, as references holding one were stored (so the masked search still finds them). */
  maskCardNumbers: (text: string) => string;
  /** The gateway's public URL: the base of the notification URLs shown (without it, their paths). */
  publicUrl?: string | undefined;
}

