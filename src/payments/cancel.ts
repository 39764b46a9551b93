import type { Money } from '../money/money.ts';
import { initialOf, totalsOf, type Transaction } from './model.ts';

/**
 * What cancelling a payment means now: refund what was captured and not yet refunded, and void
 * what was authorized and not captured. Pure; each step is still checked by `decideBackOffice`.
 */
export function cancelPlan(txs: readonly Transaction[]): { refund: Money | undefined; voidOpen: boolean } {
  const t = totalsOf(txs);
  const currency = initialOf(txs).amount.currency;
  const refundable = t.captured - t.refunded - t.inFlightRefunds;
  const open = t.authorized - t.captured - t.inFlightCaptures;
  return {
    refund: refundable > 0 ? { amount: refundable, currency } : undefined,
    voidOpen: !t.reversed && open > 0,
  };
}
