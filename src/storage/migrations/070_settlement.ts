import type { Kysely } from 'kysely';
import type { Migration } from 'kysely/migration';

/**
 * Settlement reconciliation and per-brand authorization expiry.
 *
 * `settlement_reports` holds one row per imported report, keyed by a hash of its content, so a
 * report imported twice is recognised and changes nothing. `settlement_discrepancies` holds what a
 * report and the ledger disagree on, open until an operator resolves it.
 * `payments.hold_released_at` marks an authorization whose hold the expiry job found closed (fully
 * captured, voided or expired): the job never looks at it again, so its scan stays bounded.
 */
export const settlement: Migration = {
  async up(db: Kysely<any>) {
    await db.schema.createTable('settlement_reports')
      .addColumn('id', 'varchar(64)', (c) => c.primaryKey())
      .addColumn('psp_account_id', 'varchar(64)', (c) => c.notNull())
      .addColumn('day', 'varchar(10)', (c) => c.notNull())
      .addColumn('summary', 'text', (c) => c.notNull())
      .addColumn('imported_at', 'bigint', (c) => c.notNull())
      .execute();
    await db.schema.createTable('settlement_discrepancies')
      .addColumn('id', 'varchar(64)', (c) => c.primaryKey())
      .addColumn('report_id', 'varchar(64)', (c) => c.notNull())
      .addColumn('psp_account_id', 'varchar(64)', (c) => c.notNull())
      .addColumn('merchant_id', 'varchar(64)')
      .addColumn('kind', 'varchar(32)', (c) => c.notNull())
      .addColumn('reference', 'varchar(128)', (c) => c.notNull())
      .addColumn('payment_id', 'varchar(64)')
      .addColumn('operation_id', 'varchar(64)')
      .addColumn('currency', 'varchar(3)', (c) => c.notNull())
      .addColumn('expected_amount', 'bigint')
      .addColumn('reported_amount', 'bigint')
      .addColumn('status', 'varchar(16)', (c) => c.notNull())
      .addColumn('note', 'text')
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .addColumn('resolved_at', 'bigint')
      .execute();
    await db.schema.createIndex('settlement_discrepancies_status').on('settlement_discrepancies').columns(['status', 'merchant_id']).execute();
    await db.schema.createIndex('settlement_discrepancies_report').on('settlement_discrepancies').columns(['report_id']).execute();
    await db.schema.alterTable('payments').addColumn('hold_released_at', 'bigint').execute();
    await db.schema.createIndex('payments_open_holds').on('payments').columns(['hold_released_at', 'created_at']).execute();
    // Exports and missing-line checks read postings by time.
    await db.schema.createIndex('postings_time').on('postings').columns(['created_at']).execute();
  },
};
