import type { Kysely } from 'kysely';
import type { Migration } from 'kysely/migration';

/**
 * /v1 registrations are vault instruments that also belong to an entity (the channel they were
 * made on); executions-dialect instruments leave it empty.
 */
export const registrations: Migration = {
  async up(db: Kysely<any>) {
    await db.schema.alterTable('instruments').addColumn('entity_id', 'varchar(32)').execute();
  },
};
