import type { Kysely } from 'kysely';
import type { Migration } from 'kysely/migration';

/**
 * How many times an operator asked for a delivery to be sent again. A worker records an attempt
 * against the count it claimed with: a higher count means a redelivery came while the attempt was
 * under way, and its fresh retry ladder stands whatever that attempt's failure says. Compared
 * before by timestamps, the redelivery's (the operator's node's clock) against the attempt's (the
 * worker's), a worker whose clock ran ahead took a redelivery for an older one and dropped it.
 */
export const webhookRedeliveries: Migration = {
  async up(db: Kysely<any>) {
    await db.schema.alterTable('webhook_deliveries').addColumn('redeliveries', 'integer', (c) => c.notNull().defaultTo(0)).execute();
  },
};
