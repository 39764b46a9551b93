import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'kysely';
import { Checkpointer, endsCheckpoints } from './checkpointer.ts';
import { openSqlite } from './sqlite.ts';

/** Stands in for the checkpoint thread after a pass whose flush failed. */
const failingCheckpointWorker = new URL(`data:text/javascript,${encodeURIComponent(`
  import { parentPort } from 'node:worker_threads';
  parentPort.postMessage({ fatal: 'Error: disk I/O error' });
  parentPort.on('message', () => parentPort.postMessage({ caughtUp: true }));
`)}`);

test('an I/O error ends checkpointing (any of SQLite\'s SQLITE_IOERR codes); busy, a full disk or anything else is tried again', () => {
  for (const errcode of [10, 1034 /* IOERR_FSYNC */, 778 /* IOERR_WRITE */, 266 /* IOERR_READ */]) assert.equal(endsCheckpoints({ errcode }), true, String(errcode));
  for (const err of [{ errcode: 5 }, { errcode: 13 }, { errcode: 11 }, new Error('x'), undefined, null]) assert.equal(endsCheckpoints(err), false, JSON.stringify(err));
});

test('a checkpoint thread that met an I/O error stops the store: the store is told once, and no catch-up is asked of the thread any more', async () => {
  const fatal: Error[] = [];
  let toldStore!: () => void;
  const told = new Promise<void>((resolve) => { toldStore = resolve; });
  const checkpointer = new Checkpointer('unused.sqlite', () => {}, (err) => { fatal.push(err); toldStore(); }, failingCheckpointWorker);
  await told;
  assert.equal(fatal.length, 1);
  assert.match(fatal[0]!.message, /restart the gateway: Error: disk I\/O error/);
  assert.equal(checkpointer.due, false);
  assert.equal(await checkpointer.catchUp(), false, 'no catch-up pass is asked of a stopped thread');
  await checkpointer.stop();
});

test('the store stops with its checkpoint thread: the process is told to end, and every statement after is refused', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'switchyard-checkpoint-'));
  const fatal: unknown[] = [];
  const store = openSqlite(join(dir, 'store.sqlite'), { fatal: (err) => fatal.push(err), log: () => {}, checkpointWorker: failingCheckpointWorker });
  t.after(async () => { await store.db.destroy(); rmSync(dir, { recursive: true, force: true }); });
  // The first statement starts the thread, which fails at once.
  await sql`create table t (a integer)`.execute(store.db);
  while (fatal.length === 0) await new Promise((r) => setTimeout(r, 10));
  assert.equal(fatal.length, 1);
  await assert.rejects(sql`insert into t values (1)`.execute(store.db), /checkpoint could not read, write or flush/);
  await assert.rejects(sql`select * from t`.execute(store.db), /checkpoint could not read, write or flush/, 'not even a read goes on');
});
