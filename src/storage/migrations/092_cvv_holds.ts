import type { Kysely } from 'kysely';
import type { Migration } from 'kysely/migration';

/**
 * Security codes waiting for their one authorization, shared by every node of a PostgreSQL
 * cluster: sealed (never plain text), a short life, deleted when used. The embedded store keeps
 * them in process memory instead and never writes this table.
 */
export const cvvHolds: Migration = {
  async up(db: Kysely<any>) {
    await db.schema.createTable('cvv_holds')
      .addColumn('key', 'varchar(96)', (c) => c.primaryKey())
      .addColumn('sealed', 'text', (c) => c.notNull())
      .addColumn('expires_at', 'bigint', (c) => c.notNull())
      .execute();
    await db.schema.createIndex('cvv_holds_expiry').on('cvv_holds').column('expires_at').execute();
  },
};
