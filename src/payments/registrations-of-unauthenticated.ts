import type { Ids } from '../runtime/ids.ts';
import type { DeclineReason } from '../processors/outcome.ts';
import type { Tx } from '../storage/unit-of-work.ts';
import { registrationEvent } from '../vault/registrations.ts';
import type { VaultWriter } from '../vault/store.ts';
import { addOutboxEvent } from '../webhooks/outbox.ts';
import type { PaymentObserver } from './change.ts';

/** Ends of a payment in which its cardholder did not authenticate: failed, cancelled or never finished 3-D Secure. */
const cardholderNotAuthenticated: ReadonlySet<DeclineReason> = new Set(['authentication_failed', 'cancelled_by_shopper', 'expired']);

/**
 * A registration made with a payment (`createRegistration=true`) commits with the payment's intent,
 * and outlives an issuer's decline: the card is the cardholder's and passed every check. It does
 * not outlive a payment whose cardholder failed, cancelled or never finished 3-D Secure: a stored
 * card set up without its holder's authentication would be charged by the merchant alone
 * (merchant-initiated, with no 3-D Secure), pointing back at a first charge the holder refused.
 * Deleted in the unit of work that ends the payment, and told as a deregistration.
 */
export function registrationsOfUnauthenticated(deps: { vaultWriter: (tx: Tx) => VaultWriter; ids: Ids }): PaymentObserver {
  return {
    async paymentChanged(tx, change) {
      const op = change.operation;
      const registrationId = op.context.registrationId;
      if (op.seq !== 0 || op.status !== 'failed' || op.context.storesCard !== true || typeof registrationId !== 'string') return;
      if (op.reason === undefined || !cardholderNotAuthenticated.has(op.reason)) return;
      const entityId = change.payment.entityId;
      const card = await deps.vaultWriter(tx).deleteEnabled(registrationId, op.updatedAt);
      if (!card || entityId === undefined) return;
      const testMode = typeof op.context.testMode === 'string' ? op.context.testMode : undefined;
      await addOutboxEvent(tx, registrationEvent(deps.ids.hex32(), 'deleted', { id: registrationId, merchantId: change.payment.merchantId, entityId, card }, op.updatedAt, { testMode }));
    },
  };
}
