import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'kysely';
import { openSqlite } from './sqlite.ts';
import { createUnitOfWork } from './unit-of-work.ts';
import { groupCommit } from './database.ts';

/** A store of one table, and its unit of work as the gateway runs it on SQLite (one lane). */
async function withStore(fn: (s: ReturnType<typeof openSqlite>, uow: ReturnType<typeof createUnitOfWork>) => Promise<void>) {
  const dir = mkdtempSync(join(tmpdir(), 'switchyard-unit-scope-'));
  const s = openSqlite(join(dir, 'db.sqlite'), { log: () => {} });
  try {
    await sql`create table t (a integer)`.execute(s.db);
    await fn(s, createUnitOfWork(s.db, 'sqlite', groupCommit.sqlite));
  } finally {
    await s.db.destroy();
    rmSync(dir, { recursive: true, force: true });
  }
}
const count = async (s: ReturnType<typeof openSqlite>) => (await sql<{ n: number }>`select count(*) as n from t`.execute(s.db)).rows[0]!.n;

test('a uow.run nested inside a unit is refused at once (it would wait for ever behind the unit holding the one writer); the unit rolls back and the writer is free', async () => {
  await withStore(async (s, uow) => {
    const outer = uow.run(async (tx) => {
      await sql`insert into t values (1)`.execute(tx);
      await uow.run(async (inner) => { await sql`insert into t values (2)`.execute(inner); });
    });
    await assert.rejects(outer, /uow\.run inside a unit of work/);
    await uow.run(async (tx) => { await sql`insert into t values (3)`.execute(tx); });
    assert.equal(await count(s), 1, 'the refused unit wrote nothing; the next one did');
  });
});

test('a read through db inside a unit is refused at once on SQLite (it would wait for ever for the connection the unit holds); readers and writers go on', async () => {
  await withStore(async (s, uow) => {
    const unit = uow.run(async (tx) => {
      await sql`insert into t values (1)`.execute(tx);
      return (await sql`select * from t`.execute(s.db)).rows.length;
    });
    await assert.rejects(unit, /a read through db inside a unit of work/);
    assert.equal(await count(s), 0);
    await uow.run(async (tx) => { await sql`insert into t values (2)`.execute(tx); });
    assert.equal(await count(s), 1);
  });
});
