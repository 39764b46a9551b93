import type { Migration } from 'kysely/migration';

/**
 * Lists an operator or a merchant reads often found their rows by walking or sorting a whole table:
 * the webhook delivery log (all of it, one merchant's, since a time), executions by the merchant's
 * own references, a merchant's audit page, a merchant's ledger export by time, and a key rotation's
 * batches of cards under an old key. On the embedded store such a statement holds every payment
 * behind it. Their indexes (`webhook_deliveries_created`, `webhook_deliveries_merchant`,
 * `executions_merchant_reference`, `executions_holder_reference`, `audit_log_merchant`,
 * `postings_merchant_time`, `cards_key_version`) are built after the migrations, on PostgreSQL
 * concurrently, since older nodes keep writing to these tables during a rolling upgrade (see
 * `buildIndexesAfterMigrating` in database.ts); this step marks the schema version that has them.
 */
export const lookupIndexes: Migration = {
  async up() {},
};
