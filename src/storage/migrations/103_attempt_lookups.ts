import type { Kysely } from 'kysely';
import type { Migration } from 'kysely/migration';

/**
 * Attempts are found by what a PSP knows them by: their id (the merchant reference a connector
 * sends; a PSP's notification, a shopper back from a PSP's 3-D Secure and the reconciler name it) and,
 * at one PSP account, the PSP's own reference (a settlement report names either). Keyed only by their
 * operation and slot before, each such lookup read the whole table.
 */
export const attemptLookups: Migration = {
  async up(db: Kysely<any>) {
    await db.schema.createIndex('attempts_id').on('attempts').column('id').execute();
    await db.schema.createIndex('attempts_account_psp_reference').on('attempts').columns(['account_id', 'psp_reference']).execute();
  },
};
