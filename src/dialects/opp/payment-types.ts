import type { FollowUpKind, InitialKind, OperationKind } from '../../payments/model.ts';

/** The /v1 dialect's payment types: its letters for the engine's operations, one table each way. */
export const initialTypes = ['PA', 'DB', 'CD', 'PA.CP'] as const;
export type InitialType = (typeof initialTypes)[number];

/** What COPYandPAY's widget may ask for: the card payment types (a credit needs no shopper). */
export const checkoutTypes = ['PA', 'DB', 'PA.CP'] as const;

export const backOfficeTypes = ['CP', 'RV', 'RF', 'RB', 'CB', 'CR', 'RC'] as const;
export type BackOfficeType = (typeof backOfficeTypes)[number];

export type PaymentType = InitialType | BackOfficeType;

export const isInitialType = (s: string): s is InitialType => (initialTypes as readonly string[]).includes(s);
export const isBackOfficeType = (s: string): s is BackOfficeType => (backOfficeTypes as readonly string[]).includes(s);

/**
 * `PA.CP` (a pre-authorization captured at once) is a sale in the engine: the letters it was asked
 * with are kept in the context. `CD` is a standalone credit to the card (a payout).
 */
export const kindOfInitial: Readonly<Record<InitialType, InitialKind>> = { PA: 'authorize', DB: 'sale', CD: 'credit', 'PA.CP': 'sale' };

export const kindOfBackOffice: Readonly<Record<BackOfficeType, FollowUpKind>> = {
  CP: 'capture', RV: 'void', RF: 'refund', RB: 'rebill', CB: 'chargeback', CR: 'chargeback_reversal', RC: 'receipt',
};

const letterOfKind: Readonly<Record<OperationKind, PaymentType>> = {
  authorize: 'PA', sale: 'DB', credit: 'CD', capture: 'CP', void: 'RV', refund: 'RF', rebill: 'RB',
  chargeback: 'CB', chargeback_reversal: 'CR', receipt: 'RC',
};

/** The letters a /v1 client sees for an operation (the ones it asked with, for a `PA.CP`). */
export function paymentTypeOf(kind: OperationKind, context: Readonly<Record<string, unknown>>): string {
  return kind === 'sale' && context.paymentType === 'PA.CP' ? 'PA.CP' : letterOfKind[kind];
}
