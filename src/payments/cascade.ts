import type { Money } from '../money/money.ts';
import type { Entity, Merchant } from '../merchants/model.ts';
import type { Clock } from '../runtime/clock.ts';
import type { Ids } from '../runtime/ids.ts';
import type { Cvv } from '../vault/card.ts';
import { declineCategoryOf, type DeclineCategory } from '../processors/accounts.ts';
import type { Authentication } from '../processors/port.ts';
import type { TransactionStatus } from './model.ts';
import type { PaymentService } from './service.ts';
import type { PaymentError } from './errors.ts';

/** The gateway's own acquirer, used when a merchant has configured no PSP account. */
export const defaultAccount = { id: 'default', name: 'default' } as const;

export interface CascadeAccount {
  readonly id: string;
  readonly name: string;
}

/** The ordered PSP accounts of a cascade and the decline categories that move on to the next one. */
export interface CascadeRules {
  readonly accounts: readonly CascadeAccount[];
  readonly moveOn: readonly DeclineCategory[];
}

/** One attempt as the cascade sees it: `missing` means recorded but its payment never started. */
export interface AttemptState {
  readonly id: string;
  readonly seq: number;
  readonly accountId: string;
  readonly accountName: string;
  readonly authenticated: boolean;
  readonly status: TransactionStatus | 'missing';
  readonly resultCode: string | undefined;
  readonly createdAt: number;
}

export type CascadeStep =
  | { readonly kind: 'attempt'; readonly seq: number; readonly account: CascadeAccount; readonly rerun: AttemptState | undefined }
  | { readonly kind: 'approved'; readonly attempt: AttemptState }
  | { readonly kind: 'declined'; readonly attempt: AttemptState; readonly category: DeclineCategory }
  | { readonly kind: 'unknown'; readonly attempt: AttemptState };

/**
 * The cascade's rule, pure: given the attempts so far (oldest first), what happens next. An attempt
 * whose outcome is pending or unknown stops everything: the next PSP is never tried while the
 * previous one may still have charged the card.
 */
export function nextStep(rules: CascadeRules, attempts: readonly AttemptState[]): CascadeStep {
  const first = rules.accounts[0] ?? defaultAccount;
  const last = attempts.at(-1);
  if (!last) return { kind: 'attempt', seq: 0, account: first, rerun: undefined };
  switch (last.status) {
    // Recorded, never sent (a crash between the two): the same attempt is started again.
    case 'missing': return { kind: 'attempt', seq: last.seq, account: { id: last.accountId, name: last.accountName }, rerun: last };
    case 'awaiting': case 'pending': case 'unknown': return { kind: 'unknown', attempt: last };
    case 'succeeded': return { kind: 'approved', attempt: last };
    case 'failed': {
      const category = declineCategoryOf(last.resultCode ?? '');
      const next = rules.accounts[last.seq + 1];
      if (next && rules.moveOn.includes(category)) return { kind: 'attempt', seq: last.seq + 1, account: next, rerun: undefined };
      return { kind: 'declined', attempt: last, category };
    }
  }
}

export interface CascadeAttemptRecord {
  readonly id: string;
  readonly cascadeId: string;
  readonly seq: number;
  readonly accountId: string;
  readonly accountName: string;
  readonly authenticated: boolean;
  readonly createdAt: number;
}

export interface CascadeStore {
  /** False when the (cascade, seq) slot is taken already: another node started that attempt. */
  insert(a: CascadeAttemptRecord): Promise<boolean>;
  attempts(cascadeId: string): Promise<CascadeAttemptRecord[]>;
}

export interface CascadeInput {
  /** The subject the attempts belong to (an execution's id). */
  readonly cascadeId: string;
  readonly merchant: Merchant;
  readonly entity: Entity;
  readonly amount: Money;
  readonly cardId: string;
  readonly cvv: Cvv | undefined;
  readonly rules: CascadeRules;
  readonly authentication: Authentication | undefined;
  readonly merchantTransactionId: string | undefined;
}

export type CascadeOutcome =
  | Exclude<CascadeStep, { kind: 'attempt' }>
  | { readonly kind: 'rejected'; readonly error: PaymentError | 'card_not_found' };

export interface Cascade {
  /**
   * Runs (or resumes) the cascade until it approves, declines for good or meets an unknown
   * outcome. Safe to call again at any time: recorded attempts are never sent twice.
   */
  run(input: CascadeInput): Promise<CascadeOutcome>;
  /** Every attempt with its current state, oldest first. */
  attempts(cascadeId: string): Promise<AttemptState[]>;
}

export function createCascade(deps: { payments: PaymentService; store: CascadeStore; ids: Ids; clock: Clock }): Cascade {
  const { payments, store, ids, clock } = deps;

  async function attempts(cascadeId: string): Promise<AttemptState[]> {
    const records = await store.attempts(cascadeId);
    return Promise.all(records.map(async (r) => {
      const p = await payments.transactionsOf(r.id);
      const t = p?.transactions[0];
      return {
        id: r.id, seq: r.seq, accountId: r.accountId, accountName: r.accountName, authenticated: r.authenticated,
        status: t ? t.status : 'missing', resultCode: t?.resultCode, createdAt: r.createdAt,
      } satisfies AttemptState;
    }));
  }

  return {
    attempts,
    async run(input) {
      for (;;) {
        const step = nextStep(input.rules, await attempts(input.cascadeId));
        if (step.kind !== 'attempt') return step;
        let id = step.rerun?.id;
        if (!id) {
          id = ids.hex32();
          const claimed = await store.insert({
            id, cascadeId: input.cascadeId, seq: step.seq, accountId: step.account.id, accountName: step.account.name,
            authenticated: input.authentication !== undefined, createdAt: clock.now(),
          });
          if (!claimed) continue;
        }
        const result = await payments.authorizeStored({
          merchant: input.merchant, entity: input.entity, paymentId: id, amount: input.amount, cardId: input.cardId,
          cvv: input.cvv, account: step.account.id === defaultAccount.id ? undefined : step.account.id,
          authentication: input.authentication, merchantTransactionId: input.merchantTransactionId, echo: {},
        });
        if (!result.ok) return { kind: 'rejected', error: result.error };
      }
    },
  };
}
