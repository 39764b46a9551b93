/** Files shaped as SQLite's write-ahead log and its index, for tests of the WAL's flusher. */
import { writeFileSync } from 'node:fs';
import { endianness } from 'node:os';

/** A WAL index (the `-shm` beside `walPath`) saying `mxFrame` frames are in the WAL and `backfilled` of them in the database file. */
export function walIndex(walPath: string, mxFrame: number, backfilled: number): void {
  const index = Buffer.alloc(136);
  const le = endianness() === 'LE';
  if (le) { index.writeUInt32LE(mxFrame, 16); index.writeUInt32LE(backfilled, 96); } else { index.writeUInt32BE(mxFrame, 16); index.writeUInt32BE(backfilled, 96); }
  writeFileSync(walPath.replace(/-wal$/, '-shm'), index);
}
