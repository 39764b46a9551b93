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
 * unconfirmed: while the payment has no outcome its cardholder may still be at 3-D Secure, and a
 * charge with the registration (merchant-initiated, with no 3-D Secure) would come before them.
 * The payment's outcome decides it, in the unit of work that records that outcome:
 * - approved, or declined by the issuer (the card is the cardholder's and passed every check): it
 *   is confirmed, and pays from then on;
 * - ended because the cardholder failed, cancelled or never finished 3-D Secure: it is deleted, and
 *   told as a deregistration. A stored card set up without its holder's authentication would be
 *   charged by the merchant alone, pointing back at a first charge the holder refused.
 * An outcome still unknown decides nothing: the reconciler's settlement will.
 */
export function registrationsOfPayments(deps: { vaultWriter: (tx: Tx) => VaultWriter; ids: Ids }): PaymentObserver {
  return {
    async paymentChanged(tx, change) {
      const op = change.operation;
      const registrationId = op.context.registrationId;
      if (op.seq !== 0 || op.context.storesCard !== true || typeof registrationId !== 'string') return;
      if (op.status !== 'succeeded' && op.status !== 'failed') return;
      const vault = deps.vaultWriter(tx);
      if (op.status === 'succeeded' || op.reason === undefined || !cardholderNotAuthenticated.has(op.reason)) {
        await vault.confirmCreated(registrationId, op.updatedAt);
        return;
      }
      const entityId = change.payment.entityId;
      const card = await vault.deleteKept(registrationId, op.updatedAt);
      if (!card || entityId === undefined) return;
      const testMode = typeof op.context.testMode === 'string' ? op.context.testMode : undefined;
      await addOutboxEvent(tx, registrationEvent(deps.ids.hex32(), 'deleted', { id: registrationId, merchantId: change.payment.merchantId, entityId, card }, op.updatedAt, { testMode }));
    },
  };
}
