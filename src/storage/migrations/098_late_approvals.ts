import type { Kysely } from 'kysely';
import type { Migration } from 'kysely/migration';

/**
 * Charges a PSP approved after the gateway had ended their attempt as failed (never received,
 * expired, a shopper back from the PSP's 3-D Secure too late): money moved for a payment the merchant
 * was told failed. Each row is the reversal the gateway owes the cardholder, tried until the PSP
 * takes it or an operator must act. One row per attempt: a notification sent twice records it once.
 */
export const lateApprovals: Migration = {
  async up(db: Kysely<any>) {
    await db.schema.createTable('late_approvals')
      .addColumn('attempt_id', 'varchar(32)', (c) => c.primaryKey())
      .addColumn('payment_id', 'varchar(32)', (c) => c.notNull().references('payments.id'))
      .addColumn('merchant_id', 'varchar(32)', (c) => c.notNull())
      .addColumn('account_id', 'varchar(32)', (c) => c.notNull())
      .addColumn('operation', 'varchar(16)', (c) => c.notNull())
      .addColumn('psp_reference', 'text')
      .addColumn('original_reference', 'text')
      .addColumn('amount', 'bigint', (c) => c.notNull())
      .addColumn('currency', 'varchar(3)', (c) => c.notNull())
      .addColumn('live', 'integer', (c) => c.notNull())
      // What undoes it at the PSP (void, refund); null when nothing can, and an operator must.
      .addColumn('reversal', 'varchar(16)')
      // The current try's idempotency key at the PSP: kept while a try's answer is in doubt, new
      // after a refusal (which moved no money).
      .addColumn('reversal_id', 'varchar(32)', (c) => c.notNull())
      // 1 from the moment a try is sent until the PSP says how it ended: it is looked up before
      // anything is sent again.
      .addColumn('in_doubt', 'integer', (c) => c.notNull())
      // When the current try was first sent (a PSP's lookup lag and the limit of doubt count from it).
      .addColumn('tried_at', 'bigint')
      // How many times the current try was sent: a refusal of a second send may only mean "that key
      // is taken", and a lookup may report it, so only the PSP's notification is then believed.
      .addColumn('sends', 'integer', (c) => c.notNull())
      .addColumn('status', 'varchar(16)', (c) => c.notNull())
      .addColumn('refusals', 'integer', (c) => c.notNull())
      .addColumn('next_try_at', 'bigint', (c) => c.notNull())
      .addColumn('last_result', 'text')
      .addColumn('found_at', 'bigint', (c) => c.notNull())
      .addColumn('updated_at', 'bigint', (c) => c.notNull())
      .execute();
    await db.schema.createIndex('late_approvals_due').on('late_approvals').columns(['status', 'next_try_at']).execute();
    // A PSP's notification about a reversal names it by its key.
    await db.schema.createIndex('late_approvals_reversal').on('late_approvals').column('reversal_id').unique().execute();
  },
};
