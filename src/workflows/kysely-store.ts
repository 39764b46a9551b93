import type { Selectable } from 'kysely';
import type { UnitOfWork } from '../storage/unit-of-work.ts';
import type { Database, PspAccountsTable } from '../storage/schema.ts';
import type { PspAccount, WorkflowStore } from './store.ts';

const toAccount = (r: Selectable<PspAccountsTable>): PspAccount => ({
  id: r.id, merchantId: r.merchant_id, name: r.name, connector: r.connector, settings: JSON.parse(r.settings), createdAt: r.created_at, updatedAt: r.updated_at,
});

export function createWorkflowStore(uow: UnitOfWork): WorkflowStore {
  const { db } = uow;
  return {
    async upsertAccount(a) {
      await db.insertInto('psp_accounts').values({
        id: a.id, merchant_id: a.merchantId, name: a.name, connector: a.connector, settings: JSON.stringify(a.settings), created_at: a.createdAt, updated_at: a.updatedAt,
      }).onConflict((oc) => oc.columns(['merchant_id', 'name']).doUpdateSet({ connector: a.connector, settings: JSON.stringify(a.settings), updated_at: a.updatedAt })).execute();
      const r = await db.selectFrom('psp_accounts').selectAll().where('merchant_id', '=', a.merchantId).where('name', '=', a.name).executeTakeFirstOrThrow();
      return toAccount(r);
    },
    async accounts(merchantId) {
      return (await db.selectFrom('psp_accounts').selectAll().where('merchant_id', '=', merchantId).orderBy('name').execute()).map(toAccount);
    },
    async account(id) {
      const r = await db.selectFrom('psp_accounts').selectAll().where('id', '=', id).executeTakeFirst();
      return r ? toAccount(r) : undefined;
    },
    async removeAccount(merchantId, name) {
      const r = await db.deleteFrom('psp_accounts').where('merchant_id', '=', merchantId).where('name', '=', name).executeTakeFirst();
      return Number(r.numDeletedRows) > 0;
    },
    async workflow(merchantId, code) {
      const r = await db.selectFrom('workflows').select('config').where('merchant_id', '=', merchantId).where('code', '=', code).executeTakeFirst();
      return r ? JSON.parse(r.config) : undefined;
    },
    async setWorkflow(merchantId, code, config, at) {
      await db.insertInto('workflows').values({ merchant_id: merchantId, code, config: JSON.stringify(config), updated_at: at })
        .onConflict((oc) => oc.columns(['merchant_id', 'code']).doUpdateSet({ config: JSON.stringify(config), updated_at: at })).execute();
    },
  };
}
