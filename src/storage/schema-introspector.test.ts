/**
 * The migrator's view of PostgreSQL is the store's own schema: it lists our tables and no one
 * else's, and it keeps working while other schemas in the same database come and go (the CI
 * failure this replaced: a migration failed on "schema sy_test_… does not exist", a schema it
 * never used, dropped by another test at that moment).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { Migrator } from 'kysely/migration';
import { openStorage, shippedMigrations, type Storage } from './database.ts';
import { postgresAvailable, testPostgresUrl } from '../../test/support/harness.ts';

const pgUp = await postgresAvailable();
const schemaName = (prefix: string) => `${prefix}_${randomBytes(6).toString('hex')}`;

async function admin<T>(work: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: testPostgresUrl });
  await client.connect();
  try { return await work(client); } finally { await client.end(); }
}

describe('the PostgreSQL migrator looks only at its own schema', pgUp ? {} : { skip: 'PostgreSQL is not reachable' }, () => {
  const ours = schemaName('sy_intro');
  const neighbour = schemaName('sy_intro_other');
  let storage: Storage;

  before(async () => {
    await admin((c) => c.query(`CREATE SCHEMA "${neighbour}"; CREATE TABLE "${neighbour}".payments (id text); CREATE TABLE "${neighbour}".kysely_migration (name text)`));
    storage = await openStorage({ kind: 'postgres', url: testPostgresUrl, schema: ours });
  });
  after(async () => {
    await storage?.close();
    await admin((c) => c.query(`DROP SCHEMA IF EXISTS "${ours}" CASCADE; DROP SCHEMA IF EXISTS "${neighbour}" CASCADE`));
  });

  test('lists the tables of its schema, with their columns, and none of another schema', async () => {
    const tables = await storage.db.introspection.getTables();
    assert.ok(tables.length > 10);
    assert.deepEqual([...new Set(tables.map((t) => t.schema))], [ours]);
    assert.ok(!tables.some((t) => t.name.startsWith('kysely_migration')), 'the bookkeeping tables only when asked for');
    const payments = tables.find((t) => t.name === 'payments');
    assert.ok(payments?.columns.some((c) => c.name === 'id' && !c.isNullable));
    const all = await storage.db.introspection.getTables({ withInternalKyselyTables: true });
    assert.ok(all.some((t) => t.name === 'kysely_migration' && t.schema === ours));
  });

  test('finds every migration applied while other schemas are created and dropped', async () => {
    let churning = true;
    let churned = 0;
    const churn = admin(async (c) => {
      while (churning) {
        const s = schemaName('sy_intro_churn');
        await c.query(`CREATE SCHEMA "${s}"; CREATE TABLE "${s}".t (id serial primary key, v text); CREATE TABLE "${s}".u (id serial primary key)`);
        await c.query(`DROP SCHEMA "${s}" CASCADE`);
        churned += 1;
      }
    });
    try {
      const migrator = new Migrator({ db: storage.db, provider: { getMigrations: async () => shippedMigrations }, migrationTableSchema: ours });
      for (let i = 0; i < 40; i += 1) {
        const migrations = await migrator.getMigrations();
        assert.equal(migrations.filter((m) => m.executedAt === undefined).length, 0);
      }
    } finally {
      churning = false;
      await churn;
    }
    assert.ok(churned > 0, 'the other schemas really came and went meanwhile');
  });
});
