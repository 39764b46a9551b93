import type { Money } from '../money/money.ts';

/** Why the shopper is sent to a hosted page. */
export const challengePurposes = ['3ds', 'bank_transfer'] as const;
export type ChallengePurpose = (typeof challengePurposes)[number];

/** What a challenge belongs to: a /v1 payment or an execution of the executions dialect. */
export const subjectKinds = ['payment', 'execution'] as const;
export type SubjectKind = (typeof subjectKinds)[number];

/**
 * A challenge is open until the shopper finishes it (once: a used page cannot be replayed) or it
 * expires with its payment.
 */
export const challengeStatuses = ['open', 'completed', 'failed', 'cancelled', 'expired'] as const;
export type ChallengeStatus = (typeof challengeStatuses)[number];

/** Where a PSP that runs the challenge itself sends the shopper: its URL, method and form fields, as it gave them. */
export interface PspRedirect {
  readonly url: string;
  readonly method: 'GET' | 'POST';
  readonly parameters: readonly { readonly name: string; readonly value: string }[];
}

export interface Challenge {
  readonly id: string;
  readonly merchantId: string;
  readonly merchantName: string;
  readonly purpose: ChallengePurpose;
  readonly subject: { readonly kind: SubjectKind; readonly id: string };
  readonly amount: Money;
  /** A masked card ("VISA •••• 0042") or a bank name: never a full number. */
  readonly instrumentLabel: string;
  /** Origins the page may send the shopper back to (its CSP form-action). */
  readonly returnOrigins: readonly string[];
  readonly status: ChallengeStatus;
  readonly createdAt: number;
  readonly expiresAt: number;
  readonly resolvedAt: number | undefined;
  /** Set when the PSP runs the challenge: the hosted page forwards the shopper there. */
  readonly pspRedirect?: PspRedirect;
}

export interface ChallengeStore {
  insert(c: Challenge): Promise<void>;
  get(id: string): Promise<Challenge | undefined>;
  /**
   * Moves an open, unexpired challenge to `status`; false when another request already moved it
   * (a replay, a double click, the expiry sweep) — the single point that makes a page single-use.
   */
  resolve(id: string, status: Exclude<ChallengeStatus, 'open'>, at: number, openUntilAfter: number): Promise<boolean>;
  openOf(kind: SubjectKind, subjectId: string): Promise<Challenge | undefined>;
}
