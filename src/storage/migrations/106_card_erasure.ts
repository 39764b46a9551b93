import { sql, type Kysely } from 'kysely';
import type { Migration } from 'kysely/migration';

/**
 * A card whose every instrument (a /v1 registration, an executions instrument) was deleted is
 * erased: its card number's ciphertext is blanked, so the number can no
 * longer be recovered under any key (`cards.erased_at` says when). What is shown of it (brand,
 * BIN, last four, expiry, holder) and its fingerprint stay, for the payments made with it.
 * `instruments.card_erased_at` marks the deleted instruments whose card is gone, so the job's
 * partial index holds only those still to look at; `instruments_card` finds a card's instruments.
 * Deleted instruments from before this migration are in that index too: their cards are erased by
 * the job's first pass.
 */
export const cardErasure: Migration = {
  async up(db: Kysely<any>) {
    await db.schema.alterTable('cards').addColumn('erased_at', 'bigint').execute();
    await db.schema.alterTable('instruments').addColumn('card_erased_at', 'bigint').execute();
    await db.schema.createIndex('instruments_card').on('instruments').column('card_id').execute();
    // Its condition is literals, and the job's query repeats them term for term: SQLite uses a
    // partial index only when the query's own terms prove its condition.
    await sql`create index instruments_awaiting_erasure on instruments (updated_at, id) where status = 'deleted' and card_erased_at is null`.execute(db);
  },
};
