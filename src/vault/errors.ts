/** Why the vault refuses a card before anything is stored: stable codes each dialect words its own way. */
export const cardErrors = ['invalid_card_number', 'card_expired', 'brand_mismatch', 'cvv_brand_mismatch'] as const;
export type CardError = (typeof cardErrors)[number];
