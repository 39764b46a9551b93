/**
 * Another program's TRUNCATE checkpoint and the gateway's own next commit (starting the log over,
 * new salts) falling between what one flush reads of the WAL: the WAL's size and header were two
 * calls on the thread pool, and a long size was kept with the new log's salts, so the healthy,
 * restarted WAL was later taken for one cut short and the gateway aborted. The interleaving is
 * forced by holding the answer of the flush's call on the thread pool while the checkpoint and the
 * commit happen (a busy thread pool does that). In a file of its own: it replaces fs.stat before
 * WalSync loads.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs, { appendFileSync, mkdtempSync, truncateSync, writeFileSync } from 'node:fs';
import { syncBuiltinESMExports } from 'node:module';
import { endianness, tmpdir } from 'node:os';
import { join } from 'node:path';
import { walIndex } from '../../test/support/wal-files.ts';

let between: (() => void) | undefined;
const realStat = fs.stat;
// The flush's call on the thread pool answers what it saw; a checkpoint and a commit happen meanwhile.
(fs as { stat: unknown }).stat = function (path: string, opts: unknown, cb: (err: unknown, st?: unknown) => void) {
  if (between && typeof cb === 'function') {
    const seen = fs.statSync(path, opts as { bigint: true });
    const run = between;
    between = undefined;
    run();
    process.nextTick(cb, null, seen);
    return;
  }
  return (realStat as (...a: unknown[]) => void).apply(fs, [path, opts, cb]);
};
syncBuiltinESMExports();
const { WalSync } = await import('./wal-sync.ts');

function header(salt: number): Buffer {
  const h = Buffer.alloc(32);
  h.writeUInt32BE(0x377f0682, 0);
  h.writeUInt32BE(3007000, 4);
  h.writeUInt32BE(4096, 8);
  h.writeUInt32BE(salt, 16);
  h.writeUInt32BE(salt * 7, 20);
  return h;
}
const frame = Buffer.alloc(4096 + 24, 5);


test('a TRUNCATE checkpoint and the next commit landing between the size and header reads of one flush: later flushes of the healthy WAL still pass', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'switchyard-walsync-'));
  const path = join(dir, 'x.sqlite-wal');
  writeFileSync(path, Buffer.concat([header(1), frame, frame, frame, frame]));
  walIndex(path, 4, 0);
  const wal = new WalSync(path);
  await wal.sync();

  between = () => {
    // Another program's wal_checkpoint(TRUNCATE): every frame copied, the index reset, the log cut to nothing.
    walIndex(path, 0, 0);
    truncateSync(path, 0);
    // The gateway's next commit starts the log over (new salts) and writes one frame.
    appendFileSync(path, Buffer.concat([header(2), frame]));
    walIndex(path, 1, 0);
  };
  await wal.sync();
  assert.equal(between, undefined, 'the interleaving happened');

  // The gateway's next commit: one more frame in the restarted log; nothing was ever cut short.
  appendFileSync(path, frame);
  walIndex(path, 2, 0);
  await wal.sync();
  await wal.close();
});
