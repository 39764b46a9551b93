/**
 * Two nodes of this release starting at once on a store the previous release left (before the
 * rate-count and checkout indexes). The first takes the session lock and builds CONCURRENTLY; the
 * second, waiting in `select pg_advisory_lock(...)`, held a snapshot, which a concurrent build waits
 * for (database-wide): the builder waited for the waiter and the waiter for the builder, PostgreSQL
 * reported a deadlock and one node failed to start. The lock is now tried, not waited for.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { openStorage } from '../src/storage/database.ts';
import { postgresAvailable, testPostgresUrl } from './support/harness.ts';
import { indexesBuilt, storeBeforeIndexes } from './support/store-before-indexes.ts';

const skip = (await postgresAvailable()) ? false : 'PostgreSQL is not reachable';

test('two nodes starting at once both start when the indexes are built after migrating (no deadlock between the advisory lock and CONCURRENTLY)', { skip }, async () => {
  const schema = `sy_twostart_${randomBytes(5).toString('hex')}`;
  const admin = new pg.Client({ connectionString: testPostgresUrl });
  const busy = new pg.Client({ connectionString: testPostgresUrl });
  await Promise.all([admin.connect(), busy.connect()]);
  let a: Promise<unknown> | undefined;
  let b: Promise<unknown> | undefined;
  try {
    await storeBeforeIndexes(admin, schema);
    // An older node is counting a rate-limit hit when the new nodes start.
    await busy.query('begin');
    await busy.query(`insert into "${schema}".rate_hits (key, at) values ('opp-status:P1', 1)`);
    a = openStorage({ kind: 'postgres', url: testPostgresUrl, schema }).then((s) => s.close());
    a.catch(() => {});
    for (let i = 0; i < 50; i++) {
      const { rows } = await admin.query(`select count(*)::int as n from pg_stat_activity where wait_event_type = 'Lock' and query ilike '%rate_hits_at%'`);
      if (rows[0].n > 0) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    // The second node starts meanwhile, and waits for the first one's lock (a few of its tries).
    b = openStorage({ kind: 'postgres', url: testPostgresUrl, schema }).then((s) => s.close());
    b.catch(() => {});
    await new Promise((r) => setTimeout(r, 1000));
    await busy.query('rollback');
    const results = await Promise.allSettled([a, b]);
    const failures = results.filter((r) => r.status === 'rejected').map((r) => String((r as PromiseRejectedResult).reason));
    assert.deepEqual(failures, [], 'a node failed to start');
    assert.deepEqual(await indexesBuilt(admin, schema), [{ name: 'checkouts_unpaid_expiry', valid: true }, { name: 'rate_hits_at', valid: true }]);
  } finally {
    await busy.query('rollback').catch(() => {});
    await Promise.allSettled([a, b]);
    await admin.query(`drop schema if exists "${schema}" cascade`);
    await Promise.all([admin.end(), busy.end()]);
  }
});
