import type { UnitOfWork } from '../storage/unit-of-work.ts';
import type { CvvHoldStore } from './store.ts';

export function createCvvHoldStore(uow: UnitOfWork): CvvHoldStore {
  const { db } = uow;
  return {
    put: (key, sealed, expiresAt) => uow.run(async (tx) => {
      // A second code for the same key (a retried tokenization) replaces the first.
      await tx.insertInto('cvv_holds').values({ key, sealed, expires_at: expiresAt })
        .onConflict((oc) => oc.column('key').doUpdateSet({ sealed, expires_at: expiresAt })).execute();
    }),
    take: (key) => uow.run(async (tx) => {
      const row = await tx.deleteFrom('cvv_holds').where('key', '=', key).returning(['sealed', 'expires_at']).executeTakeFirst();
      return row && { sealed: row.sealed, expiresAt: Number(row.expires_at) };
    }),
    drop: (key) => uow.run(async (tx) => { await tx.deleteFrom('cvv_holds').where('key', '=', key).execute(); }),
    async has(key, now) {
      const row = await db.selectFrom('cvv_holds').select('key').where('key', '=', key).where('expires_at', '>', now).executeTakeFirst();
      return row !== undefined;
    },
    purgeBefore: (now) => uow.run(async (tx) => {
      const r = await tx.deleteFrom('cvv_holds').where('expires_at', '<=', now).executeTakeFirst();
      return Number(r.numDeletedRows);
    }),
  };
}
