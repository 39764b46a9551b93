import { close, closeSync, fdatasync, fstat, fstatSync, fsync, open, openSync, readSync, stat } from 'node:fs';
import { endianness } from 'node:os';
import { dirname } from 'node:path';
import { promisify } from 'node:util';

const openAsync = promisify(open);
const closeAsync = promisify(close);
const fdatasyncAsync = promisify(fdatasync);
const fsyncAsync = promisify(fsync);
const fstatAsync = promisify(fstat);
const statAsync = promisify(stat);

/**
 * The WAL file was deleted, or cut short while it held frames the database file does not, under the
 * store while this process held it open (a cleanup that took the `-wal` file for a temporary one).
 * Never SQLite's own doing while this process holds a connection: it appends to the file, writes it
 * again from the start, or (asked by another program) cuts it once every frame is checkpointed.
 */
export class WalTampered extends Error {
  readonly vanished: boolean;
  constructor(path: string, vanished: boolean) {
    super(vanished ? `the write-ahead log ${path} was deleted while the store had it open` : `the write-ahead log ${path} was cut short while the store had it open`);
    this.name = 'WalTampered';
    this.vanished = vanished;
  }
}

/** The WAL header read now: SQLite's magic number at its start (0x377f0682 or 0x377f0683, big endian) and its salts. */
function headerOf(fd: number): { magic: boolean; salts: string | undefined } {
  const head = Buffer.alloc(32);
  const bytes = readSync(fd, head, 0, 32, 0);
  const magic = bytes >= 4 && (head.readUInt32BE(0) & 0xffff_fffe) === 0x377f_0682;
  return { magic, salts: magic && bytes >= 24 ? head.subarray(16, 24).toString('hex') : undefined };
}

/** Whether the WAL index says frames are in the WAL that the database file does not hold yet (an index that cannot be read: yes). */
function framesPending(shmPath: string): boolean {
  let fd: number | undefined;
  try {
    fd = openSync(shmPath, 'r');
    const index = Buffer.alloc(100);
    if (readSync(fd, index, 0, 100, 0) < 100) return true;
    const le = endianness() === 'LE';
    return (le ? index.readUInt32LE(16) : index.readUInt32BE(16)) > (le ? index.readUInt32LE(96) : index.readUInt32BE(96));
  } catch {
    return true;
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

/**
 * Makes what SQLite has written to its write-ahead log durable, on libuv's thread pool, so the
 * event loop goes on parsing, signing and answering while the disk flushes.
 *
 * The store runs at `synchronous=NORMAL`, where SQLite writes a commit's frames into the WAL but
 * does not flush them; `sync()` after the COMMIT flushes them, which is exactly what
 * `synchronous=FULL` would have done inside the COMMIT on the event loop. One flush of the file
 * covers every frame written before it, so concurrent requests share one: a caller gets a flush
 * that started after it asked, never one already under way (that one may have started before its
 * frames were written).
 *
 * A failed flush is not retried: after a failed fsync the kernel may have dropped the dirty pages
 * and a second fsync can report success for data that never reached the disk. Every later call
 * fails with the same error, and the process must be restarted (SQLite recovers from the WAL).
 */
export class WalSync {
  readonly #path: string;
  #fd: number | undefined;
  #ino: bigint | undefined;
  /** The file's size at the last flush: it never shrinks while the store is open, unless the log was started over. */
  #size = 0;
  /** The header's salts at the last flush. */
  #salts: string | undefined;
  #running: Promise<void> | undefined;
  #next: Promise<void> | undefined;
  #failed: Error | undefined;
  #flushes = 0;

  readonly #observe: ((seconds: number) => void) | undefined;
  readonly #fdatasync: (fd: number) => Promise<void>;

  /**
   * `observe` is told how long each successful flush took; `fdatasync` stands in for the system
   * call in tests that need a disk that fails.
   */
  constructor(walPath: string, options: { observe?: (seconds: number) => void; fdatasync?: (fd: number) => Promise<void> } = {}) {
    this.#path = walPath;
    this.#observe = options.observe;
    this.#fdatasync = options.fdatasync ?? fdatasyncAsync;
  }

  /** Flushes made so far (tests and metrics read it). */
  get flushes(): number {
    return this.#flushes;
  }

  /** The error of a failed flush, after which nothing may be written (or read as committed) again. */
  get failed(): Error | undefined {
    return this.#failed;
  }

  /** Resolves once every frame written to the WAL before this call is on the disk. */
  sync(): Promise<void> {
    if (this.#failed) return Promise.reject(this.#failed);
    if (!this.#running) {
      this.#running = this.#flush().finally(() => { this.#running = undefined; });
      return this.#running;
    }
    // A flush is running, and may have started before the caller's frames were written: the
    // caller waits for the next one, which every caller arriving meanwhile shares.
    this.#next ??= this.#running.catch(() => {}).then(() => {
      this.#next = undefined;
      return this.sync();
    });
    return this.#next;
  }

  async #flush(): Promise<void> {
    const started = performance.now();
    try {
      if (this.#fd === undefined) {
        await this.#fdatasync(await this.#open());
      } else {
        // The inode is looked at while the flush runs, not before it, so the check adds no wait.
        const [, now] = await Promise.all([
          this.#fdatasync(this.#fd),
          statAsync(this.#path, { bigint: true }).catch((err: NodeJS.ErrnoException) => err.code === 'ENOENT' ? null : undefined),
        ]);
        // Unlinked (the name gone, or given to another file, which may even get the same inode
        // number), shorter than it was, or its header gone (cut to nothing, then written past the
        // cut): what the store wrote since its last checkpoint is no longer where a restart reads
        // it from. Answered as a failed flush, never acknowledged.
        if (now === null) throw new WalTampered(this.#path, true);
        // (A WAL SQLite has created but not written yet is empty, header and all.) A WAL shorter than
        // it was is harmless when SQLite started it over (its header's salts change) or once every
        // frame it held is in the database file: another program's `wal_checkpoint(TRUNCATE)` (the
        // sqlite3 shell, a replication tool) cuts it to nothing, and the next commit starts it over.
        // The header and the size are read on this thread, so no commit of ours falls between them
        // (read on the thread pool, a TRUNCATE and our next commit starting the log over could fall
        // between the two, and a long size was kept with the new log's salts); what looks cut short
        // is looked at again before the store is given up.
        const seen = this.#look(this.#fd);
        if (seen.unlinked) throw new WalTampered(this.#path, true);
        if (seen.cut) throw new WalTampered(this.#path, false);
        if (seen.size !== undefined) {
          this.#size = seen.size;
          this.#salts = seen.salts;
        }
        if (now?.ino !== this.#ino) {
          await closeAsync(this.#fd).catch(() => {});
          this.#fd = undefined;
          await this.#fdatasync(await this.#open());
        }
      }
      this.#flushes++;
    } catch (err) {
      this.#failed = new Error(`the write-ahead log ${this.#path} could not be flushed to disk; restart the gateway: ${String(err)}`, { cause: err });
      throw this.#failed;
    }
    try { this.#observe?.((performance.now() - started) / 1000); } catch { /* metrics never fail a commit */ }
  }

  /**
   * The WAL looked at again on this thread, in an order no checkpoint of another program can fool:
   * the header, the size, the WAL index, the header again. Cut short when a non-empty WAL starts
   * without SQLite's magic number both times, or when it is shorter than at the last flush while the
   * WAL index (the `-shm` file, in the machine's byte order: `mxFrame` at byte 16, the checkpoint's
   * `nBackfill` at byte 96, as SQLite documents it) says it holds frames the database file does not,
   * and SQLite did not start it over (the header's salts changed) before or after. A read that
   * fails says nothing.
   */
  #look(fd: number): { cut: boolean; unlinked?: boolean; size: number | undefined; salts: string | undefined } {
    try {
      const header = headerOf(fd);
      const { size, nlink } = fstatSync(fd);
      if (nlink === 0) return { cut: false, unlinked: true, size, salts: header.salts };
      const restarted = header.salts !== undefined && header.salts !== this.#salts;
      const suspect = (!header.magic && size > 0) || (size < this.#size && !restarted);
      return suspect ? this.#lookAgain(fd) : { cut: false, size, salts: header.salts };
    } catch {
      return { cut: false, size: undefined, salts: this.#salts };
    }
  }

  #lookAgain(fd: number): { cut: boolean; size: number | undefined; salts: string | undefined } {
    try {
      const first = headerOf(fd);
      const { size } = fstatSync(fd);
      const pending = framesPending(this.#path.replace(/-wal$/, '-shm'));
      const second = headerOf(fd);
      const restarted = [first, second].some((h) => h.salts !== undefined && h.salts !== this.#salts);
      const cut = (size > 0 && !first.magic && !second.magic) || (size < this.#size && pending && !restarted);
      return { cut, size, salts: second.salts };
    } catch {
      return { cut: false, size: undefined, salts: this.#salts };
    }
  }

  /**
   * Opens the WAL (SQLite creates it at its first write) and flushes its folder, so the file's
   * name is as durable as its contents. The inode is remembered: a WAL deleted and created anew
   * (another process's last connection closing it) is opened again rather than flushed in vain.
   */
  async #open(): Promise<number> {
    const fd = await openAsync(this.#path, 'r+');
    try {
      const opened = await fstatAsync(fd, { bigint: true });
      this.#ino = opened.ino;
      this.#size = Number(opened.size);
      try { this.#salts = headerOf(fd).salts; } catch { this.#salts = undefined; }
      const dir = await openAsync(dirname(this.#path), 'r');
      try { await fsyncAsync(dir); } finally { await closeAsync(dir); }
    } catch (err) {
      await closeAsync(fd).catch(() => {});
      throw err;
    }
    this.#fd = fd;
    return fd;
  }

  async close(): Promise<void> {
    await this.#running?.catch(() => {});
    if (this.#fd !== undefined) await closeAsync(this.#fd).catch(() => {});
    this.#fd = undefined;
    this.#ino = undefined;
  }
}
