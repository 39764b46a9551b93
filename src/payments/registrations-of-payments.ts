import type { Ids } from '../runtime/ids.ts';
import type { Tx } from '../storage/unit-of-work.ts';
import { registrationEvent } from '../vault/registrations.ts';
import type { VaultWriter } from '../vault/store.ts';
import { addOutboxEvent } from '../webhooks/outbox.ts';
import type { PaymentObserver } from './change.ts';
import type { PaymentWriter } from './store.ts';
import { storedCardStands } from './model.ts';

/**
 * A registration made with a payment (`createRegistration=true`) commits with the payment's intent.
 * It outlives the payment's approval and an issuer's soft decline (funds, a limit: the card is the
 * cardholder's, and it will be honoured again). It does not outlive a payment that ended otherwise:
 * before any issuer saw the card (its cardholder failed, cancelled or never finished 3-D Secure,
 * 3-D Secure could not be run or erred, no PSP took the charge, at any account of its cascade), or
 * with an issuer's refusal for good (lost, stolen, expired, a wrong security code, fraud). A stored
 * card set up so would be charged by the merchant alone (merchant-initiated, with no 3-D Secure),
 * pointing back at a first charge that proved nothing, or only to be declined again. Deleted in the
 * unit of work that ends the payment, unless another payment has charged the card since, and told as
 * a deregistration.
 */
export function registrationsOfPayments(deps: { vaultWriter: (tx: Tx) => VaultWriter; paymentWriter: (tx: Tx) => PaymentWriter; ids: Ids }): PaymentObserver {
  return {
    async paymentChanged(tx, change) {
      const op = change.operation;
      const registrationId = op.context.registrationId;
      if (op.seq !== 0 || op.status !== 'failed' || op.context.storesCard !== true || typeof registrationId !== 'string') return;
      if (storedCardStands(op, change.attempts)) return;
      const entityId = change.payment.entityId;
      const card = await deps.vaultWriter(tx).deleteUnless(registrationId, (cardId) => deps.paymentWriter(tx).chargedElsewhere(cardId, change.payment.id), op.updatedAt);
      if (!card || entityId === undefined) return;
      const testMode = typeof op.context.testMode === 'string' ? op.context.testMode : undefined;
      await addOutboxEvent(tx, registrationEvent(deps.ids.hex32(), 'deleted', { id: registrationId, merchantId: change.payment.merchantId, entityId, card }, op.updatedAt, { testMode }));
    },
  };
}
