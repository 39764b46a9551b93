import type { UnitOfWork } from '../storage/unit-of-work.ts';
import type { CheckoutsTable } from '../storage/schema.ts';
import { isCheckoutStatus, type CheckoutRecord } from './model.ts';
import type { CheckoutStore } from './store.ts';

const fromRow = (r: CheckoutsTable): CheckoutRecord => {
  if (!isCheckoutStatus(r.status)) throw new Error(`checkout ${r.id} has an unknown status ${r.status}`);
  return {
    id: r.id, merchantId: r.merchant_id, entityId: r.entity_id, params: JSON.parse(r.params) as Record<string, string>,
    registrationIds: JSON.parse(r.registration_ids) as string[], status: r.status, paymentId: r.payment_id ?? undefined,
    createdAt: Number(r.created_at), expiresAt: Number(r.expires_at),
  };
};

export function createCheckoutStore(uow: UnitOfWork): CheckoutStore {
  const { db } = uow;
  return {
    async insert(c) {
      await uow.run((tx) => tx.insertInto('checkouts').values({
        id: c.id, merchant_id: c.merchantId, entity_id: c.entityId, params: JSON.stringify(c.params),
        registration_ids: JSON.stringify(c.registrationIds), status: c.status, payment_id: c.paymentId ?? null,
        created_at: c.createdAt, expires_at: c.expiresAt,
      }).execute());
    },
    async get(id) {
      const r = await db.selectFrom('checkouts').selectAll().where('id', '=', id).executeTakeFirst();
      return r ? fromRow(r) : undefined;
    },
    async purgeUnpaid(before) {
      // A checkout that ever had a payment (paid, or declined and open again) stays readable.
      const r = await db.deleteFrom('checkouts').where('payment_id', 'is', null).where('expires_at', '<', before).executeTakeFirst();
      return Number(r.numDeletedRows);
    },
    writer: (tx) => ({
      async claim(id, paymentId, now) {
        // One conditional update: of two shoppers' (or tabs') payments exactly one claims the checkout.
        const r = await tx.updateTable('checkouts').set({ status: 'paid', payment_id: paymentId })
          .where('id', '=', id).where('status', '=', 'open').where('expires_at', '>', now).executeTakeFirst();
        return Number(r.numUpdatedRows) === 1;
      },
      async reopen(id, paymentId) {
        await tx.updateTable('checkouts').set({ status: 'open' }).where('id', '=', id).where('payment_id', '=', paymentId).execute();
      },
    }),
  };
}
