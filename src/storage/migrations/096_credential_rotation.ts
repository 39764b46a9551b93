import type { Kysely } from 'kysely';
import type { Migration } from 'kysely/migration';

/**
 * Rotating a merchant's credentials. The /v1 token and the executions API key are stored only as
 * digests, so rotation replaces their rows; but an executions access token already issued (a JWT
 * signed by the gateway, valid for an hour) would outlive its API key. Each merchant gets a token
 * generation, written into every access token: rotating the executions credentials moves it on, and
 * tokens of an earlier generation are refused at once. Existing merchants start at generation 1.
 */
export const credentialRotation: Migration = {
  async up(db: Kysely<any>) {
    await db.schema.alterTable('merchants').addColumn('token_generation', 'integer', (c) => c.notNull().defaultTo(1)).execute();
  },
};
