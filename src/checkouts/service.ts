import type { Clock } from '../runtime/clock.ts';
import type { Ids } from '../runtime/ids.ts';
import type { Tx } from '../storage/unit-of-work.ts';
import type { PaymentObserver } from '../payments/change.ts';
import { checkoutIdOf, checkoutLifetimeMs, type CheckoutRecord } from './model.ts';
import type { CheckoutStore } from './store.ts';

export interface NewCheckout {
  readonly merchantId: string;
  readonly entityId: string;
  readonly params: Readonly<Record<string, string>>;
  readonly registrationIds: readonly string[];
}

/**
 * COPYandPAY checkouts over the engine: a checkout is created by the merchant's backend, paid by
 * the shopper through the widget with an ordinary engine payment that claims it in its own unit of
 * work (`claimFor` as the payment's `join`), and opened again by its observer when that payment is
 * declined (at once, or after a failed 3-D Secure challenge).
 *
 * @example
 * const c = await checkouts.create({ merchantId, entityId, params, registrationIds: [] });
 * await payments.pay({ ...input, context: { checkoutId: c.id }, join: checkouts.claimFor(c.id) });
 */
export interface CheckoutService extends PaymentObserver {
  create(input: NewCheckout): Promise<CheckoutRecord>;
  get(id: string): Promise<CheckoutRecord | undefined>;
  claimFor(id: string): (tx: Tx, paymentId: string) => Promise<boolean>;
  /**
   * Removes checkouts that expired unpaid a day ago or more: each widget page load makes one,
   * holding the shopper's details, and one never paid answers "no session" once expired anyway.
   */
  purgeUnpaid(): Promise<number>;
}

/** How long past its expiry a checkout nobody paid is kept. */
export const unpaidKeptMs = 86_400_000;

export function createCheckoutService(deps: {
  store: CheckoutStore; clock: Clock; ids: Ids;
  /** Frees a failed payment's merchant transaction id (on an entity keeping them unique) for the checkout's next try. */
  releaseReference: (tx: Tx, operationId: string) => Promise<void>;
}): CheckoutService {
  const { store, clock, ids } = deps;
  return {
    async create(input) {
      const now = clock.now();
      const c: CheckoutRecord = {
        id: checkoutIdOf(ids.hex32()), ...input, status: 'open', paymentId: undefined, createdAt: now, expiresAt: now + checkoutLifetimeMs,
      };
      await store.insert(c);
      return c;
    },
    get: (id) => store.get(id),
    purgeUnpaid: () => store.purgeUnpaid(clock.now() - unpaidKeptMs),
    claimFor: (id) => (tx, paymentId) => store.writer(tx).claim(id, paymentId, clock.now()),
    async paymentChanged(tx, change) {
      const op = change.operation;
      const checkoutId = op.context.checkoutId;
      if (op.seq !== 0 || op.status !== 'failed' || typeof checkoutId !== 'string') return;
      await store.writer(tx).reopen(checkoutId, change.payment.id);
      // Every card the shopper tries carries the checkout's merchant transaction id: on an entity
      // that keeps them unique, the declined one would otherwise refuse the next as a duplicate.
      await deps.releaseReference(tx, op.id);
    },
  };
}
