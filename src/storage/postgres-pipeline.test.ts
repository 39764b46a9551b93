/**
 * Held writes on a real PostgreSQL server: sent without waiting, yet never acknowledged before they
 * succeeded. Each test drives one pipelined connection with the wrappers the pool installs, and
 * watches the server from a second connection.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { Kysely, PostgresDialect } from 'kysely';
import { aheadAnswer, aheadMark, heldWritesCheck, holdBlindWrites, laterMark } from './postgres-pipeline.ts';
import { useNamedStatements } from './postgres.ts';
import { prepare } from './prepared.ts';
import { StatementNames } from './statement-names.ts';
import { createUnitOfWork } from './unit-of-work.ts';
import { postgresAvailable, testPostgresUrl } from '../../test/support/harness.ts';

const skip = (await postgresAvailable()) ? false : 'PostgreSQL is not reachable';

describe('held writes on PostgreSQL', { skip }, () => {
  const schema = `sy_held_${randomBytes(5).toString('hex')}`;
  const options = `-c search_path="${schema}"`;
  let watcher: pg.Client;
  let client: pg.Client;
  let names: StatementNames;
  let t = '';
  const q = (text: string, values: unknown[] = []) => client.query(text, values);
  const later = (text: string, values: unknown[] = []) => client.query(laterMark + text, values);
  /** A held insert of `id` into the test's table `t`. */
  const heldInsert = (id: string) => later(`insert into ${t} (id) values ($1)`, [id]);
  const ids = async () => (await watcher.query(`select id from ${t} order by id`)).rows.map((r) => r.id as string);
  /** A table of its own for each test, `t`, holding the ids given. */
  const freshTable = async (...rows: string[]) => {
    t = `held_${randomBytes(3).toString('hex')}`;
    await watcher.query(`create table ${t} (id text primary key)`);
    for (const id of rows) await watcher.query(`insert into ${t} values ($1)`, [id]);
  };
  const errorCode = (code: string) => (err: { code?: string }) => err.code === code;
  /** Returns once the backend `pid` waits for a lock, as the watcher sees it; fails after 20 s. */
  const waitingForLock = async (pid: number, never: string) => {
    const until = Date.now() + 20_000;
    for (let waiting = false; !waiting;) {
      assert.ok(Date.now() < until, never);
      const r = await watcher.query(`select wait_event_type from pg_stat_activity where pid = $1`, [pid]);
      waiting = r.rows[0]?.wait_event_type === 'Lock';
    }
  };

  before(async () => {
    watcher = new pg.Client({ connectionString: testPostgresUrl });
    await watcher.connect();
    await watcher.query(`CREATE SCHEMA "${schema}"`);
    await watcher.query(`SET search_path = "${schema}"`);
    client = new pg.Client({ connectionString: testPostgresUrl, options, pipeline: true } as pg.ClientConfig);
    await client.connect();
    names = new StatementNames({ renewEveryMs: 0 });
    useNamedStatements(client, names);
    holdBlindWrites(client);
  });
  after(async () => {
    await client?.end();
    await watcher?.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    await watcher?.end();
  });

  test('a held write is answered at once, and the read after it waits for it', async (ctx) => {
    t = `held_${randomBytes(3).toString('hex')}`;
    await watcher.query(`create table ${t} (id text primary key, n integer not null)`);
    await watcher.query(`insert into ${t} values ('x', 0)`);
    const pid = (await q('select pg_backend_pid() as pid')).rows[0].pid as number;
    // The watcher holds the row: PostgreSQL cannot run the held update until it lets go.
    await watcher.query('begin');
    await watcher.query(`select * from ${t} where id = 'x' for update`);
    ctx.after(() => watcher.query('rollback').catch(() => {}));
    await q('begin');
    await later(`update ${t} set n = n + 1 where id = $1`, ['x']);
    let read: number | undefined;
    const reading = q(`select n from ${t} where id = $1`, ['x']).then((r) => { read = r.rows[0].n as number; });
    // The update is on the server, waiting for the row: it was sent, and nobody waited for it.
    await waitingForLock(pid, 'the held update never reached the server');
    assert.equal(read, undefined, 'the read is not answered while the held write before it waits');
    await watcher.query('commit');
    await reading;
    assert.equal(read, 1, 'the read runs after the held write, and sees it');
    await q('commit');
    assert.equal((await watcher.query(`select n from ${t}`)).rows[0].n, 1);
  });

  test('a read sent ahead is answered later; the read after it runs once the first has its lock and sees what the lock\'s holder committed', async (ctx) => {
    t = `held_${randomBytes(3).toString('hex')}`;
    await watcher.query(`create table ${t} (id text primary key, n integer not null)`);
    await watcher.query(`create table ${t}_log (n integer not null)`);
    await watcher.query(`insert into ${t} values ('x', 0)`);
    const pid = (await q('select pg_backend_pid() as pid')).rows[0].pid as number;
    await watcher.query('begin');
    await watcher.query(`update ${t} set n = 1 where id = 'x'`);
    await watcher.query(`insert into ${t}_log values (1)`);
    ctx.after(() => watcher.query('rollback').catch(() => {}));
    await q('begin');
    const sent = await q(aheadMark + `select n from ${t} where id = $1 for update`, ['x']);
    const pending = sent.rows[0][aheadAnswer] as Promise<pg.QueryResult>;
    assert.ok(pending instanceof Promise, 'answered at once, with the promise of its rows');
    let logged: number[] | undefined;
    const after = q(`select n from ${t}_log`).then((r) => { logged = r.rows.map((row) => row.n as number); });
    await waitingForLock(pid, 'the locking read never reached the server');
    assert.equal(logged, undefined, 'the read after it waits behind the lock');
    await watcher.query('commit');
    assert.deepEqual((await pending).rows, [{ n: 1 }], 'the locked row as its holder left it');
    await after;
    assert.deepEqual(logged, [1], 'the second read took its snapshot after the lock: it sees the holder\'s other writes');
    await q('commit');
  });

  test('a read sent ahead that fails gives its own error to whoever takes its answer; outside a transaction it is an ordinary read', async () => {
    await freshTable('a');
    await q('begin');
    const sent = await q(aheadMark + `select 1 / (count(*) - 1) from ${t}`);
    const next = q('select 1');
    await assert.rejects(sent.rows[0][aheadAnswer] as Promise<unknown>, errorCode('22012'), 'division by zero, its own error');
    await assert.rejects(next, errorCode('25P02'), 'the statement after it finds the transaction aborted');
    await q('rollback');
    assert.deepEqual((await q(aheadMark + `select id from ${t}`)).rows, [{ id: 'a' }]);
  });

  test('a read sent ahead that fails and is never taken fails the held-writes check with its own error, and COMMIT; a rollback to a savepoint clears it', async () => {
    await freshTable('a');
    await q('begin');
    await q('savepoint unit_0');
    await q(aheadMark + `select 1 / (count(*) - 1) from ${t}`);
    await assert.rejects(q(heldWritesCheck), errorCode('22012'), 'the unit that sent it learns of it, with its own error');
    await q('rollback to savepoint unit_0');
    await heldInsert('b');
    await q('savepoint unit_1');
    await q(aheadMark + `select 1 / (count(*) - 2) from ${t}`);
    await assert.rejects(q('commit'), errorCode('22012'), 'nor does a COMMIT pass over it');
    await q('rollback');
    assert.deepEqual(await ids(), ['a'], 'nothing of the failed transaction was kept');
  });

  test('a held write that fails fails the next read with its own error; later statements are refused until ROLLBACK; the connection then serves', async () => {
    await freshTable('taken');
    await q('begin');
    await heldInsert('a');
    await heldInsert('taken');
    await heldInsert('b');
    await assert.rejects(q(`select count(*) from ${t}`), errorCode('23505'), 'the duplicate key, not "transaction aborted"');
    await assert.rejects(q(`select 1`), errorCode('23505'), 'refused with the same failure');
    await assert.rejects(heldInsert('c'), errorCode('23505'));
    await q('rollback');
    assert.deepEqual(await ids(), ['taken']);
    await q('begin');
    await heldInsert('d');
    await q('commit');
    assert.deepEqual(await ids(), ['d', 'taken']);
  });

  test('COMMIT after a held write that failed is refused with that failure and keeps nothing; the connection then serves', async () => {
    await freshTable('taken');
    await q('begin');
    await heldInsert('a');
    await heldInsert('taken');
    await assert.rejects(q('commit'), errorCode('23505'));
    // What a caller does after a failed COMMIT: PostgreSQL finds no transaction and only warns.
    await q('rollback');
    assert.deepEqual(await ids(), ['taken'], 'the good write before the failure was not committed either');
    assert.equal((await q('select 1 as one')).rows[0].one, 1);
  });

  test('ROLLBACK drops the held writes and their failure', async () => {
    await freshTable('taken');
    await q('begin');
    await heldInsert('a');
    await heldInsert('taken');
    await q('rollback');
    await q('begin');
    await heldInsert('b');
    await q('commit');
    assert.deepEqual(await ids(), ['b', 'taken']);
  });

  test('outside a transaction a marked write runs as any other: its failure is its own answer', async () => {
    await freshTable('taken');
    await assert.rejects(heldInsert('taken'), errorCode('23505'));
    await heldInsert('a');
    assert.deepEqual(await ids(), ['a', 'taken'], 'answered, so already there');
  });

  test('the held-writes check answers for the writes before it, and a savepoint undoes one that failed', async () => {
    await freshTable('taken');
    await q('begin');
    await heldInsert('a');
    await q('savepoint unit_1');
    await heldInsert('taken');
    await assert.rejects(q(heldWritesCheck), errorCode('23505'));
    await q('rollback to savepoint unit_1');
    await heldInsert('b');
    await q(heldWritesCheck);
    await q('commit');
    assert.deepEqual(await ids(), ['a', 'b', 'taken']);
  });

  test('names renewed mid-transaction: the DEALLOCATE and the statement after it keep their place among held writes', async () => {
    await freshTable();
    const insert = `insert into ${t} (id) values ($1)`;
    const count = `select count(*)::int as n from ${t}`;
    names.register(insert, 1);
    names.register(count, 0);
    await q('begin');
    await later(insert, ['a']);
    names.renew();
    await later(insert, ['b']);
    names.renew();
    await later(insert, ['c']);
    assert.equal((await q(count)).rows[0].n, 3);
    await q('commit');
    assert.deepEqual(await ids(), ['a', 'b', 'c']);
    const kept = (await q('select name from pg_prepared_statements')).rows.map((r) => r.name as string);
    assert.ok(kept.every((n) => n === names.nameOf(insert) || n === names.nameOf(count)), `only the newest names are kept: ${kept.join(', ')}`);
  });

  test('a held named write made stale by a change of its table fails its transaction, and is never run again outside it', async () => {
    t = `held_${randomBytes(3).toString('hex')}`;
    await watcher.query(`create table ${t} (id integer primary key, v text)`);
    const write = `insert into ${t} (id, v) values ($1, $2)`;
    names.register(write, 2);
    for (const [end, id] of [['commit', 3], ['rollback', 5]] as const) {
      await q('begin');
      await later(write, [id - 2, '"a"']);
      await q('commit');
      // A newer gateway changes the column under the statement this connection prepared.
      await watcher.query(`alter table ${t} alter column v type jsonb using v::jsonb`);
      await q('begin');
      await later(`insert into ${t} (id, v) values (${id - 1}, 'null')`);
      await later(write, [id, '"b"']);
      if (end === 'commit') await assert.rejects(q(end), (err: { code?: string }) => err.code === '0A000' || err.code === '42804' || err.code === '26000');
      else await q(end);
      assert.deepEqual((await watcher.query(`select id from ${t} where id >= ${id - 1} order by id`)).rows, [], `after ${end}: nothing of the transaction, the stale write included`);
      await watcher.query(`alter table ${t} alter column v type text`);
    }
    await q('begin');
    await later(write, [10, 'c']);
    await q('commit');
    assert.deepEqual((await watcher.query(`select id from ${t} order by id`)).rows.map((r) => r.id), [1, 3, 10], 'prepared anew once refused');
  });

  test('through the unit of work: a unit whose held write fails is refused with that failure, and the next unit commits', async () => {
    await freshTable('taken');
    const pool = new pg.Pool({ connectionString: testPostgresUrl, options, max: 2, pipeline: true } as pg.PoolConfig);
    pool.on('connect', (c) => holdBlindWrites(c));
    const db = new Kysely<Record<string, { id: string }>>({ dialect: new PostgresDialect({ pool }) });
    try {
      const insert = prepare(db, (k, p: { id: string }) => k.insertInto(t).values({ id: p.id }));
      const uow = createUnitOfWork(db as unknown as Parameters<typeof createUnitOfWork>[0], 'postgres', { lanes: 1, maxBatch: 1, gather: false });
      let ranOn = false;
      await assert.rejects(uow.run(async (tx) => {
        await insert.later(tx, { id: 'a' });
        await insert.later(tx, { id: 'taken' });
        ranOn = true;
        return 'done';
      }), errorCode('23505'));
      assert.ok(ranOn, 'the unit itself went on: the failure came with its commit');
      assert.deepEqual(await ids(), ['taken']);
      await uow.run((tx) => insert.later(tx, { id: 'b' }));
      assert.deepEqual(await ids(), ['b', 'taken'], 'answered only once committed');
    } finally {
      await db.destroy();
    }
  });
});
