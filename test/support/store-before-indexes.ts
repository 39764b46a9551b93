/**
 * A PostgreSQL store as the release before the rate-count and checkout indexes left it (through
 * migration 109), for tests of the upgrade that builds them: made by this release, then those
 * indexes and their migrations' marks taken away.
 */
import type pg from 'pg';
import { openStorage } from '../../src/storage/database.ts';
import { testPostgresUrl } from './harness.ts';

export async function storeBeforeIndexes(admin: pg.Client, schema: string): Promise<void> {
  const first = await openStorage({ kind: 'postgres', url: testPostgresUrl, schema });
  await first.close();
  await admin.query(`drop index "${schema}".rate_hits_at`);
  await admin.query(`drop index "${schema}".checkouts_unpaid_expiry`);
  // It had none of the later migrations either, nor what they add (111 to 113 only mark a version).
  await admin.query(`alter table "${schema}".settlement_discrepancies drop column reported_fee, drop column reported_net`);
  await admin.query(`drop table "${schema}".simulator_answers`);
  await admin.query(`delete from "${schema}".kysely_migration where name > '110'`);
}

/** The two indexes' names and validity in `schema`, by name. */
export async function indexesBuilt(admin: pg.Client, schema: string): Promise<{ name: string; valid: boolean }[]> {
  const { rows } = await admin.query(`select c.relname as name, x.indisvalid as valid from pg_class c join pg_index x on x.indexrelid = c.oid
    join pg_namespace n on n.oid = c.relnamespace where n.nspname = $1 and c.relname in ('rate_hits_at', 'checkouts_unpaid_expiry') order by 1`, [schema]);
  return rows;
}
