import type { Kysely } from 'kysely';
import type { Migration } from 'kysely/migration';

/**
 * Idempotency keys held a plain SHA-256 of each request, card number and security code included
 * (`POST /payment/instruments`): from the BIN, the last four and the expiry an instrument shows,
 * anyone reading the table (or a backup) could search the rest of the number and the code in
 * seconds. Requests are now hashed with a key of their own derived from the master key, without
 * the security code. The hashes stored before cannot be turned into the new ones; they are replaced
 * by a marker, and a retry of such a request (within the 48 hours a key is kept) is answered as
 * the same request.
 */
export const keyedRequestHashes: Migration = {
  async up(db: Kysely<any>) {
    await db.updateTable('idempotency_keys').set({ request_hash: 'unverifiable' }).execute();
  },
};
