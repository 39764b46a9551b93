import { sql, type Kysely, type Selectable } from 'kysely';
import type { Tx, UnitOfWork } from '../storage/unit-of-work.ts';
import { prepare } from '../storage/prepared.ts';
import type { Database, PspAccountsTable } from '../storage/schema.ts';
import { accountLockKey, type WorkflowConfig } from './model.ts';
import type { PspAccount, WorkflowStore } from './store.ts';

const toAccount = (r: Selectable<PspAccountsTable>): PspAccount => ({
  id: r.id, merchantId: r.merchant_id, name: r.name, connector: r.connector, settings: JSON.parse(r.settings),
  sealedSecrets: r.secrets ?? undefined, timeoutMs: r.timeout_ms ?? undefined, createdAt: r.created_at, updatedAt: r.updated_at,
});

/**
 * `inUse` answers whether a PSP account holds money's business (the payments' to say: their store's
 * `pspAccountInUse`), read over the unit of work's transaction when one is given.
 */
export function createWorkflowStore(uow: UnitOfWork, inUse: (q: Kysely<Database>, accountId: string) => Promise<boolean>): WorkflowStore {
  const { db } = uow;
  // Read for every payment, never cached: a changed cascade or account applies at once on every
  // node. One statement instead of two (the workflow, then the accounts), compiled once.
  // Only the accounts the workflow names: every payment reads this, and a merchant may have hundreds
  // of accounts (one per acquirer, currency, country or sub-merchant) for a cascade of a few.
  // On PostgreSQL as an array, so that the (merchant_id, name) index finds each name: a subquery
  // there was run for every account of the merchant, read whole.
  const named = uow.kind === 'postgres'
    ? sql<boolean>`a.name = any(array(select jsonb_array_elements_text(w.config::jsonb -> 'accounts')))`
    : sql<boolean>`a.name in (select value from json_each(w.config, '$.accounts'))`;
  const routing = prepare(db, (q, p: { merchantId: string; code: string }) => q.selectFrom('merchants as m')
    .leftJoin('workflows as w', (j) => j.onRef('w.merchant_id', '=', 'm.id').on('w.code', '=', p.code))
    .leftJoin('psp_accounts as a', (j) => j.onRef('a.merchant_id', '=', 'm.id').on(named))
    .select(['w.config as workflow', 'a.id as account_id', 'a.name as account_name', 'a.connector as account_connector'])
    .where('m.id', '=', p.merchantId).orderBy('a.name'));
  const accountById = prepare(db, (q, p: { id: string }) => q.selectFrom('psp_accounts').selectAll().where('id', '=', p.id));
  const locking = uow.kind === 'postgres';

  /**
   * Holds the merchant's routing for the rest of the unit (PostgreSQL; SQLite has one writer): a
   * cascade's change, checked against the accounts that exist, and an account's removal, checked
   * against the cascades that name it, come one after the other. Interleaved, both were accepted
   * and the cascade named an account that was gone.
   */
  async function holdRouting(tx: Tx, merchantId: string): Promise<void> {
    const q = tx.selectFrom('merchants').select('id').where('id', '=', merchantId);
    await (locking ? q.forNoKeyUpdate() : q).execute();
  }
  async function upsert(q: Kysely<Database>, a: PspAccount): Promise<PspAccount> {
    const changed = { connector: a.connector, settings: JSON.stringify(a.settings), secrets: a.sealedSecrets ?? null, timeout_ms: a.timeoutMs ?? null };
    await q.insertInto('psp_accounts').values({ id: a.id, merchant_id: a.merchantId, name: a.name, ...changed, created_at: a.createdAt, updated_at: a.updatedAt })
      .onConflict((oc) => oc.columns(['merchant_id', 'name']).doUpdateSet({ ...changed, updated_at: a.updatedAt })).execute();
    const r = await q.selectFrom('psp_accounts').selectAll().where('merchant_id', '=', a.merchantId).where('name', '=', a.name).executeTakeFirstOrThrow();
    return toAccount(r);
  }

  /** Waits for attempts being recorded at the account to commit (PostgreSQL; see accountLockKey), and holds it. */
  async function holdAccount(tx: Tx, accountId: string): Promise<void> {
    if (locking) await sql`select pg_advisory_xact_lock(hashtext(${accountLockKey(accountId)}))`.execute(tx);
  }
  return {
    upsertAccount: (a) => upsert(db, a),
    async putAccountUnless(a, refusalOf) {
      return uow.run(async (tx) => {
        const byName = () => tx.selectFrom('psp_accounts').selectAll().where('merchant_id', '=', a.merchantId).where('name', '=', a.name).executeTakeFirst();
        // The account as it is once every other change of it, and every attempt being recorded at
        // it, has committed (their locks taken in the same order as a removal's: this lock, then the
        // row), so that whether this is a move of its PSP is decided on what it is now. Removed and
        // put again meanwhile, it is another id: held too.
        let row = await byName();
        for (let held = new Set<string>(); row && !held.has(row.id);) {
          held.add(row.id);
          await holdAccount(tx, row.id);
          row = await byName();
        }
        const current = row ? toAccount(row) : undefined;
        const refusal = refusalOf(current);
        if (refusal && (!refusal.whileInUse || (current && await inUse(tx, current.id)))) return { refused: refusal.reason };
        return upsert(tx, a);
      });
    },
    async accounts(merchantId) {
      return (await db.selectFrom('psp_accounts').selectAll().where('merchant_id', '=', merchantId).orderBy('name').execute()).map(toAccount);
    },
    async account(id) {
      const r = await accountById.first(db, { id });
      return r ? toAccount(r) : undefined;
    },
    async unsealedAccounts(connectors, limit) {
      if (connectors.length === 0) return [];
      return (await db.selectFrom('psp_accounts').selectAll().where('secrets', 'is', null).where('connector', 'in', [...connectors])
        .orderBy('id').limit(limit).execute()).map(toAccount);
    },
    async sealedAccounts() {
      return (await db.selectFrom('psp_accounts').selectAll().where('secrets', 'is not', null).orderBy('id').execute()).map(toAccount);
    },
    async replaceSecrets(id, expected, settings, sealedSecrets) {
      const r = await db.updateTable('psp_accounts').set({ settings: JSON.stringify(settings), secrets: sealedSecrets })
        .where('id', '=', id).where('secrets', expected === undefined ? 'is' : '=', expected ?? null).executeTakeFirst();
      return Number(r.numUpdatedRows) > 0;
    },
    accountInUse: (id) => inUse(db, id),
    async accountIds() {
      return (await db.selectFrom('psp_accounts').select('id').execute()).map((r) => r.id);
    },
    async removeAccount(merchantId, name) {
      return uow.run(async (tx) => {
        await holdRouting(tx, merchantId);
        // An account a cascade names stays until the cascade stops naming it.
        const named = await tx.selectFrom('workflows').select('config').where('merchant_id', '=', merchantId).execute();
        if (named.some((w) => (JSON.parse(w.config) as WorkflowConfig).accounts.includes(name))) return 'named';
        const a = await tx.selectFrom('psp_accounts').select('id').where('merchant_id', '=', merchantId).where('name', '=', name).executeTakeFirst();
        if (!a) return 'not_found';
        // An attempt being recorded there now (a cascade moving on as the operator took the account
        // out of it) is seen: its unit holds the account's lock until it commits.
        await holdAccount(tx, a.id);
        // Its payments' captures, refunds and voids go to it by its id: removed (and put again,
        // under another connector) they could reach no PSP, and their money would stay held.
        if (await inUse(tx, a.id)) return 'in_use';
        await tx.deleteFrom('psp_accounts').where('id', '=', a.id).execute();
        return 'removed';
      });
    },
    async workflow(merchantId, code) {
      const r = await db.selectFrom('workflows').select('config').where('merchant_id', '=', merchantId).where('code', '=', code).executeTakeFirst();
      return r ? JSON.parse(r.config) : undefined;
    },
    async routing(merchantId, code) {
      const rows = await routing.rows(db, { merchantId, code });
      const config = rows[0]?.workflow;
      return {
        workflow: config === null || config === undefined ? undefined : JSON.parse(config),
        accounts: rows.flatMap((r) => (r.account_id === null ? [] : [{ id: r.account_id, name: r.account_name!, connector: r.account_connector! }])),
      };
    },
    async setWorkflow(merchantId, code, config, at, refusal) {
      return uow.run(async (tx) => {
        await holdRouting(tx, merchantId);
        if (refusal) {
          const why = refusal((await tx.selectFrom('psp_accounts').selectAll().where('merchant_id', '=', merchantId).execute()).map(toAccount));
          if (why !== undefined) return why;
        }
        await tx.insertInto('workflows').values({ merchant_id: merchantId, code, config: JSON.stringify(config), updated_at: at })
          .onConflict((oc) => oc.columns(['merchant_id', 'code']).doUpdateSet({ config: JSON.stringify(config), updated_at: at })).execute();
        return undefined;
      });
    },
  };
}
