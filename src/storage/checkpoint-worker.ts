/**
 * The embedded store's checkpointer, on a thread of its own: it copies committed pages from the
 * write-ahead log into the database file and flushes that file, work that SQLite would otherwise
 * do inside a COMMIT on the event loop every thousand pages. PASSIVE never takes the writer's
 * lock, so the gateway's commits never wait for it. See `checkpointer.ts` for the other side.
 */
import { closeSync, openSync, readSync } from 'node:fs';
import { endianness } from 'node:os';
import { DatabaseSync } from 'node:sqlite';
import { parentPort, workerData } from 'node:worker_threads';
import { endsCheckpoints } from './checkpointer.ts';

const { file, intervalMs, passFrames, reportFrames } = workerData as { file: string; intervalMs: number; passFrames: number; reportFrames: number };
const db = new DatabaseSync(file);
// NORMAL and FULL both flush the WAL before a checkpoint and the database file after one.
db.exec('PRAGMA synchronous = FULL');
const checkpoint = db.prepare('PRAGMA wal_checkpoint(PASSIVE)');

interface Outcome { busy: number; log: number; checkpointed: number }

let failures = 0;
/** Set by an I/O error: no pass runs again in this process. */
let broken = false;
function run(): Outcome | undefined {
  if (broken) return undefined;
  try {
    const r = checkpoint.get() as unknown as Outcome;
    failures = 0;
    return r;
  } catch (err) {
    if (endsCheckpoints(err)) {
      // A failed flush (of the WAL before the copy, or of the database file after it) is final, as
      // for the writer's own flushes: a second try can report success for pages the kernel dropped,
      // and the pass would then copy into the database file what may never reach the disk.
      broken = true;
      clearInterval(timer);
      parentPort?.postMessage({ fatal: String(err) });
      return undefined;
    }
    // A busy checkpoint, or one that found no room, loses nothing (the pages stay in the WAL); the
    // writer's own auto-checkpoint bounds the WAL if this thread cannot. Said once per run of failures.
    if (failures++ === 0) parentPort?.postMessage({ error: String(err) });
    return undefined;
  }
}

/**
 * Frames in the WAL not yet copied, read from the WAL index (the `-shm` file SQLite maps), whose
 * layout SQLite documents and keeps: the header's `mxFrame` at byte 16 and the checkpoint's
 * `nBackfill` at byte 96, in the machine's byte order. Only advice on when to run a pass: a torn
 * or unreadable value just runs one.
 */
const index = Buffer.alloc(100);
let shm: number | undefined;
function framesWaiting(): number {
  try {
    shm ??= openSync(`${file}-shm`, 'r');
    if (readSync(shm, index, 0, 100, 0) < 100) return Infinity;
    const le = endianness() === 'LE';
    const mxFrame = le ? index.readUInt32LE(16) : index.readUInt32BE(16);
    const backfilled = le ? index.readUInt32LE(96) : index.readUInt32BE(96);
    return mxFrame - backfilled;
  } catch {
    return Infinity;
  }
}

const timer = setInterval(() => {
  // A pass that copies everything lets the next commit start the WAL over, and SQLite flushes a
  // restarted WAL's header inside that COMMIT, on the gateway's event loop. Waiting for a
  // thousand frames keeps that to one flush per several megabytes written.
  if (framesWaiting() < passFrames) return;
  const r = run();
  // The WAL restarts from its start only once a checkpoint has copied every frame and the writer
  // then begins; under steady load new frames land while a pass runs, so the writer is told when
  // the WAL is long and holds still for one short catch-up pass (`catch-up` below).
  if (r && r.log >= reportFrames) parentPort?.postMessage({ frames: r.log });
}, intervalMs);

parentPort?.on('message', (m: unknown) => {
  if (m === 'catch-up') {
    const r = run();
    parentPort?.postMessage({ caughtUp: r ? r.log === r.checkpointed : false });
    return;
  }
  if (m !== 'stop') return;
  clearInterval(timer);
  run();
  if (shm !== undefined) closeSync(shm);
  // After an I/O error the connection is left open: closing it could checkpoint.
  if (!broken) db.close();
  parentPort?.close();
});
