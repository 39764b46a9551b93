import type { Selectable } from 'kysely';
import type { UnitOfWork } from '../storage/unit-of-work.ts';
import { prepare } from '../storage/prepared.ts';
import type { Database, EntitiesTable, MerchantsTable } from '../storage/schema.ts';
import type { CredentialKind, Entity, Merchant } from './model.ts';
import type { MerchantStore, NewMerchant } from './store.ts';

const toMerchant = (r: Selectable<MerchantsTable>): Merchant => ({
  id: r.id, name: r.name, live: r.live === 1, clientId: r.client_id, workspaceId: r.workspace_id, createdAt: r.created_at,
  tokenGeneration: Number(r.token_generation),
});
const toEntity = (r: Selectable<EntitiesTable>): Entity => ({
  id: r.id, merchantId: r.merchant_id, channelName: r.channel_name, uniqueMerchantTransactionId: r.unique_merchant_tx === 1,
});

/** Entities kept per store: far more than a node serves, small beside its memory. */
const maxCachedEntities = 10_000;

export function createMerchantStore(uow: UnitOfWork): MerchantStore {
  const { db } = uow;
  // Read on every /v1 request: compiled once (storage/prepared.ts). The credential is read from the
  // database each time, so a rotation refuses the old secret at once on every node.
  const merchantByCredential = prepare(db, (q, p: { digest: string; kind: string }) => q.selectFrom('credentials')
    .innerJoin('merchants', 'merchants.id', 'credentials.merchant_id')
    .selectAll('merchants').where('credentials.secret_hash', '=', p.digest).where('credentials.kind', '=', p.kind));
  const entityById = prepare(db, (q, p: { id: string }) => q.selectFrom('entities').selectAll().where('id', '=', p.id));
  // An entity row never changes once written (nothing updates or deletes one; a test holds every
  // statement of the code to that), so one read is as good as the next on every node. Only entities
  // found are kept: one another node creates is read from the database until then.
  const entities = new Map<string, Entity>();
  return {
    async insert({ merchant: m, entity: e, credentials }, join) {
      await uow.run(async (tx) => {
        await tx.insertInto('merchants').values({
          id: m.id, name: m.name, live: m.live ? 1 : 0, client_id: m.clientId, workspace_id: m.workspaceId, created_at: m.createdAt,
          token_generation: m.tokenGeneration,
        }).execute();
        await tx.insertInto('entities').values({
          id: e.id, merchant_id: e.merchantId, channel_name: e.channelName,
          unique_merchant_tx: e.uniqueMerchantTransactionId ? 1 : 0, created_at: m.createdAt,
        }).execute();
        for (const c of credentials) {
          await tx.insertInto('credentials').values({ secret_hash: c.digest, merchant_id: m.id, kind: c.kind, created_at: m.createdAt }).execute();
        }
        await join?.(tx);
      });
    },
    async list() {
      const merchants = await db.selectFrom('merchants').selectAll().orderBy('created_at').execute();
      const entities = await db.selectFrom('entities').selectAll().execute();
      return merchants.map((r) => ({
        merchant: toMerchant(r),
        entities: entities.filter((e) => e.merchant_id === r.id).map(toEntity),
      }));
    },
    async byCredential(digest: string, kind: CredentialKind) {
      const row = await merchantByCredential.first(db, { digest, kind });
      return row ? toMerchant(row) : undefined;
    },
    async entity(entityId: string) {
      const cached = entities.get(entityId);
      if (cached) return cached;
      const row = await entityById.first(db, { id: entityId });
      if (!row) return undefined;
      // Every caller gets this one object from now on: none may change it.
      const found = Object.freeze(toEntity(row));
      if (entities.size >= maxCachedEntities) entities.clear();
      entities.set(entityId, found);
      return found;
    },
    async byId(merchantId) {
      const row = await db.selectFrom('merchants').selectAll().where('id', '=', merchantId).executeTakeFirst();
      return row ? toMerchant(row) : undefined;
    },
    async entityByChannel(merchantId, channelName) {
      const row = await db.selectFrom('entities').selectAll().where('merchant_id', '=', merchantId)
        .where('channel_name', '=', channelName).orderBy('created_at').orderBy('id').executeTakeFirst();
      return row ? toEntity(row) : undefined;
    },
    async insertEntity(e, at) {
      const r = await db.insertInto('entities').values({
        id: e.id, merchant_id: e.merchantId, channel_name: e.channelName,
        unique_merchant_tx: e.uniqueMerchantTransactionId ? 1 : 0, created_at: at,
      }).onConflict((oc) => oc.column('id').doNothing()).executeTakeFirst();
      return Number(r.numInsertedOrUpdatedRows ?? 0) > 0;
    },
    async origins(merchantId) {
      const rows = await db.selectFrom('merchant_origins').select('origin').where('merchant_id', '=', merchantId).execute();
      // Sorted here, not by the database: PostgreSQL's order follows its collation, SQLite's is byte order.
      return rows.map((r) => r.origin).sort();
    },
    async addOrigin(merchantId, origin, at) {
      await db.insertInto('merchant_origins').values({ merchant_id: merchantId, origin, created_at: at })
        .onConflict((oc) => oc.columns(['merchant_id', 'origin']).doNothing()).execute();
    },
    async removeOrigin(merchantId, origin) {
      const r = await db.deleteFrom('merchant_origins').where('merchant_id', '=', merchantId).where('origin', '=', origin).executeTakeFirst();
      return Number(r.numDeletedRows) > 0;
    },
    replaceCredentials: (merchantId, credentials, newTokenGeneration, at, join) => uow.run(async (tx) => {
      // The merchant's row is locked first: two rotations at once on PostgreSQL (read committed)
      // would otherwise each delete only the credentials committed before they began, and both new
      // secrets would work. SQLite's one writer runs them one after the other already.
      let lookup = tx.selectFrom('merchants').select('id').where('id', '=', merchantId);
      if (uow.kind === 'postgres') lookup = lookup.forUpdate();
      const found = await lookup.executeTakeFirst();
      if (!found) return undefined;
      const kinds = [...new Set(credentials.map((c) => c.kind))];
      if (kinds.length > 0) await tx.deleteFrom('credentials').where('merchant_id', '=', merchantId).where('kind', 'in', kinds).execute();
      for (const c of credentials) {
        await tx.insertInto('credentials').values({ secret_hash: c.digest, merchant_id: merchantId, kind: c.kind, created_at: at }).execute();
      }
      if (newTokenGeneration) {
        await tx.updateTable('merchants').set((eb) => ({ token_generation: eb('token_generation', '+', 1) })).where('id', '=', merchantId).execute();
      }
      await join?.(tx);
      return toMerchant(await tx.selectFrom('merchants').selectAll().where('id', '=', merchantId).executeTakeFirstOrThrow());
    }),
    async count() {
      const r = await db.selectFrom('merchants').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
      return Number(r.n);
    },
  };
}
