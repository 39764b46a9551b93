import { sql, type Kysely } from 'kysely';
import type { Migration } from 'kysely/migration';

/**
 * Cards released before migration 107 could mark them: the card a registration held before it was
 * renewed with a reissued card's expiry is referenced by no instrument, and by no payment but the
 * registration's own (their opening operation names the registration in its context). A card a
 * payment was made with directly (no registration) stays: a rebill of that payment charges it.
 * The erasure job erases those released here once no payment with them is open.
 */
export const releasedCardsBackfill: Migration = {
  async up(db: Kysely<any>) {
    await sql`update cards set released_at = ${Date.now()}
      where erased_at is null and released_at is null
        and not exists (select 1 from instruments i where i.card_id = cards.id)
        and not exists (select 1 from payments p join transactions t on t.payment_id = p.id and t.seq = 0
          where p.card_id = cards.id and t.echo not like ${'%"registrationId":%'})`.execute(db);
  },
};
