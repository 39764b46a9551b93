import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, existsSync, fdatasync, mkdtempSync, readdirSync, readlinkSync, rmSync, statSync } from 'node:fs';
import { promisify } from 'node:util';
import { spawnSync } from 'node:child_process';
import { DatabaseSync } from 'node:sqlite';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'kysely';
import { keepJournalsInMemory, openSqlite } from './sqlite.ts';
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

// Removed after every test has closed its store: a folder gone under an open store makes its
// checkpoint thread fail to open the file.
const dirs: string[] = [];
after(() => { for (const d of dirs) rmSync(d, { recursive: true, force: true }); });
function scratch(): string {
  const dir = mkdtempSync(join(tmpdir(), 'switchyard-sqlite-'));
  dirs.push(dir);
  return join(dir, 'store.sqlite');
}

const realFdatasync = promisify(fdatasync);
const tick = () => new Promise((r) => setTimeout(r, 20));

test('SQLite writes frames without flushing them; the gateway flushes the WAL itself after each commit', async (t) => {
  const file = scratch();
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

test('a savepoint that changes many pages keeps its sub-journal in memory once the store is open: no temporary file is written', async (t) => {
  if (!existsSync('/proc/self/fd')) return t.skip('reads the open files from /proc');
  const file = scratch();
  const store = openSqlite(file);
  t.after(() => store.db.destroy());
  // About 400 pages of rows, then changed under a savepoint: SQLite keeps the first copy of each
  // page the savepoint changes (1.6 MB here), by default in a temporary file once past 64 KiB.
  await sql`create table t (a integer primary key, b text)`.execute(store.db);
  await sql`with recursive n(v) as (select 1 union all select v + 1 from n where v < 500)
    insert into t select v, printf('%.3000c', 'x') from n`.execute(store.db);
  const temporaryFiles = () => readdirSync('/proc/self/fd').map((fd) => { try { return readlinkSync(`/proc/self/fd/${fd}`); } catch { return ''; } })
    .filter((target) => /etilqs_/.test(target));
  const changeUnderSavepoint = async (letter: string) => {
    let during: string[] = [];
    await store.db.transaction().execute(async (tx) => {
      await sql`savepoint unit_0`.execute(tx);
      await sql`update t set b = printf('%.3000c', ${letter})`.execute(tx);
      during = temporaryFiles();
      await sql`release savepoint unit_0`.execute(tx);
    });
    return during;
  };
  // As migrations run (before the store is in use): the copy goes to a temporary file, which this
  // test can see, so its seeing none below means something.
  assert.equal((await changeUnderSavepoint('y')).length, 1, 'by default, a temporary file');
  keepJournalsInMemory(store.raw);
  assert.deepEqual(await changeUnderSavepoint('z'), []);
  assert.equal((await sql<{ n: number }>`select count(*) as n from t where b like 'z%'`.execute(store.db)).rows[0]!.n, 500);
});

test('a commit is answered, and seen by any reader of the process, only after its flush', async (t) => {
  const file = scratch();
  const wal = new GatedWalSync(`${file}-wal`);
  const store = openSqlite(file, { wal });
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

test('a failed flush fails its commit, stops the checkpoints at once, ends the process, and refuses every statement after it', async (t) => {
  const file = scratch();
  let failing = false;
  const wal = new WalSync(`${file}-wal`, {
    fdatasync: (fd) => (failing ? Promise.reject(Object.assign(new Error('EIO: i/o error, fdatasync'), { code: 'EIO' })) : realFdatasync(fd)),
  });
  const fatal: unknown[] = [];
  const store = openSqlite(file, { wal, fatal: (err) => fatal.push(err), log: () => {} });
  t.after(() => store.db.destroy());
  await sql`create table t (a integer, b blob)`.execute(store.db);
  failing = true;
  await assert.rejects(store.db.transaction().execute(async (tx) => {
    for (let i = 0; i < 1200; i++) await sql`insert into t values (${i}, randomblob(4000))`.execute(tx);
  }), /could not be flushed to disk; restart the gateway/);
  assert.equal(fatal.length, 1, 'the process is told to end');
  await assert.rejects(sql`select 1`.execute(store.db), /could not be flushed/, 'not even a read goes on');

  // A pass the thread began between that COMMIT and the failure flushes the WAL before it copies,
  // and the kernel reports a failed write-back to every descriptor open on the file, so on a real
  // disk it fails too (only the writer's flush fails here). What the store must do is stop the
  // thread: frames that come after are never copied. Another connection (of no store, its own
  // automatic checkpoints off) writes far more frames than a pass waits for.
  const other = new DatabaseSync(file);
  t.after(() => other.close());
  other.exec('PRAGMA wal_autocheckpoint = 0');
  other.exec('create table late (b blob)');
  other.exec('with recursive n(i) as (select 1 union all select i + 1 from n where i < 1200) insert into late select randomblob(4000) from n');
  await new Promise((r) => setTimeout(r, 500));
  assert.ok(!tablesInDatabaseFile(file).includes('late'), 'no checkpoint copied what was written after the failure into the database file');
});

/** The tables the database file alone holds (read from a copy of it, without its WAL). */
function tablesInDatabaseFile(file: string): string[] {
  const copy = `${file}-alone`;
  copyFileSync(file, copy);
  const db = new DatabaseSync(copy, { readOnly: true });
  try {
    return (db.prepare(`select name from sqlite_master where type = 'table' order by name`).all() as { name: string }[]).map((r) => r.name);
  } finally {
    db.close();
  }
}

test('concurrent flush requests share flushes, and a request never rides on a flush that started before it', async (t) => {
  const file = scratch();
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

async function fill(store: ReturnType<typeof openSqlite>, rows: number, bytes: number): Promise<void> {
  await store.db.transaction().execute(async (tx) => {
    for (let i = 0; i < rows; i++) await sql`insert into t values (${i}, randomblob(${bytes}))`.execute(tx);
  });
}

async function grows(file: string, from: number, withinMs: number): Promise<boolean> {
  const deadline = Date.now() + withinMs;
  while (Date.now() < deadline) {
    if (statSync(file).size > from) return true;
    await new Promise((r) => setTimeout(r, 50));
  }
  return statSync(file).size > from;
}

test('checkpoints run on their own thread, once a thousand frames wait: the database file takes the WAL\'s pages without the writer checkpointing', async (t) => {
  const file = scratch();
  const store = openSqlite(file);
  t.after(() => store.db.destroy());
  await sql`create table t (a integer, b blob)`.execute(store.db);
  const sizeBefore = statSync(file).size;
  // About 30 frames: a pass now would let the next commit restart the WAL, whose header SQLite
  // then flushes inside that COMMIT on the event loop. None runs.
  await fill(store, 30, 4000);
  assert.equal(await grows(file, sizeBefore, 400), false, 'a short WAL is left alone');
  // 1,100 more frames: far below the writer's own checkpoint threshold (10,000), past the thread's.
  await fill(store, 1100, 4000);
  assert.ok(await grows(file, sizeBefore + 4_000_000, 5000), `the database file grew from ${sizeBefore} to ${statSync(file).size} bytes`);
});

test('a store closes completely with nothing else keeping the process alive, used or not', () => {
  const dir = mkdtempSync(join(tmpdir(), 'switchyard-sqlite-close-'));
  try {
    const script = (use: boolean) => `
      import { openSqlite } from ${JSON.stringify(new URL('./sqlite.ts', import.meta.url).href)};
      import { sql } from 'kysely';
      const store = openSqlite(${JSON.stringify(join(dir, 's.sqlite'))} + ${use ? "'-used'" : "'-unused'"});
      ${use ? 'await sql`create table if not exists t (a integer)`.execute(store.db);' : ''}
      await store.db.destroy();
      console.log('closed', store.raw.isOpen);
      process.exitCode = 3;`;
    for (const use of [true, false]) {
      const r = spawnSync(process.execPath, ['--input-type=module', '-e', script(use)], { encoding: 'utf8', timeout: 20_000, cwd: process.cwd() });
      assert.equal(r.signal, null, `${use ? 'used' : 'unused'}: the process ended by itself (${r.stderr})`);
      assert.equal(r.status, 3, `${use ? 'used' : 'unused'}: the close ran to its end (${r.stderr})`);
      if (use) assert.match(r.stdout, /closed false/, 'the connection is closed');
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a unit of work\'s transaction is its own: a callback registered after the unit ended is refused, not attached to the next unit of the batch', async (t) => {
  const file = scratch();
  const store = openSqlite(file);
  t.after(() => store.db.destroy());
  await sql`create table t (a integer)`.execute(store.db);
  const uow = createUnitOfWork(store.db, 'sqlite', groupCommit.sqlite);
  let first: Parameters<Parameters<typeof uow.run>[0]>[0] | undefined;
  const ran: string[] = [];
  const a = uow.run(async (tx) => { first = tx; await sql`insert into t values (1)`.execute(tx); });
  const b = uow.run(async (tx) => {
    assert.notEqual(tx, first, 'each unit of a batch has a transaction object of its own');
    assert.throws(() => uow.afterCommit(first!, () => ran.push('late')), /afterCommit outside a unit of work/);
    uow.afterCommit(tx, () => ran.push('b'));
    await sql`insert into t values (2)`.execute(tx);
  });
  await Promise.all([a, b]);
  assert.deepEqual(ran, ['b']);
});

test('a unit that goes on after SQLite rolled its batch back by itself (a full disk) writes nothing outside it: each unit\'s writes are kept exactly when it is answered as done', async (t) => {
  const file = scratch();
  const store = openSqlite(file, { log: () => {} });
  t.after(() => store.db.destroy());
  await sql`create table t (id text primary key, b blob)`.execute(store.db);
  const pages = (store.raw.prepare('PRAGMA page_count').get() as { page_count: number }).page_count;
  // The database may not grow: a megabyte written in a unit fills it, and SQLite rolls the whole
  // transaction back (SQLITE_FULL).
  store.raw.exec(`PRAGMA max_page_count = ${pages + 8}`);
  const uow = createUnitOfWork(store.db, 'sqlite', groupCommit.sqlite);
  const insert = (tx: Parameters<Parameters<typeof uow.run>[0]>[0], id: string) => sql`insert into t (id) values (${id})`.execute(tx);
  let full: unknown;
  const units = {
    a: uow.run(async (tx) => { await insert(tx, 'a'); }),
    b: uow.run(async (tx) => {
      await sql`insert into t values ('b', randomblob(1000000))`.execute(tx).catch((err: unknown) => { full = err; });
      store.raw.exec('PRAGMA max_page_count = 1000000');
      // Goes on as if nothing happened: SQLite's own transaction is gone.
      await insert(tx, 'b2');
    }),
    c: uow.run(async (tx) => { await insert(tx, 'c'); }),
  };
  const settled = Object.fromEntries(await Promise.all(Object.entries(units).map(async ([k, p]) => [k, await p.then(() => 'done', () => 'refused')])));
  assert.match(String(full), /full/, 'the big write met a full database');
  const kept = (await sql<{ id: string }>`select id from t order by id`.execute(store.db)).rows.map((r) => r.id);
  assert.equal(settled.b, 'refused');
  assert.ok(!kept.includes('b2'), `the refused unit's write after the rollback is not kept (kept: ${kept.join(', ')})`);
  assert.equal(kept.includes('a'), settled.a === 'done', 'a is kept exactly when it was answered as done');
  assert.equal(kept.includes('c'), settled.c === 'done', 'c is kept exactly when it was answered as done');
});
