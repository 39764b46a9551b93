/** Migration 099 on a store holding idempotency keys (SQLite and PostgreSQL): old hashes become a marker any retry matches. */
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes, createHash } from 'node:crypto';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import type { Kysely } from 'kysely';
import { Migrator } from 'kysely/migration';
import pg from 'pg';
import { migrationNames, shippedMigrations } from '../src/storage/database.ts';
import { openSqlite } from '../src/storage/sqlite.ts';
import { openPostgres } from '../src/storage/postgres.ts';
import { createIdempotency } from '../src/idempotency/service.ts';
import { createIdempotencyStore } from '../src/idempotency/kysely-store.ts';
import { manualClock } from '../src/runtime/clock.ts';
import { postgresAvailable, tempDir, testPostgresUrl } from './support/harness.ts';

const before099 = migrationNames[migrationNames.indexOf('099_keyed_request_hashes') - 1]!;
const pgUp = await postgresAvailable();

for (const kind of ['sqlite', 'postgres'] as const) {
  describe(`099 on ${kind}`, { skip: kind === 'postgres' && !pgUp ? 'PostgreSQL unreachable' : undefined }, () => {
    const dir = tempDir('rev-099-');
    const schema = `sy_rev099_${randomBytes(5).toString('hex')}`;
    let store: any;
    after(async () => {
      await store?.db.destroy();
      rmSync(dir, { recursive: true, force: true });
      if (kind === 'postgres') { const c = new pg.Client({ connectionString: testPostgresUrl }); await c.connect(); try { await c.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`); } finally { await c.end(); } }
    });
    test('old rows become unverifiable; a retry is replayed, a fresh key proceeds', async () => {
      store = kind === 'sqlite' ? openSqlite(join(dir, 'switchyard.sqlite')) : await openPostgres(testPostgresUrl, { schema });
      const db: Kysely<any> = store.db;
      const m = () => new Migrator({ db, provider: { getMigrations: async () => shippedMigrations }, ...(kind === 'postgres' ? { migrationTableSchema: schema } : {}) });
      assert.equal((await m().migrateTo(before099)).error, undefined);
      const now = Date.now();
      const old = createHash('sha256').update('x').digest('hex');
      await db.insertInto('idempotency_keys').values([
        { merchant_id: 'm1', key: 'k-done', operation: 'POST /x {}', request_hash: old, state: 'done', response_status: 201, response_body: '{"id":"e1"}', created_at: now - 60_000 },
        { merchant_id: 'm1', key: 'k-flight', operation: 'POST /x {}', request_hash: old, state: 'in_flight', response_status: null, response_body: null, created_at: now - 600_000 },
      ]).execute();
      const up = await m().migrateToLatest();
      assert.equal(up.error, undefined, String(up.error));
      const rows = await db.selectFrom('idempotency_keys').select(['key', 'request_hash']).orderBy('key').execute();
      assert.deepEqual(rows.map((r) => ({ ...r })), [{ key: 'k-done', request_hash: 'unverifiable' }, { key: 'k-flight', request_hash: 'unverifiable' }]);
      const idem = createIdempotency({ store: createIdempotencyStore({ db } as any), clock: manualClock(now), key: randomBytes(32) });
      assert.deepEqual(await idem.admit('m1', 'k-done', 'POST /x {}', { a: 1 }), { kind: 'replay', status: 201, body: '{"id":"e1"}' });
      assert.equal((await idem.admit('m1', 'k-flight', 'POST /x {}', { a: 1 })).kind, 'proceed');
      assert.equal((await idem.admit('m1', 'k-new', 'POST /x {}', { a: 1 })).kind, 'proceed');
      assert.deepEqual(await idem.admit('m1', 'k-new', 'POST /x {}', { a: 2 }), { kind: 'conflict', reason: 'mismatch' });
    });
  });
}
