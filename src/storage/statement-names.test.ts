/**
 * Hot-path statements as PostgreSQL prepared statements: the prepared queries of the code, and only
 * they, are kept parsed and planned per connection, within bounds; and a table changed under them
 * (a newer gateway migrating the shared schema) does not leave them failing.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { sql } from 'kysely';
import { openStorage, type Storage } from './database.ts';
import { openPostgres, useNamedStatements } from './postgres.ts';
import { prepare } from './prepared.ts';
import { StatementNames, hotStatements, staleness } from './statement-names.ts';
import { loadConfig } from '../config.ts';
import { postgresAvailable, testPostgresUrl } from '../../test/support/harness.ts';

test('names: registered SQL only, within the limits, renewed at most once per interval', () => {
  let now = 0;
  const names = new StatementNames({ limit: 2, maxParameters: 3, renewEveryMs: 1000, unprovenRenewEveryMs: 60_000, now: () => now });
  names.register('select 1', 1);
  names.register('select 1', 1);
  names.register('select $1, $2, $3, $4', 4);
  names.register('select 2', 0);
  names.register('select 3', 0);
  assert.equal(names.size, 2);
  const one = names.nameOf('select 1');
  assert.ok(one);
  assert.ok(names.nameOf('select 2') && names.nameOf('select 2') !== one);
  assert.equal(names.nameOf('select 3'), undefined, 'beyond the limit a statement stays unnamed');
  assert.equal(names.nameOf('select $1, $2, $3, $4'), undefined, 'so does one with many parameters');
  assert.equal(names.nameOf('select 4'), undefined);
  names.renew();
  const renewed = names.nameOf('select 1');
  assert.ok(renewed && renewed !== one);
  assert.equal(names.nameOf('select 1', 0), one, 'the name under a given generation');
  now = 999;
  names.renew();
  assert.equal(names.nameOf('select 1'), renewed, 'refusals met at once renew once');
  now = 1000;
  names.renew();
  assert.equal(names.generation, 2);
  now = 30_000;
  names.renew('unproven');
  assert.equal(names.generation, 2, 'an error a bad value could have caused renews far less often');
  now = 61_000;
  names.renew('unproven');
  assert.equal(names.generation, 3);
});

test('what a stale preparation can cause, and nothing else, counts as stale', () => {
  assert.equal(staleness({ code: '0A000', message: 'cached plan must not change result type' }), 'stale');
  assert.equal(staleness({ code: '0A000', message: 'something else not supported' }), undefined);
  for (const code of ['26000', '42804']) assert.equal(staleness({ code }), 'stale', code);
  for (const code of ['22003', '22P02']) assert.equal(staleness({ code }), 'maybe', code);
  for (const code of ['23505', '40001', '25P02', '57014', undefined]) assert.equal(staleness({ code }), undefined, String(code));
  assert.equal(staleness(null), undefined);
});

test('SWITCHYARD_PG_PREPARED_STATEMENTS: on by default, off on request, anything else refused by name', () => {
  const url = 'postgres://u@h/db';
  const statementDeadlineMs = 30_000;
  const unitDeadlineMs = 60_000;
  assert.deepEqual(loadConfig({ DATABASE_URL: url }).storage, { kind: 'postgres', url, statementDeadlineMs, unitDeadlineMs });
  assert.deepEqual(loadConfig({ DATABASE_URL: url, SWITCHYARD_PG_PREPARED_STATEMENTS: 'off' }).storage, { kind: 'postgres', url, statementDeadlineMs, unitDeadlineMs, preparedStatements: false });
  assert.deepEqual(loadConfig({ DATABASE_URL: url, SWITCHYARD_PG_PREPARED_STATEMENTS: 'ON' }).storage, { kind: 'postgres', url, statementDeadlineMs, unitDeadlineMs });
  assert.throws(() => loadConfig({ DATABASE_URL: url, SWITCHYARD_PG_PREPARED_STATEMENTS: 'no' }), /SWITCHYARD_PG_PREPARED_STATEMENTS="no" is not valid: expected `on` or `off`/);
});

const pgUp = await postgresAvailable();
const id = () => randomBytes(16).toString('hex');

async function admin<T>(work: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: testPostgresUrl });
  await client.connect();
  try { return await work(client); } finally { await client.end(); }
}

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
    await admin((c) => c.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`));
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

  test('the pool still answers pg\'s own calls (pool.query, callbacks)', { timeout: 5000 }, async () => {
    const { pool } = await openPostgres(testPostgresUrl, { schema });
    try {
      assert.equal((await pool.query('select 1 as x')).rows[0].x, 1);
      const viaCallback = await new Promise((resolve, reject) => pool.query('select $1::text as y', ['z'], (err, r) => (err ? reject(err) : resolve(r.rows[0].y))));
      assert.equal(viaCallback, 'z');
    } finally {
      // Not db.destroy(): Kysely ends only a pool it has used, and this one's idle connections would hold the process 10 s.
      await pool.end();
    }
  });

  test('turned off, nothing is kept prepared', async () => {
    const { db } = await openPostgres(testPostgresUrl, { schema, preparedStatements: false });
    try {
      const byId = prepare(db, (q, p: { id: string }) => q.selectFrom('merchants').select('name').where('id', '=', p.id));
      await db.connection().execute(async (c) => {
        assert.equal((await byId.first(c, { id: merchantId }))?.name, 'Named');
        assert.deepEqual((await preparedOn(c)).rows, []);
      });
    } finally {
      await db.destroy();
    }
  });

  describe('a table changed under its prepared statements', () => {
    let client: pg.Client;
    let names: StatementNames;
    const table = `named_${randomBytes(4).toString('hex')}`;
    const q = (text: string, values: unknown[] = []) => client.query(text, values);
    const kept = async () => (await q('select name from pg_prepared_statements order by name')).rows.map((r) => r.name as string);

    before(async () => {
      client = new pg.Client({ connectionString: testPostgresUrl, options: `-c search_path="${schema}"` });
      await client.connect();
      names = new StatementNames({ renewEveryMs: 0 });
      useNamedStatements(client, names);
      await q(`create table ${table} (id text primary key, amount integer)`);
      await q(`insert into ${table} values ('a', 1)`);
    });
    after(() => client?.end());

    test('a column added: outside a transaction the read runs at once; inside one it fails once, then runs prepared anew', async () => {
      const read = `select * from ${table} where id = $1`;
      names.register(read, 1);
      assert.deepEqual(Object.keys((await q(read, ['a'])).rows[0]), ['id', 'amount']);
      await q(`alter table ${table} add column note text default 'new'`);
      assert.deepEqual((await q(read, ['a'])).rows[0], { id: 'a', amount: 1, note: 'new' });
      assert.deepEqual((await q(read, ['a'])).rows[0], { id: 'a', amount: 1, note: 'new' }, 'prepared again, under a new name');

      await q(`alter table ${table} add column more text default 'more'`);
      await q('begin');
      const refused = await q(read, ['a']).then(() => undefined, (err: unknown) => err);
      await q('rollback');
      assert.equal(staleness(refused), 'stale', `inside a transaction the stale statement is refused: ${String(refused)}`);
      await q('begin');
      assert.deepEqual((await q(read, ['a'])).rows[0], { id: 'a', amount: 1, note: 'new', more: 'more' });
      await q('commit');
      assert.deepEqual((await kept()).filter((n) => names.nameOf(read) !== n), [], 'the older names were deallocated');
    });

    test('a column widened: a value the old parameter type cannot hold is written once, and later runs are prepared for the new type', async () => {
      const write = `insert into ${table} (id, amount) values ($1, $2)`;
      names.register(write, 2);
      await q(write, ['b', 2]);
      await q(`alter table ${table} alter column amount type bigint`);
      await q(write, ['c', 3_000_000_000]);
      await q(write, ['d', 3_000_000_001]);
      const rows = (await q(`select id, amount::text as amount from ${table} where id in ('b', 'c', 'd') order by id`)).rows;
      assert.deepEqual(rows, [{ id: 'b', amount: '2' }, { id: 'c', amount: '3000000000' }, { id: 'd', amount: '3000000001' }], 'each row once');
    });

    test('a genuine error is the answer, and nothing is written twice', async () => {
      const write = `insert into ${table} (id, amount) values ($1, $2)`;
      names.register(write, 2);
      const generation = names.generation;
      await assert.rejects(q(write, ['e', '9'.repeat(30)]), (err: { code?: string }) => err.code === '22003');
      assert.equal(names.generation, generation, 'a bad value does not renew the names (not within a minute of the last renewal)');
      await assert.rejects(q(write, ['b', 5]), (err: { code?: string }) => err.code === '23505');
      assert.equal((await q(`select count(*)::int as n from ${table} where id in ('b', 'e')`)).rows[0].n, 1);
    });

    test('renewals do not pile names up in the client: it forgets what DEALLOCATE ALL dropped', async () => {
      // pg keeps, per connection, the name of every statement it has prepared, so as not to parse it
      // again. A connection lives for weeks and names are renewed up to once a second (a pooler
      // dropping statements); what the client remembered of older generations was never freed.
      const many = new StatementNames({ renewEveryMs: 0, unprovenRenewEveryMs: 0 });
      const own = new pg.Client({ connectionString: testPostgresUrl });
      await own.connect();
      try {
        useNamedStatements(own, many);
        const hot = ['select $1::int as a', 'select $1::text as b'];
        for (const s of hot) many.register(s, 1);
        const remembered = () => {
          const c = (own as unknown as { connection: { parsedStatements: object; submittedNamedStatements: object } }).connection;
          return Object.keys(c.parsedStatements).length + Object.keys(c.submittedNamedStatements).length;
        };
        for (let i = 0; i < 50; i++) {
          // A value the statement's parameter type cannot hold renews the names (outside a transaction).
          await assert.rejects(own.query(hot[0]!, ['x']), (err: { code?: string }) => err.code === '22P02');
          assert.equal((await own.query(hot[0]!, [i])).rows[0].a, i);
          assert.equal((await own.query(hot[1]!, ['b'])).rows[0].b, 'b');
        }
        assert.ok(many.generation >= 50);
        const onServer = (await own.query('select count(*)::int as n from pg_prepared_statements')).rows[0].n;
        assert.equal(onServer, hot.length, 'the server holds the current generation only');
        assert.ok(remembered() <= hot.length, `the client remembers ${remembered()} statement names for ${hot.length} prepared`);
      } finally {
        await own.end();
      }
    });
  });
});
