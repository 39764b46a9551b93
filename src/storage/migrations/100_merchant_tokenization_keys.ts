import type { Kysely } from 'kysely';
import type { Migration } from 'kysely/migration';

/**
 * The RSA key browsers encrypt card data to was one for the whole gateway: card data a shopper
 * encrypted on one merchant's page (and which that merchant may log or forward, since it can read
 * nothing in it) could be posted with another merchant's client token and become a card in that
 * merchant's vault. Each key now belongs to one merchant and opens only for that merchant's client
 * tokens. The gateway-wide keys are deleted rather than given an owner: a browser that still holds
 * one is told to call client/init again. During a rolling upgrade a node of the earlier version
 * still hands out keys without an owner (or another merchant's): the upgraded nodes refuse card
 * data encrypted to them the same way, so the browser starts again on a key of its own.
 */
export const merchantTokenizationKeys: Migration = {
  async up(db: Kysely<any>) {
    await db.deleteFrom('tokenization_keys').execute();
    await db.schema.alterTable('tokenization_keys').addColumn('merchant_id', 'varchar(32)').execute();
    await db.schema.createIndex('tokenization_keys_merchant').on('tokenization_keys').columns(['merchant_id', 'expires_at']).execute();
  },
};
