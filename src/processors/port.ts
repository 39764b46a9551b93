import type { Money } from '../money/money.ts';
import type { CardBrand, Cvv, Pan } from '../vault/card.ts';

export const pspOperations = ['authorize', 'debit', 'capture', 'reverse', 'refund', 'rebill'] as const;
export type PspOperation = (typeof pspOperations)[number];

/** Which system answers: the simulator's integrator or connector test mode, or a live acquirer. */
export const processingModes = ['INTERNAL', 'EXTERNAL', 'LIVE'] as const;
export type ProcessingMode = (typeof processingModes)[number];

export interface PspCard {
  readonly pan: Pan;
  readonly cvv: Cvv | undefined;
  readonly brand: CardBrand;
  readonly holder: string | undefined;
  readonly expiryMonth: string;
  readonly expiryYear: string;
}

export interface PspRequest {
  readonly operation: PspOperation;
  /** Our attempt id: the PSP's idempotency key, and what the reconciler asks about later. */
  readonly attemptId: string;
  readonly amount: Money;
  readonly mode: ProcessingMode;
  /** Card data for operations that reach the issuer (authorize, debit, rebill). */
  readonly card?: PspCard;
  /** The PSP's reference of the original authorization or debit, for follow-up operations. */
  readonly originalReference?: string;
  /** The 3-D Secure result the authorization carries (the issuer sees who authenticated). */
  readonly authentication?: { readonly status: string; readonly eci: string | undefined };
  /** Test-system switches sent by the merchant (customParameters). */
  readonly testParameters: Readonly<Record<string, string>>;
  /** The merchant's PSP account to route to (a cascade step); absent: the gateway's default acquirer. */
  readonly account?: string;
}

/** A 3-D Secure result as a PSP receives it; a cascade passes the same one to every PSP it tries. */
export type Authentication = NonNullable<PspRequest['authentication']>;

export const pspOutcomes = ['approved', 'declined', 'pending'] as const;
export type PspOutcome = (typeof pspOutcomes)[number];

export interface PspResult {
  readonly outcome: PspOutcome;
  /** Acquirer-network result code. */
  readonly code: string;
  readonly pspReference: string;
  /** Free-form details the acquirer reports (resultDetails). */
  readonly details: Readonly<Record<string, string>>;
}

/**
 * The port every PSP connector implements. `execute` may never settle (a lost answer); the
 * caller bounds it with its own timeout and then asks `lookup` during reconciliation.
 */
export interface Processor {
  readonly name: string;
  execute(request: PspRequest): Promise<PspResult>;
  /** What the PSP knows of an attempt; undefined means it never received it. */
  lookup(attemptId: string): Promise<PspResult | undefined>;
}
