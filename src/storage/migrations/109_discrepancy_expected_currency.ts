import type { Kysely } from 'kysely';
import type { Migration } from 'kysely/migration';

/**
 * A settlement discrepancy keeps the ledger's currency where it is not the report line's (a line in
 * USD naming a EUR capture): the record held only the line's, so "USD, expected 5000, reported 5000"
 * read as the two sides agreeing, with the ledger's currency (and the scale of its figure) lost.
 * Null where the two are the same, as in every record made before.
 */
export const discrepancyExpectedCurrency: Migration = {
  async up(db: Kysely<any>) {
    await db.schema.alterTable('settlement_discrepancies').addColumn('expected_currency', 'text').execute();
  },
};
