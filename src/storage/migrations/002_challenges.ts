import type { Kysely } from 'kysely';
import type { Migration } from 'kysely/migration';

/** Hosted shopper sessions (3-D Secure challenges, bank-transfer confirmations) and payment methods. */
export const challenges: Migration = {
  async up(db: Kysely<any>) {
    await db.schema.createTable('challenges')
      .addColumn('id', 'varchar(32)', (c) => c.primaryKey())
      .addColumn('merchant_id', 'varchar(32)', (c) => c.notNull().references('merchants.id'))
      .addColumn('merchant_name', 'text', (c) => c.notNull())
      .addColumn('purpose', 'text', (c) => c.notNull())
      .addColumn('subject_kind', 'text', (c) => c.notNull())
      .addColumn('subject_id', 'varchar(64)', (c) => c.notNull())
      .addColumn('amount', 'bigint', (c) => c.notNull())
      .addColumn('currency', 'varchar(3)', (c) => c.notNull())
      .addColumn('instrument_label', 'text', (c) => c.notNull())
      .addColumn('return_origins', 'text', (c) => c.notNull())
      .addColumn('status', 'text', (c) => c.notNull())
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .addColumn('expires_at', 'bigint', (c) => c.notNull())
      .addColumn('resolved_at', 'bigint')
      .execute();
    await db.schema.createIndex('challenges_subject').on('challenges').columns(['subject_kind', 'subject_id']).execute();
    await db.schema.createIndex('challenges_open').on('challenges').columns(['status', 'expires_at']).execute();
    // Card payments and bank transfers share the payment aggregate; the method decides the flow.
    await db.schema.alterTable('payments').addColumn('method', 'text', (c) => c.notNull().defaultTo('card')).execute();
  },
};
