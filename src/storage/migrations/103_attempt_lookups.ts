import type { Kysely } from 'kysely';
import type { Migration } from 'kysely/migration';

/**
 * Attempts are found by their id: the merchant reference a connector sends, which a PSP's
 * notification, a shopper back from a PSP's 3-D Secure, the reconciler and a settlement report name.
 * Keyed only by their operation and slot before, each such lookup read the whole table. Ids are
 * time-ordered, so the index grows at its end. (The PSP's own reference is found through the
 * operation's, `transactions_psp_reference`: a second index here would cost every attempt's write.)
 */
export const attemptLookups: Migration = {
  async up(db: Kysely<any>) {
    await db.schema.createIndex('attempts_id').on('attempts').column('id').execute();
  },
};
