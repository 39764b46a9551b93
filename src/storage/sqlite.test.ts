import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'kysely';
import { openSqlite } from './sqlite.ts';
import { WalSync } from './wal-sync.ts';
import { createUnitOfWork } from './unit-of-work.ts';
import { groupCommit } from './database.ts';

/** A WalSync whose flushes wait until the test lets them go, so what happens meanwhile can be seen. */
class GatedWalSync extends WalSync {
  gates: (() => void)[] = [];
  override async sync(): Promise<void> {
    await new Promise<void>((resolve) => this.gates.push(resolve));
    return super.sync();
  }
  openGates(): void {
    for (const g of this.gates.splice(0)) g();
  }
}

function scratch(t: { after: (fn: () => void) => void }): string {
  const dir = mkdtempSync(join(tmpdir(), 'switchyard-sqlite-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return join(dir, 'store.sqlite');
}

const tick = () => new Promise((r) => setTimeout(r, 20));

test('SQLite writes frames without flushing them; the gateway flushes the WAL itself after each commit', async (t) => {
  const file = scratch(t);
  const store = openSqlite(file);
  t.after(() => store.db.destroy());
  assert.equal((store.raw.prepare('PRAGMA synchronous').get() as { synchronous: number }).synchronous, 1, 'NORMAL');
  await sql`create table t (a integer)`.execute(store.db);
  const before = store.flushes();
  await store.db.transaction().execute(async (tx) => {
    await tx.insertInto('t' as never).values({ a: 1 } as never).execute();
    await tx.insertInto('t' as never).values({ a: 2 } as never).execute();
    assert.equal(store.flushes(), before, 'nothing is flushed while the transaction is open');
  });
  assert.equal(store.flushes(), before + 1, 'one flush for the commit');
  await sql`insert into t values (3)`.execute(store.db);
  assert.equal(store.flushes(), before + 2, 'a write outside any transaction is flushed too');
  await sql`select * from t`.execute(store.db);
  assert.equal(store.flushes(), before + 2, 'a read needs no flush');
});

test('a commit is answered, and seen by any reader of the process, only after its flush', async (t) => {
  const file = scratch(t);
  const wal = new GatedWalSync(`${file}-wal`);
  const store = openSqlite(file, () => {}, wal);
  t.after(() => store.db.destroy());
  // Create the table without waiting on the gate.
  const created = sql`create table t (a integer)`.execute(store.db);
  while (wal.gates.length === 0) await tick();
  wal.openGates();
  await created;

  const uow = createUnitOfWork(store.db, 'sqlite', groupCommit.sqlite);
  let answered = false;
  const unit = uow.run(async (tx) => { await sql`insert into t values (7)`.execute(tx); }).then(() => { answered = true; });
  while (wal.gates.length === 0) await tick();
  // The COMMIT has run; its flush has not. The writer's caller waits, and so does any reader.
  let read: number | undefined;
  const reader = sql<{ n: number }>`select count(*) as n from t`.execute(store.db).then((r) => { read = r.rows[0]!.n; });
  await tick();
  assert.equal(answered, false, 'the unit is not answered before its commit is durable');
  assert.equal(read, undefined, 'no reader sees the commit before it is durable');
  wal.openGates();
  await Promise.all([unit, reader]);
  assert.equal(answered, true);
  assert.equal(read, 1);
});

test('a failed flush fails its commit and refuses every statement after it', async (t) => {
  const file = scratch(t);
  // A WAL path that cannot be opened stands for a disk that refuses to flush.
  const store = openSqlite(file, () => {}, new WalSync(join(file, 'no-such-dir', 'wal')));
  t.after(() => store.db.destroy());
  await assert.rejects(sql`create table t (a integer)`.execute(store.db), /could not be flushed to disk; restart the gateway/);
  await assert.rejects(sql`select 1`.execute(store.db), /could not be flushed/, 'not even a read goes on');
});

test('concurrent flush requests share flushes, and a request never rides on a flush that started before it', async (t) => {
  const file = scratch(t);
  const store = openSqlite(file);
  t.after(() => store.db.destroy());
  await sql`create table t (a integer)`.execute(store.db);
  const wal = new WalSync(`${file}-wal`);
  t.after(() => wal.close());
  await wal.sync();
  const first = wal.sync();
  // These three ask while the first is running: it may have started before their frames, so they
  // share one flush after it.
  const later = [wal.sync(), wal.sync(), wal.sync()];
  await Promise.all([first, ...later]);
  assert.equal(wal.flushes, 3);
});

test('checkpoints run on their own thread: the database file takes the WAL\'s pages without the writer checkpointing', async (t) => {
  const file = scratch(t);
  const store = openSqlite(file);
  t.after(() => store.db.destroy());
  await sql`create table t (a integer, b text)`.execute(store.db);
  const sizeBefore = statSync(file).size;
  await store.db.transaction().execute(async (tx) => {
    for (let i = 0; i < 500; i++) await sql`insert into t values (${i}, ${'x'.repeat(200)})`.execute(tx);
  });
  // 500 rows of 200 bytes are about 25 pages: far below the writer's own checkpoint threshold.
  const deadline = Date.now() + 5000;
  while (statSync(file).size <= sizeBefore && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  assert.ok(statSync(file).size > sizeBefore + 50_000, `the database file grew from ${sizeBefore} to ${statSync(file).size} bytes`);
});
