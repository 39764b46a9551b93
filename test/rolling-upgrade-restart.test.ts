/**
 * A rolling upgrade over one PostgreSQL schema: the first node of the next release applies its
 * migrations while nodes of this release still serve. A node of this release that restarts
 * meanwhile (a crash, a host reboot, the scheduler moving it) comes back and serves the schema as it
 * knows it; it refused to start ("corrupted migrations: previously executed migration ... is
 * missing"). A store holding a migration this release does not know among its own is still refused.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { newerMigrations, openStorage } from '../src/storage/database.ts';
import { postgresAvailable, testPostgresUrl } from './support/harness.ts';

const skip = (await postgresAvailable()) ? false : 'PostgreSQL is not reachable';

async function withSchema(fn: (schema: string, admin: pg.Client) => Promise<void>) {
  const schema = `sy_upg_${randomBytes(5).toString('hex')}`;
  const admin = new pg.Client({ connectionString: testPostgresUrl });
  await admin.connect();
  try {
    const first = await openStorage({ kind: 'postgres', url: testPostgresUrl, schema });
    await first.close();
    await fn(schema, admin);
  } finally {
    await admin.query(`drop schema if exists "${schema}" cascade`);
    await admin.end();
  }
}

test('a node restarting during a rolling upgrade starts on a schema the next release has already migrated further', { skip }, async () => {
  await withSchema(async (schema, admin) => {
    // The next release's first node adds a column nobody of this release reads, and records its migration.
    await admin.query(`alter table "${schema}".payments add column next_release_note text`);
    await admin.query(`insert into "${schema}".kysely_migration (name, timestamp) values ('999_next_release', now()::text)`);
    const again = await openStorage({ kind: 'postgres', url: testPostgresUrl, schema });
    try {
      assert.deepEqual(await newerMigrations(again), ['999_next_release'], 'said at start');
      assert.equal((await again.db.selectFrom('merchants').select((eb) => eb.fn.countAll().as('n')).executeTakeFirstOrThrow()).n !== undefined, true);
    } finally {
      await again.close();
    }
  });
});

test('a store holding an unknown migration among this release\'s own is refused', { skip }, async () => {
  await withSchema(async (schema, admin) => {
    await admin.query(`insert into "${schema}".kysely_migration (name, timestamp) values ('050_a_branch_of_its_own', now()::text)`);
    await assert.rejects(openStorage({ kind: 'postgres', url: testPostgresUrl, schema }), /050_a_branch_of_its_own/);
  });
});
