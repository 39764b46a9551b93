import { sql, type Kysely } from 'kysely';
import type { Migration } from 'kysely/migration';

/**
 * The double-entry ledger: immutable postings, one row per leg of a transfer, written in the unit
 * of work of the payment change they record. The unique (operation, phase, leg) makes a change
 * applied twice (a retried unit of work, a replayed reconciliation) post once.
 */
export const ledger: Migration = {
  async up(db: Kysely<any>) {
    await db.schema.createTable('postings')
      .addColumn('id', 'varchar(96)', (c) => c.notNull())
      .addColumn('transfer_id', 'varchar(64)', (c) => c.notNull())
      .addColumn('operation_id', 'varchar(64)', (c) => c.notNull())
      .addColumn('payment_id', 'varchar(64)', (c) => c.notNull())
      .addColumn('merchant_id', 'varchar(64)', (c) => c.notNull())
      .addColumn('currency', 'varchar(3)', (c) => c.notNull())
      .addColumn('psp_account_id', 'varchar(64)', (c) => c.notNull())
      .addColumn('debit_account', 'varchar(24)', (c) => c.notNull())
      .addColumn('credit_account', 'varchar(24)', (c) => c.notNull())
      .addColumn('amount', 'bigint', (c) => c.notNull().check(sql`amount > 0`))
      .addColumn('phase', 'varchar(8)', (c) => c.notNull())
      .addColumn('leg', 'integer', (c) => c.notNull())
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      // The key is the posting's identity: every commit touches as few trees as it can (a payment's
      // postings are found through its operations' ids, a prefix of this key).
      .addPrimaryKeyConstraint('postings_pk', ['operation_id', 'phase', 'leg'])
      .execute();
    await db.schema.createIndex('postings_merchant').on('postings').columns(['merchant_id', 'currency']).execute();
  },
};
