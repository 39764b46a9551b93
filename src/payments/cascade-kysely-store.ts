import type { CascadeStore } from './cascade.ts';
import type { UnitOfWork } from '../storage/unit-of-work.ts';

export function createCascadeStore(uow: UnitOfWork): CascadeStore {
  const { db } = uow;
  return {
    async insert(a) {
      const r = await db.insertInto('cascade_attempts').values({
        id: a.id, cascade_id: a.cascadeId, seq: a.seq, account_id: a.accountId, account_name: a.accountName,
        authenticated: a.authenticated ? 1 : 0, created_at: a.createdAt,
      }).onConflict((oc) => oc.columns(['cascade_id', 'seq']).doNothing()).executeTakeFirst();
      return Number(r.numInsertedOrUpdatedRows ?? 0) > 0;
    },
    async attempts(cascadeId) {
      const rows = await db.selectFrom('cascade_attempts').selectAll().where('cascade_id', '=', cascadeId).orderBy('seq').execute();
      return rows.map((r) => ({
        id: r.id, cascadeId: r.cascade_id, seq: r.seq, accountId: r.account_id, accountName: r.account_name,
        authenticated: r.authenticated === 1, createdAt: r.created_at,
      }));
    },
  };
}
