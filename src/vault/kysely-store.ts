import { PostgresAdapter, sql, type Insertable, type Kysely, type Selectable } from 'kysely';
import type { CardsTable, Database, InstrumentsTable } from '../storage/schema.ts';
import { prepare } from '../storage/prepared.ts';
import type { Tx, UnitOfWork } from '../storage/unit-of-work.ts';
import type { CardBrand } from './card.ts';
import type { InstrumentRecord, InstrumentStatus, InstrumentStore, StoredCard, TokenizationKeyRecord, TokenizationKeyStore, VaultStore, VaultWriter } from './store.ts';

/** The row of a sealed card; exported so a payment's intent can insert it in its own transaction. */
type CardRow = Omit<Selectable<CardsTable>, 'erased_at' | 'released_at'>;

export function cardRow(c: StoredCard): CardRow {
  return {
    id: c.id, merchant_id: c.merchantId, fingerprint: c.fingerprint, fingerprint_scope: 1, key_version: c.keyVersion,
    wrapped_key: c.wrappedKey, pan_ciphertext: c.panCiphertext, brand: c.brand, bin: c.bin, last4: c.last4,
    holder: c.holder ?? null, expiry_month: c.expiryMonth, expiry_year: c.expiryYear, created_at: c.createdAt,
  };
}

export function createVaultStore(uow: UnitOfWork): VaultStore {
  const { db } = uow;
  return {
    async keyVersions() {
      const rows = await db.selectFrom('key_versions').select(['version', 'sealed_key']).orderBy('version').execute();
      return rows.map((r) => ({ version: r.version, sealedKey: r.sealed_key }));
    },
    async addKeyVersion(version, sealedKey, at) {
      const r = await db.insertInto('key_versions').values({ version, sealed_key: sealedKey, created_at: at })
        .onConflict((oc) => oc.column('version').doNothing()).executeTakeFirst();
      return Number(r.numInsertedOrUpdatedRows ?? 0) > 0;
    },
    async insertCard(c) {
      await db.insertInto('cards').values(cardRow(c)).execute();
    },
    async card(id) {
      const r = await db.selectFrom('cards').selectAll().where('id', '=', id).executeTakeFirst();
      if (!r) return undefined;
      return {
        id: r.id, merchantId: r.merchant_id, fingerprint: r.fingerprint, keyVersion: r.key_version,
        wrappedKey: r.wrapped_key, panCiphertext: r.pan_ciphertext, brand: r.brand as CardBrand, bin: r.bin,
        last4: r.last4, holder: r.holder ?? undefined, expiryMonth: r.expiry_month, expiryYear: r.expiry_year,
        createdAt: r.created_at, ...(r.erased_at !== null ? { erasedAt: Number(r.erased_at) } : {}),
      };
    },
    async cardsBelowVersion(version, limit) {
      // An erased card has no data key left to wrap.
      // In no particular order (each batch's cards leave the range once rewrapped): through
      // `cards_key_version`, not a sort of every card for each batch.
      const rows = await db.selectFrom('cards').select(['id', 'key_version', 'wrapped_key']).where('key_version', '<', version)
        .where('erased_at', 'is', null).orderBy('key_version').limit(limit).execute();
      return rows.map((r) => ({ id: r.id, keyVersion: r.key_version, wrappedKey: r.wrapped_key }));
    },
    async rewrap(id, fromVersion, toVersion, wrappedKey) {
      const r = await db.updateTable('cards').set({ key_version: toVersion, wrapped_key: wrappedKey })
        .where('id', '=', id).where('key_version', '=', fromVersion).where('erased_at', 'is', null).executeTakeFirst();
      return Number(r.numUpdatedRows) === 1;
    },
    async legacyFingerprints(limit) {
      const rows = await db.selectFrom('cards').select(['id', 'merchant_id', 'fingerprint']).where('fingerprint_scope', '=', 0)
        .orderBy('id').limit(limit).execute();
      return rows.map((r) => ({ id: r.id, merchantId: r.merchant_id, fingerprint: r.fingerprint }));
    },
    async scopeFingerprint(id, legacy, scoped) {
      const r = await db.updateTable('cards').set({ fingerprint: scoped, fingerprint_scope: 1 })
        .where('id', '=', id).where('fingerprint_scope', '=', 0).where('fingerprint', '=', legacy).executeTakeFirst();
      return Number(r.numUpdatedRows) === 1;
    },
    async cardsPerVersion() {
      // Erased cards need no key: a version wrapping only those may be retired.
      const rows = await db.selectFrom('key_versions')
        .leftJoin('cards', (j) => j.onRef('cards.key_version', '=', 'key_versions.version').on('cards.erased_at', 'is', null))
        .select((eb) => ['key_versions.version', eb.fn.count<number>('cards.id').as('cards')])
        .groupBy('key_versions.version').orderBy('key_versions.version').execute();
      return rows.map((r) => ({ version: r.version, cards: Number(r.cards) }));
    },
    async instrumentsAwaitingErasure(after, limit) {
      // The partial index's condition, repeated as literals (see migration 106).
      let q = db.selectFrom('instruments').select(['id', 'card_id', 'updated_at'])
        .where(sql<boolean>`status = 'deleted' and card_erased_at is null`);
      if (after) q = q.where((eb) => eb.or([eb('updated_at', '>', after.deletedAt), eb.and([eb('updated_at', '=', after.deletedAt), eb('id', '>', after.id)])]));
      const rows = await q.orderBy('updated_at').orderBy('id').limit(limit).execute();
      return rows.map((r) => ({ id: r.id, cardId: r.card_id, deletedAt: Number(r.updated_at) }));
    },
    async releasedCards(after, limit) {
      // The partial index's condition, repeated as literals (see migration 107).
      let q = db.selectFrom('cards').select(['id', 'released_at']).where(sql<boolean>`released_at is not null and erased_at is null`);
      if (after) q = q.where((eb) => eb.or([eb('released_at', '>', after.releasedAt), eb.and([eb('released_at', '=', after.releasedAt), eb('id', '>', after.id)])]));
      const rows = await q.orderBy('released_at').orderBy('id').limit(limit).execute();
      return rows.map((r) => ({ id: r.id, releasedAt: Number(r.released_at) }));
    },
    async endLapsedTransients(createdBefore, at, limit) {
      // The partial index's condition, repeated as a literal (see migration 107).
      const ids = (await db.selectFrom('instruments').select('id').where(sql<boolean>`status = 'transient'`).where('created_at', '<=', createdBefore)
        .orderBy('created_at').orderBy('id').limit(limit).execute()).map((r) => r.id);
      if (ids.length === 0) return 0;
      const r = await uow.run((tx) => tx.updateTable('instruments').set({ status: 'deleted', updated_at: at }).where('id', 'in', ids).where('status', '=', 'transient').executeTakeFirst());
      return Number(r.numUpdatedRows);
    },
    eraseCard(cardId, at, decoy) {
      return uow.run(async (tx) => {
        const held = await tx.selectFrom('instruments').select('id').where('card_id', '=', cardId).where('status', '!=', 'deleted').limit(1).executeTakeFirst();
        if (held) return false;
        // The number's ciphertext goes, and so does the data key that sealed it: a copy of the old
        // ciphertext (a page not overwritten yet, an old row version, a backup) would otherwise open
        // with the key the row keeps. A decoy key takes its place, wrapped as any other: a key
        // rotation run by an older release during a rolling upgrade re-wraps every card it finds
        // below the current version, and a blank key would stop it at this card for good.
        const r = await tx.updateTable('cards').set({ pan_ciphertext: '', key_version: decoy.keyVersion, wrapped_key: decoy.wrappedKey, erased_at: at })
          .where('id', '=', cardId).where('erased_at', 'is', null).executeTakeFirst();
        await tx.updateTable('instruments').set({ card_erased_at: at }).where('card_id', '=', cardId).where('status', '=', 'deleted').execute();
        return Number(r.numUpdatedRows) === 1;
      });
    },
  };
}

/** The row of an instrument; exported so a payment's intent can insert a registration in its own transaction. */
export function instrumentRow(i: InstrumentRecord): Insertable<InstrumentsTable> {
  return {
    id: i.id, merchant_id: i.merchantId, card_id: i.cardId, holder_reference: i.holderReference, status: i.status,
    future_usage: i.futureUsage ?? null, store_instrument: i.storeInstrument ? 1 : 0, entity_id: i.entityId ?? null,
    created_at: i.createdAt, updated_at: i.updatedAt,
  };
}

const toInstrument = (r: Selectable<InstrumentsTable>): InstrumentRecord => ({
  id: r.id, merchantId: r.merchant_id, cardId: r.card_id, holderReference: r.holder_reference,
  status: r.status as InstrumentStatus, futureUsage: r.future_usage ?? undefined, storeInstrument: r.store_instrument === 1,
  entityId: r.entity_id ?? undefined,
  createdAt: Number(r.created_at), updatedAt: Number(r.updated_at),
});

/**
 * The vault's writes over a unit of work's transaction, for transactions opened over `db`. A card
 * is inserted with every /v1 card payment: that statement is compiled once (storage/prepared.ts).
 */
export function vaultWriterOf(db: Kysely<Database>): (tx: Tx) => VaultWriter {
  const insertCardRow = prepare(db, (q, p: CardRow) => q.insertInto('cards').values(p));
  const locking = db.getExecutor().adapter instanceof PostgresAdapter;
  return (tx) => ({
    async endTransient(id, to, at) {
      const r = await tx.updateTable('instruments').set({ status: to, ...(to === 'enabled' ? { store_instrument: 1 } : {}), updated_at: at })
        .where('id', '=', id).where('status', '=', 'transient').executeTakeFirst();
      return Number(r.numUpdatedRows) === 1;
    },
    async holdEnabled(id) {
      let q = tx.selectFrom('instruments').select('status').where('id', '=', id);
      if (locking) q = q.forUpdate();
      return (await q.executeTakeFirst())?.status === 'enabled';
    },
    async deleteUnless(id, chargedElsewhere, at) {
      // The row held first (PostgreSQL), and the other payments read after it: a payment with the
      // card another transaction committed while this one waited for the row (it holds the
      // instrument as it records its intent) is seen. In one statement, the condition was judged on
      // the snapshot taken before the wait, and the card the holder had just paid with was deleted.
      let held = tx.selectFrom('instruments').select(['status', 'card_id']).where('id', '=', id);
      if (locking) held = held.forUpdate();
      const i = await held.executeTakeFirst();
      if (i?.status !== 'enabled' || await chargedElsewhere(i.card_id)) return undefined;
      const r = await tx.updateTable('instruments').set({ status: 'deleted', updated_at: at }).where('id', '=', id).where('status', '=', 'enabled').executeTakeFirst();
      if (Number(r.numUpdatedRows) !== 1) return undefined;
      const c = await tx.selectFrom('cards').select(['id', 'brand', 'bin', 'last4', 'holder', 'expiry_month', 'expiry_year'])
        .where('id', '=', i.card_id).executeTakeFirst();
      return c && { id: c.id, brand: c.brand as CardBrand, bin: c.bin, last4: c.last4, holder: c.holder ?? undefined, expiryMonth: c.expiry_month, expiryYear: c.expiry_year };
    },
    async heldCard(id) {
      let q = tx.selectFrom('instruments').select(['status', 'card_id']).where('id', '=', id);
      if (locking) q = q.forUpdate();
      const i = await q.executeTakeFirst();
      if (i?.status !== 'enabled') return undefined;
      const c = await tx.selectFrom('cards').select(['expiry_month', 'expiry_year']).where('id', '=', i.card_id).executeTakeFirst();
      return c && { cardId: i.card_id, expiryMonth: c.expiry_month, expiryYear: c.expiry_year };
    },
    async insertCard(card) {
      await insertCardRow.later(tx, cardRow(card));
    },
    async insertInstrument(i) {
      await tx.insertInto('instruments').values(instrumentRow(i)).execute();
    },
    async setInstrumentStatus(id, status, at) {
      const r = await tx.updateTable('instruments').set({ status, updated_at: at }).where('id', '=', id).where('status', '!=', status).executeTakeFirst();
      return Number(r.numUpdatedRows) === 1;
    },
    async setInstrumentCard(id, cardId, at) {
      const before = await tx.selectFrom('instruments').select('card_id').where('id', '=', id).where('status', '=', 'enabled').executeTakeFirst();
      if (!before) return false;
      const r = await tx.updateTable('instruments').set({ card_id: cardId, updated_at: at }).where('id', '=', id).where('status', '=', 'enabled').executeTakeFirst();
      if (Number(r.numUpdatedRows) !== 1) return false;
      // The card it charged before (the same number): no instrument charges it now, so it is erased
      // once no payment with it is open (the erasure job).
      if (before.card_id !== cardId) await tx.updateTable('cards').set({ released_at: at }).where('id', '=', before.card_id).where('erased_at', 'is', null).execute();
      return true;
    },
  });
}

export function createInstrumentStore(uow: UnitOfWork): InstrumentStore {
  const { db } = uow;
  return {
    writer: vaultWriterOf(db),
    async instrument(id) {
      const r = await db.selectFrom('instruments').selectAll().where('id', '=', id).executeTakeFirst();
      return r ? toInstrument(r) : undefined;
    },
    async byHolder(merchantId, holderReference, page = {}) {
      // Enabled ones only, before the limit: one-time and deleted cards would otherwise crowd a
      // holder's saved cards out of the list.
      let q = db.selectFrom('instruments').selectAll().where('merchant_id', '=', merchantId)
        .where('holder_reference', '=', holderReference).where('status', '=', 'enabled')
        // /v1 registrations belong to an entity, not to a holder's saved cards.
        .where('entity_id', 'is', null);
      const after = page.after;
      if (after) q = q.where((eb) => eb.or([eb('created_at', '<', after.createdAt), eb.and([eb('created_at', '=', after.createdAt), eb('id', '>', after.id)])]));
      const rows = await q.orderBy('created_at', 'desc').orderBy('id').limit(page.limit ?? 50).execute();
      return rows.map(toInstrument);
    },
  };
}

export function createTokenizationKeyStore(uow: UnitOfWork): TokenizationKeyStore {
  const { db } = uow;
  const toRecord = (r: { id: string; merchant_id: string | null; public_key: string; sealed_private_key: string; created_at: number; expires_at: number }): TokenizationKeyRecord => ({
    id: r.id, merchantId: r.merchant_id ?? '', publicKey: r.public_key, sealedPrivateKey: r.sealed_private_key, createdAt: Number(r.created_at), expiresAt: Number(r.expires_at),
  });
  return {
    async insertKey(k) {
      await db.insertInto('tokenization_keys').values({
        id: k.id, merchant_id: k.merchantId, public_key: k.publicKey, sealed_private_key: k.sealedPrivateKey, created_at: k.createdAt, expires_at: k.expiresAt,
      }).execute();
    },
    async key(id) {
      const r = await db.selectFrom('tokenization_keys').selectAll().where('id', '=', id).executeTakeFirst();
      return r ? toRecord(r) : undefined;
    },
    async freshestKey(merchantId) {
      const r = await db.selectFrom('tokenization_keys').selectAll().where('merchant_id', '=', merchantId).orderBy('expires_at', 'desc').limit(1).executeTakeFirst();
      return r ? toRecord(r) : undefined;
    },
    async purgeExpired(before) {
      const r = await db.deleteFrom('tokenization_keys').where('expires_at', '<', before).executeTakeFirst();
      return Number(r.numDeletedRows);
    },
  };
}
