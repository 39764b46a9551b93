import type { Kysely } from 'kysely';
import type { Migration } from 'kysely/migration';

/**
 * A challenge may be run by the PSP instead of the engine: it then keeps the PSP's redirect (URL,
 * method and form fields, as JSON) that its hosted page forwards the shopper to.
 */
export const pspRedirects: Migration = {
  async up(db: Kysely<any>) {
    await db.schema.alterTable('challenges').addColumn('psp_redirect', 'text').execute();
  },
};
