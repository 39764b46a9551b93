/**
 * PostgreSQL: the idempotency purge deletes a batch of keys named through a subquery. A key taken
 * over while the purge's statement runs (a retry of a request whose node died moves its
 * `created_at` to now) must not go with the batch: the DELETE re-checks a row updated under it only
 * against its own conditions, so the age is one of them. Deleted, the retry's claim was gone: its
 * answer never stored, and a further retry with the same key admitted as a new request (charged again).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { sql } from 'kysely';
import { createIdempotencyStore } from '../src/idempotency/kysely-store.ts';
import { postgresAvailable } from './support/harness.ts';
import { twoNodesOnOneSchema } from './support/stores.ts';

const pgUp = await postgresAvailable();

test('PostgreSQL: a key taken over while the purge runs is not purged', { skip: pgUp ? false : 'PostgreSQL unreachable' }, async () => {
  const nodes = await twoNodesOnOneSchema('sy_idem_purge_race');
  try {
    const keys = createIdempotencyStore(nodes.a.uow);
    const old = { merchantId: 'm1', key: 'k-abandoned', operation: 'pay', requestHash: 'h', state: 'in_flight' as const, responseStatus: undefined, responseBody: undefined, createdAt: 1_000 };
    const expired = { ...old, key: 'k-expired', createdAt: 1_500 };
    assert.deepEqual(await keys.claim(old), { claimed: true });
    assert.deepEqual(await keys.claim(expired), { claimed: true });
    const now = 10_000_000;
    let purging: Promise<number> | undefined;
    // Node b: a retry of the abandoned request takes its key over (takeOver's own UPDATE); the purge
    // on node a starts while that is uncommitted, and waits for the row.
    await nodes.b.db.transaction().execute(async (tx) => {
      await tx.updateTable('idempotency_keys').set({ created_at: now })
        .where('merchant_id', '=', old.merchantId).where('key', '=', old.key).where('state', '=', 'in_flight').where('created_at', '=', old.createdAt).execute();
      purging = keys.purge(2_000, 500);
      // Until the purge waits on the row lock.
      let waited = false;
      for (let i = 0; i < 500 && !waited; i++) {
        const waiting = await sql<{ n: string }>`select count(*) as n from pg_stat_activity
          where wait_event_type = 'Lock' and query ilike 'delete from "idempotency_keys"%'`.execute(nodes.b.db);
        waited = Number(waiting.rows[0]!.n) > 0;
        if (!waited) await new Promise((r) => setTimeout(r, 10));
      }
      assert.ok(waited, 'the purge waited for the row the takeover holds');
    });
    assert.equal(await purging, 1, 'only the key still expired is purged');
    const left = await nodes.a.db.selectFrom('idempotency_keys').select(['key', 'created_at']).orderBy('key').execute();
    assert.deepEqual(left.map((r) => [r.key, Number(r.created_at)]), [['k-abandoned', now]],
      'the key a retry just took over was deleted by the purge: its claim is lost, and the next retry with that key is admitted as a new request');
  } finally {
    await nodes.close();
  }
});
