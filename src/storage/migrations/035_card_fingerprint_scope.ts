import type { Kysely } from 'kysely';
import type { Migration } from 'kysely/migration';

/**
 * Card fingerprints become per merchant (the same card at two merchants no longer has the same
 * fingerprint). Rows written before keep scope 0 until the vault, which alone holds the key,
 * re-derives their fingerprint at its next start and marks them 1.
 */
export const cardFingerprintScope: Migration = {
  async up(db: Kysely<any>) {
    await db.schema.alterTable('cards').addColumn('fingerprint_scope', 'integer', (c) => c.notNull().defaultTo(0)).execute();
  },
};
