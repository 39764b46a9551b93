/**
 * A rolling upgrade from the release before the rate-count and checkout indexes: the first node of
 * this release migrates while nodes of the previous release still serve. Kysely runs every pending
 * migration on PostgreSQL in one transaction; built there, the index on `rate_hits` stopped writes
 * to it until the index on `checkouts` was built too, so every status read, sign-in and tokenization
 * of the older nodes waited for the whole upgrade. The two are now built after the migrations,
 * concurrently. Here a checkout being written (an open transaction, as any on a busy checkouts
 * table) holds the checkouts index back; an old node's writes must not wait for it, and once that
 * transaction ends both indexes are there and valid.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { openStorage } from '../src/storage/database.ts';
import { postgresAvailable, testPostgresUrl } from './support/harness.ts';
import { indexesBuilt, storeBeforeIndexes } from './support/store-before-indexes.ts';

const skip = (await postgresAvailable()) ? false : 'PostgreSQL is not reachable';

test('while the checkouts index waits for a checkout being written, a node of the previous release still counts rate-limit hits and writes checkouts; then both indexes are valid', { skip }, async () => {
  const schema = `sy_upgrade_${randomBytes(5).toString('hex')}`;
  const admin = new pg.Client({ connectionString: testPostgresUrl });
  const busy = new pg.Client({ connectionString: testPostgresUrl });
  const oldNode = new pg.Client({ connectionString: testPostgresUrl });
  await Promise.all([admin.connect(), busy.connect(), oldNode.connect()]);
  let upgrading: Promise<unknown> | undefined;
  try {
    await storeBeforeIndexes(admin, schema);
    // An old node is writing a checkout (a widget page load) when the new node starts.
    await busy.query('begin');
    await busy.query(`insert into "${schema}".checkouts (id, merchant_id, entity_id, params, registration_ids, status, payment_id, created_at, expires_at)
      values ('C1.sy01', 'm', 'e', '{}', '[]', 'open', null, 1, 2)`);
    upgrading = openStorage({ kind: 'postgres', url: testPostgresUrl, schema }).then((s) => s.close());
    // Let the new node reach the checkouts index (waiting for the checkout's transaction).
    for (let i = 0; i < 50; i++) {
      const { rows } = await admin.query(`select count(*)::int as n from pg_stat_activity where wait_event_type = 'Lock' and query ilike '%checkouts_unpaid_expiry%'`);
      if (rows[0].n > 0) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    // Another node of the previous release counts a status read.
    await oldNode.query(`set lock_timeout = '2s'`);
    let error: unknown;
    try {
      await oldNode.query(`insert into "${schema}".rate_hits (key, at) values ('opp-status:P1', 1)`);
    } catch (err) { error = err; }
    assert.equal(error, undefined, `a node of the previous release could not count a rate-limit hit while the upgrade waited on checkouts: ${String(error)}`);
    await oldNode.query(`insert into "${schema}".checkouts (id, merchant_id, entity_id, params, registration_ids, status, payment_id, created_at, expires_at)
      values ('C2.sy01', 'm', 'e', '{}', '[]', 'open', null, 1, 2)`);
    await busy.query('rollback');
    await upgrading;
    assert.deepEqual(await indexesBuilt(admin, schema), [{ name: 'checkouts_unpaid_expiry', valid: true }, { name: 'rate_hits_at', valid: true }]);
  } finally {
    await busy.query('rollback').catch(() => {});
    await upgrading?.catch(() => {});
    await admin.query(`drop schema if exists "${schema}" cascade`);
    await Promise.all([admin.end(), busy.end(), oldNode.end()]);
  }
});
