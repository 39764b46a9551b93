import { PostgresAdapter, sql, type Kysely } from 'kysely';
import type { Migration } from 'kysely/migration';

/**
 * The two sweeps that look for payments still waiting on something read partial indexes holding
 * only those, so that a pass costs what it finds, not what the merchant has ever taken.
 *
 * - `expire-authorizations` read `payments_open_holds` (hold_released_at, created_at): every sale,
 *   credit and declined authorization ever made keeps a null `hold_released_at` (only the job sets
 *   it, on authorizations it looked at), so each pass walked all of them older than the expiry.
 *   `payments_open_authorizations` holds authorizations in a status that may still hold money and
 *   not yet marked released.
 * - `confirm-bank-transfers` found its transfers by status alone, walking every authorized and
 *   captured payment, card payments included, and sorting them. `payments.receipt_settled_at` marks
 *   a bank transfer a receipt has confirmed (the job marks it when it finds one; the merchant's own
 *   receipt is final), and `payments_awaiting_receipt` holds the confirmed transfers not yet marked.
 *
 * The indexes' conditions are literals, and the sweeps' queries (payments/kysely-store.ts) repeat
 * them term for term: SQLite uses a partial index only when the query's own terms prove its
 * condition, which a bound parameter never does. Statuses are named by what they are not (a
 * payment that never held money, or holds none any more): a list of those they are would let
 * SQLite, without statistics, prefer the index by status and sort what it finds.
 */
export const jobScanIndexes: Migration = {
  async up(db: Kysely<any>) {
    await db.schema.alterTable('payments').addColumn('receipt_settled_at', 'bigint').execute();
    await sql`update payments set receipt_settled_at = updated_at where method = 'bank_transfer' and exists (
      select 1 from transactions r where r.payment_id = payments.id and r.type = 'receipt' and r.status = 'succeeded')`.execute(db);
    await sql`create index payments_open_authorizations on payments (created_at, id)
      where hold_released_at is null and initial_type = 'authorize' and status not in ('pending', 'unknown', 'declined', 'reversed', 'credited')`.execute(db);
    await sql`create index payments_awaiting_receipt on payments (updated_at, id)
      where method = 'bank_transfer' and status not in ('pending', 'unknown', 'declined', 'reversed', 'credited') and receipt_settled_at is null`.execute(db);
    // SQLite, without statistics, would still pick the older index for the expiry sweep (an
    // equality on its first column); nothing else reads it. PostgreSQL keeps it for the nodes of
    // the older release still running beside this one in a rolling upgrade, and plans by its
    // statistics, in which the partial index is the smaller.
    if (!(db.getExecutor().adapter instanceof PostgresAdapter)) await db.schema.dropIndex('payments_open_holds').execute();
  },
};
