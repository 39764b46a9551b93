import { test } from 'node:test';
import assert from 'node:assert/strict';
import { appendFileSync, mkdtempSync, renameSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { endianness, tmpdir } from 'node:os';
import { join } from 'node:path';
import { WalSync, WalTampered } from './wal-sync.ts';
import { walIndex } from '../../test/support/wal-files.ts';

/** A file that starts as a WAL does: its header's magic number, then frames. */
function walFile(): string {
  const dir = mkdtempSync(join(tmpdir(), 'switchyard-walsync-'));
  const path = join(dir, 'x.sqlite-wal');
  const header = Buffer.alloc(32);
  header.writeUInt32BE(0x377f0682, 0);
  writeFileSync(path, header);
  return path;
}

const tampered = (vanished: boolean) => (err: unknown) => err instanceof Error && err.cause instanceof WalTampered && err.cause.vanished === vanished;

test('a WAL that grows flushes; one cut short, or cut to nothing and written past, fails for good', async () => {
  for (const cut of [(p: string) => truncateSync(p, 16), (p: string) => { truncateSync(p, 0); appendFileSync(p, Buffer.alloc(4096, 1)); }]) {
    const path = walFile();
    const wal = new WalSync(path);
    await wal.sync();
    appendFileSync(path, Buffer.alloc(4096, 7));
    await wal.sync();
    cut(path);
    await assert.rejects(wal.sync(), tampered(false));
    await assert.rejects(wal.sync(), tampered(false), 'every later flush fails the same');
    await wal.close();
    rmSync(path, { force: true });
  }
});

test('a WAL deleted, or renamed away, while open fails as vanished; an empty one SQLite has not written yet passes', async () => {
  for (const away of [(p: string) => rmSync(p), (p: string) => renameSync(p, `${p}.old`)]) {
    const path = walFile();
    const wal = new WalSync(path);
    await wal.sync();
    away(path);
    await assert.rejects(wal.sync(), tampered(true));
    await wal.close();
  }
  const path = walFile();
  truncateSync(path, 0);
  const wal = new WalSync(path);
  await wal.sync();
  await wal.sync();
  await wal.close();
});


test('a WAL cut to nothing once every frame is in the database file (another program\'s TRUNCATE checkpoint) passes; with frames not yet copied it fails', async () => {
  for (const [backfilled, passes] of [[12, true], [9, false]] as const) {
    const path = walFile();
    appendFileSync(path, Buffer.alloc(4096, 7));
    const wal = new WalSync(path);
    await wal.sync();
    walIndex(path, 12, backfilled);
    truncateSync(path, 0);
    if (passes) await wal.sync();
    else await assert.rejects(wal.sync(), tampered(false));
    await wal.close();
  }
});
