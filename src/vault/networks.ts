import type { CardBrand } from './card.ts';

/**
 * Card networks as the executions dialect names them: an instrument's `data.network`, and the brand
 * the secure fields tell the page while the number is typed (the same name for the same card).
 */
export const networkOf: Readonly<Record<CardBrand, string>> = {
  VISA: 'visa', MASTER: 'mastercard', AMEX: 'amex', DINERS: 'diners_club', DISCOVER: 'discover', JCB: 'jcb', MAESTRO: 'maestro', UNIONPAY: 'unionpay',
  VISAELECTRON: 'visa_electron', VPAY: 'vpay', DANKORT: 'dankort', ELO: 'elo', HIPERCARD: 'hipercard', CARTEBLEUE: 'cartes_bancaires', MADA: 'mada',
};
