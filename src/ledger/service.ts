import type { Clock } from '../runtime/clock.ts';
import type { PaymentChange, PaymentObserver } from '../payments/change.ts';
import type { Tx } from '../storage/unit-of-work.ts';
import { balancesOf, firstBrokenInvariant, postingsOf, type AccountBalance, type Posting } from './model.ts';
import type { LedgerStore } from './store.ts';

export interface LedgerService extends PaymentObserver {
  balances(merchantId: string): Promise<AccountBalance[]>;
  paymentPostings(paymentId: string): Promise<Posting[]>;
  /** The first broken invariant over the whole store, or undefined when the books are sound. */
  verify(): Promise<string | undefined>;
}

/**
 * The books. Registered as a payment observer, it posts each change's money movement through the
 * engine's own transaction: a state change and its postings commit together or not at all, and it
 * never reads (SQLite's one connection belongs to the unit of work): the postings follow from the
 * change alone. A posting that fails to write fails the whole change, on purpose.
 */
export function createLedgerService(deps: { store: LedgerStore; clock: Clock }): LedgerService {
  const { store, clock } = deps;
  return {
    async paymentChanged(tx: Tx, change: PaymentChange) {
      await store.writer(tx).post(postingsOf(change, clock.now()));
    },
    async balances(merchantId) {
      return balancesOf(await store.sums(merchantId));
    },
    paymentPostings: (paymentId) => store.postings({ paymentId }),
    async verify() {
      const { postings, payments } = await store.books();
      return firstBrokenInvariant({ postings, payments: payments.filter((p) => p.operations.length > 0) });
    },
  };
}
