import type { Kysely } from 'kysely';
import type { Migration } from 'kysely/migration';

/**
 * A settlement discrepancy keeps the report line's fee and net where its net is not its gross less its
 * fee: the record held only the two grosses, so a line with the right gross and a wrong net (what the
 * PSP actually paid) read "expected 10000, reported 10000", the two sides seemingly agreeing. Null in
 * every other record, as in every record made before.
 */
export const discrepancyReportedNet: Migration = {
  async up(db: Kysely<any>) {
    await db.schema.alterTable('settlement_discrepancies').addColumn('reported_fee', 'bigint').execute();
    await db.schema.alterTable('settlement_discrepancies').addColumn('reported_net', 'bigint').execute();
  },
};
