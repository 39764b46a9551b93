import type { Kysely } from 'kysely';
import type { Migration } from 'kysely/migration';

/**
 * The operator dashboard: its users, their sessions and the audit log of what they did; and the
 * indexes that let an operator find one payment among millions by date, merchant or any of its
 * references (payment, order, PSP reference, card's last four digits).
 */
export const dashboard: Migration = {
  async up(db: Kysely<any>) {
    await db.schema.createTable('dashboard_users')
      .addColumn('id', 'varchar(32)', (c) => c.primaryKey())
      .addColumn('email', 'varchar(254)', (c) => c.notNull().unique())
      .addColumn('role', 'varchar(16)', (c) => c.notNull())
      .addColumn('merchant_id', 'varchar(32)')
      // scrypt parameters, salt and hash in one string: the parameters can be raised for new hashes.
      .addColumn('password_hash', 'text', (c) => c.notNull())
      .addColumn('failed_sign_ins', 'integer', (c) => c.notNull().defaultTo(0))
      .addColumn('locked_until', 'bigint')
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .addColumn('updated_at', 'bigint', (c) => c.notNull())
      .execute();
    await db.schema.createTable('dashboard_sessions')
      // SHA-256 of the cookie's value: a copy of the table signs nobody in.
      .addColumn('token_hash', 'varchar(64)', (c) => c.primaryKey())
      .addColumn('user_id', 'varchar(32)', (c) => c.notNull())
      .addColumn('csrf_token', 'varchar(64)', (c) => c.notNull())
      .addColumn('ip', 'varchar(64)', (c) => c.notNull())
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .addColumn('seen_at', 'bigint', (c) => c.notNull())
      .addColumn('expires_at', 'bigint', (c) => c.notNull())
      .execute();
    await db.schema.createIndex('dashboard_sessions_user').on('dashboard_sessions').column('user_id').execute();
    await db.schema.createTable('audit_log')
      .addColumn('id', 'varchar(32)', (c) => c.primaryKey())
      .addColumn('at', 'bigint', (c) => c.notNull())
      .addColumn('user_id', 'varchar(32)')
      .addColumn('email', 'varchar(254)', (c) => c.notNull())
      .addColumn('merchant_id', 'varchar(32)')
      .addColumn('action', 'varchar(64)', (c) => c.notNull())
      .addColumn('subject', 'text')
      .addColumn('outcome', 'varchar(16)', (c) => c.notNull())
      .addColumn('detail', 'text', (c) => c.notNull())
      .addColumn('ip', 'varchar(64)', (c) => c.notNull())
      .execute();
    await db.schema.createIndex('audit_log_at').on('audit_log').columns(['at', 'id']).execute();
    // The payment list: newest first, across merchants or within one, by cursor.
    await db.schema.createIndex('payments_created').on('payments').columns(['created_at', 'id']).execute();
    await db.schema.createIndex('payments_merchant_created').on('payments').columns(['merchant_id', 'created_at', 'id']).execute();
    await db.schema.createIndex('payments_card').on('payments').column('card_id').execute();
    // A rare status (unknown, pending) would otherwise walk the whole date index to fill a page;
    // an amount range is read as a range and sorted (it matches few payments).
    await db.schema.createIndex('payments_status_created').on('payments').columns(['status', 'created_at', 'id']).execute();
    await db.schema.createIndex('payments_amount').on('payments').columns(['currency', 'amount']).execute();
    // Search keys: an order reference or a PSP reference across every entity, a card's last four.
    await db.schema.createIndex('transactions_reference').on('transactions').column('merchant_transaction_id').execute();
    await db.schema.createIndex('transactions_psp_reference').on('transactions').column('psp_reference').execute();
    await db.schema.createIndex('cards_last4').on('cards').column('last4').execute();
    // A payment's webhook deliveries, found through the events about it.
    await db.schema.createIndex('outbox_subject').on('outbox').column('subject_id').execute();
  },
};
