/**
 * The embedded store's checkpointer, on a thread of its own: it copies committed pages from the
 * write-ahead log into the database file and flushes that file, work that SQLite would otherwise
 * do inside a COMMIT on the event loop every thousand pages. PASSIVE never takes the writer's
 * lock, so the gateway's commits never wait for it.
 */
import { DatabaseSync } from 'node:sqlite';
import { parentPort, workerData } from 'node:worker_threads';

const { file, intervalMs } = workerData as { file: string; intervalMs: number };
const db = new DatabaseSync(file);
// NORMAL and FULL both flush the WAL before a checkpoint and the database file after one.
db.exec('PRAGMA synchronous = FULL');
const checkpoint = db.prepare('PRAGMA wal_checkpoint(PASSIVE)');

let failures = 0;
const timer = setInterval(() => {
  try {
    checkpoint.get();
    failures = 0;
  } catch (err) {
    // A busy or failing checkpoint loses nothing (the pages stay in the WAL); the writer's own
    // auto-checkpoint bounds the WAL if this thread cannot. Said once per run of failures.
    if (failures++ === 0) parentPort?.postMessage({ error: String(err) });
  }
}, intervalMs);

parentPort?.on('message', (m: unknown) => {
  if (m !== 'stop') return;
  clearInterval(timer);
  try { checkpoint.get(); } catch { /* the writer's next start checkpoints what is left */ }
  db.close();
  parentPort?.close();
});
