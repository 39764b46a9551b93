import { sql, type Kysely } from 'kysely';
import type { Migration } from 'kysely/migration';

/**
 * Cards no instrument charges any more without having been deleted with one, for the erasure job
 * (migration 106) to find:
 * - `cards.released_at`: a registration renewed with a reissued card's expiry points at a card of
 *   its own from then on; the one before, the same number, is released then, and erased once no
 *   payment with it is open. `cards_released` holds only those not erased yet.
 * - `instruments_transient`: one-time instruments by age, so those that lapsed unused (shown
 *   deleted) are marked deleted and their cards erased like any other's.
 * The indexes' conditions are literals, repeated term for term by the job's queries.
 */
export const releasedCards: Migration = {
  async up(db: Kysely<any>) {
    await db.schema.alterTable('cards').addColumn('released_at', 'bigint').execute();
    await sql`create index cards_released on cards (released_at, id) where released_at is not null and erased_at is null`.execute(db);
    await sql`create index instruments_transient on instruments (created_at, id) where status = 'transient'`.execute(db);
  },
};
