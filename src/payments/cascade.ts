import type { CascadeAccount, CascadeRules, DeclineCategory } from '../workflows/model.ts';
import type { DeclineReason, OperationStatus } from './model.ts';

export type { CascadeAccount, CascadeRules };

/** One attempt as the cascade sees it. */
export interface CascadeAttempt {
  readonly seq: number;
  readonly accountId: string;
  readonly status: OperationStatus;
  readonly reason: DeclineReason | undefined;
}

/**
 * How a cascade treats a neutral decline reason: fraud and bad data stop it like a bad card. A
 * request an account could not carry (`not_supported`) says nothing of the card: counted with a
 * provider's failure, it moves on to the next account whatever the workflow moves on after (nextStep).
 */
export function cascadeCategoryOf(reason: DeclineReason | undefined): DeclineCategory {
  switch (reason) {
    case 'soft': return 'soft';
    case 'provider_error': case 'not_received': case 'not_supported': case undefined: return 'error';
    default: return 'hard';
  }
}

export type CascadeStep =
  | { readonly kind: 'attempt'; readonly seq: number; readonly account: CascadeAccount }
  | { readonly kind: 'approved' }
  | { readonly kind: 'declined'; readonly category: DeclineCategory }
  /** The last attempt's outcome is not known yet: nothing else may be tried. */
  | { readonly kind: 'waiting' };

/**
 * The cascade's rule, pure: given the attempts of one operation so far (in seq order, as
 * `attemptsOfOperation` gives them), what happens next. An attempt whose outcome is pending or
 * unknown stops everything: the next PSP is never tried while the previous one may still have
 * charged the card. After a decline the cascade goes on to the first account of `rules` this
 * operation has not tried: the rules are the workflow's as it is now, which an operator may have
 * reordered or shortened while an attempt's answer was awaited, so a position in them would send
 * the card back to the account that just declined it, or skip one never tried.
 */
export function nextStep(rules: CascadeRules, attempts: readonly CascadeAttempt[]): CascadeStep {
  const first = rules.accounts[0];
  const last = attempts.at(-1);
  if (!last) return first ? { kind: 'attempt', seq: 0, account: first } : { kind: 'declined', category: 'error' };
  switch (last.status) {
    case 'awaiting': case 'pending': case 'unknown': return { kind: 'waiting' };
    case 'succeeded': return { kind: 'approved' };
    case 'failed': {
      const category = cascadeCategoryOf(last.reason);
      const tried = new Set(attempts.map((a) => a.accountId));
      const next = rules.accounts.find((a) => !tried.has(a.id));
      // An account that cannot carry the request is passed over whatever the workflow moves on
      // after: the merchant's choice is about what PSPs answered of the card, and this one said
      // nothing of it. A bank transfer or a credit the first account cannot make reaches the one
      // that can (the shopper had already confirmed the transfer at the bank).
      if (next && (last.reason === 'not_supported' || rules.moveOn.includes(category))) return { kind: 'attempt', seq: last.seq + 1, account: next };
      return { kind: 'declined', category };
    }
  }
}

/** Rules that move on to no account: an operation settled with them ends with its attempt's outcome. */
export const noAccountLeft: CascadeRules = { accounts: [], moveOn: [] };

/**
 * Whether a shopper's payment is past moving on to its cascade's next account: its last attempt
 * (or, with none, the operation's last change, such as the shopper's finished challenge) was made
 * longer ago than a shopper may wait for it. A decline learnt that late (a gateway down for hours,
 * a PSP's notification held up for days) ends the payment, rather than charging the card elsewhere
 * long after the shopper was told it did not go through, and may have paid again, without its
 * security code. A capture, refund or void the merchant asked for always goes on.
 */
export function pastShoppersWait(op: { readonly seq: number; readonly updatedAt: number }, lastAttemptAt: number | undefined, now: number, asyncTimeoutMs: number): boolean {
  return op.seq === 0 && now - (lastAttemptAt ?? op.updatedAt) >= asyncTimeoutMs;
}
