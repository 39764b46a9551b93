/**
 * Hot-path statements as PostgreSQL prepared statements: the prepared queries of the code, and only
 * they, are kept parsed and planned per connection; and a table that gains a column under them
 * (a newer gateway migrating the shared schema) does not leave them failing.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { sql } from 'kysely';
import { openStorage, type Storage } from './database.ts';
import { prepare } from './prepared.ts';
import { StatementNames, hotStatements, isStalePlan } from './statement-names.ts';
import { postgresAvailable, testPostgresUrl } from '../../test/support/harness.ts';

test('names: registered SQL only, up to the limit, anew after a renewal', () => {
  const names = new StatementNames(2);
  names.register('select 1');
  names.register('select 1');
  names.register('select 2');
  names.register('select 3');
  assert.equal(names.size, 2);
  const one = names.nameOf('select 1');
  assert.ok(one);
  assert.notEqual(names.nameOf('select 2'), one);
  assert.equal(names.nameOf('select 3'), undefined, 'beyond the limit a statement stays unnamed');
  assert.equal(names.nameOf('select 4'), undefined);
  names.renew();
  assert.ok(names.nameOf('select 1') && names.nameOf('select 1') !== one);
});

const pgUp = await postgresAvailable();
const id = () => randomBytes(16).toString('hex');

describe('named statements on PostgreSQL', pgUp ? {} : { skip: 'PostgreSQL is not reachable' }, () => {
  const schema = `sy_named_${randomBytes(6).toString('hex')}`;
  let storage: Storage;
  const merchantId = id();

  before(async () => {
    storage = await openStorage({ kind: 'postgres', url: testPostgresUrl, schema });
    await storage.db.insertInto('merchants').values({
      id: merchantId, name: 'Named', live: 0, client_id: id(), workspace_id: id(), created_at: 1_700_000_000_000, token_generation: 1,
    }).execute();
  });
  after(async () => {
    await storage?.close();
    const client = new pg.Client({ connectionString: testPostgresUrl });
    await client.connect();
    try { await client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`); } finally { await client.end(); }
  });

  const preparedOn = (c: { executeQuery: Storage['db']['executeQuery'] }) =>
    sql<{ name: string; statement: string }>`select name, statement from pg_prepared_statements`.execute(c as never);

  test('a prepared query is prepared once on its connection; other SQL is not kept', async () => {
    const byId = prepare(storage.db, (q, p: { id: string }) => q.selectFrom('merchants').select(['id', 'name']).where('id', '=', p.id));
    await storage.db.connection().execute(async (c) => {
      assert.equal((await byId.first(c, { id: merchantId }))?.name, 'Named');
      assert.equal((await byId.first(c, { id: id() })), undefined);
      await c.selectFrom('merchants').select('id').where('name', '=', 'Named').execute();
      const kept = (await preparedOn(c)).rows;
      const text = byId.sqlFor({ id: merchantId });
      assert.equal(kept.filter((r) => r.statement === text).length, 1, 'prepared once, run twice');
      assert.equal(kept.filter((r) => r.statement.includes('"name" = $1')).length, 0, 'an ad-hoc query is not kept');
      assert.equal(kept.find((r) => r.statement === text)?.name, hotStatements.nameOf(text));
    });
  });

  test('a column added under a prepared read: outside a transaction it runs at once, inside one it fails once', async () => {
    const table = `named_${randomBytes(4).toString('hex')}`;
    await sql`create table ${sql.table(table)} (id text primary key)`.execute(storage.db);
    await sql`insert into ${sql.table(table)} values ('a')`.execute(storage.db);
    const all = prepare<any, { id: string }, object>(storage.db, (q, p) => q.selectFrom(table).selectAll().where('id', '=', p.id));
    await storage.db.connection().execute(async (c) => {
      assert.deepEqual({ ...(await all.first(c, { id: 'a' })) }, { id: 'a' });
      await sql`alter table ${sql.table(table)} add column note text default 'new'`.execute(c);
      assert.deepEqual({ ...(await all.first(c, { id: 'a' })) }, { id: 'a', note: 'new' }, 'the autocommit read answers with the new column');
      assert.deepEqual({ ...(await all.first(c, { id: 'a' })) }, { id: 'a', note: 'new' }, 'prepared again, under a new name');

      await sql`alter table ${sql.table(table)} add column more text default 'more'`.execute(c);
      await sql`begin`.execute(c);
      const refused = await all.first(c, { id: 'a' }).then(() => undefined, (err: unknown) => err);
      await sql`rollback`.execute(c);
      assert.ok(isStalePlan(refused), `inside a transaction the stale statement is refused: ${String(refused)}`);
      await sql`begin`.execute(c);
      assert.deepEqual({ ...(await all.first(c, { id: 'a' })) }, { id: 'a', note: 'new', more: 'more' }, 'and the next transaction runs it anew');
      await sql`commit`.execute(c);
    });
  });
});
