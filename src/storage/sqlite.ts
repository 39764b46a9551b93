import { writeSync } from 'node:fs';
import { DatabaseSync, type StatementSync } from 'node:sqlite';
import {
  Kysely, SqliteAdapter, SqliteDialect, SqliteDriver, type CompiledQuery, type DatabaseConnection, type DialectAdapter, type Driver, type QueryResult,
  type SqliteDatabase, type SqliteDialectConfig, type SqliteStatement,
} from 'kysely';
import type { Database } from './schema.ts';
import { WalSync, WalTampered } from './wal-sync.ts';
import { insideUnitOfWork, refuseIfAbandoned } from './unit-scope.ts';
import { Checkpointer } from './checkpointer.ts';

/**
 * Adapts `node:sqlite` to the statement interface Kysely's SQLite dialect expects, with a cache
 * of prepared statements so a payment does not re-parse its SQL.
 */
function shim(db: DatabaseSync): SqliteDatabase {
  const cache = new Map<string, { stmt: StatementSync; reader: boolean }>();
  return {
    close: () => db.close(),
    prepare(sql: string): SqliteStatement {
      // Every transaction here writes. A deferred BEGIN that reads first cannot wait for another
      // process's writer to finish (SQLite refuses the upgrade at once: "database is locked");
      // BEGIN IMMEDIATE takes the write lock up front and so waits under busy_timeout instead.
      if (/^begin$/i.test(sql.trim())) sql = 'begin immediate';
      let entry = cache.get(sql);
      if (!entry) {
        const stmt = db.prepare(sql);
        entry = { stmt, reader: stmt.columns().length > 0 };
        if (cache.size > 1000) cache.clear();
        cache.set(sql, entry);
      }
      const { stmt, reader } = entry;
      const args = (p: ReadonlyArray<unknown>) => p.map(toSqlite) as never[];
      return {
        reader,
        all: (p) => stmt.all(...args(p)),
        run: (p) => stmt.run(...args(p)),
        iterate: (p) => stmt.iterate(...args(p)) as IterableIterator<unknown>,
      };
    },
  };
}

function toSqlite(v: unknown): unknown {
  if (typeof v === 'boolean') return v ? 1 : 0;
  if (v === undefined) return null;
  return v;
}

/**
 * Keeps SQLite's sub-journals (and the temporary tables and sorts of its queries) in memory. A unit
 * of work in a batch runs inside a savepoint, and SQLite keeps the first-touched copy of every page a
 * savepoint (or a statement inside a transaction) changes, so it can roll back to it; past 64 KiB
 * that copy spills to a temporary file, one write() system call per page: about half of SQLite's
 * time under load. In memory it lives until the savepoint is released and holds what one batch
 * touched; a crash loses nothing by it (the WAL, not the sub-journal, carries what commits). Set only
 * once the migrations have run: a migration that rewrites a whole table in one transaction would
 * hold a copy of the table in memory.
 */
export function keepJournalsInMemory(raw: DatabaseSync): void {
  raw.exec('PRAGMA temp_store = MEMORY');
}

/** Statements that never leave anything to flush: reads, and the edges of a transaction that writes nothing by itself. */
const flushFree = /^\s*(select|explain|begin|rollback)\b/i;
/** What may still be sent in a transaction SQLite has rolled back by itself: only what ends it. */
const transactionEnd = /^\s*(commit|end|rollback)\b(?!\s+to\b)/i;

/**
 * Answers a statement that ended a write (a COMMIT, or a write outside any transaction) only once
 * the WAL holds it on disk. The flush runs on the thread pool while this connection stays taken
 * (Kysely lends SQLite's one connection to one caller at a time), so no reader in this process
 * sees a commit before it is durable, and the event loop goes on with everything else meanwhile.
 */
class DurableConnection implements DatabaseConnection {
  readonly #inner: DatabaseConnection;
  readonly #raw: DatabaseSync;
  readonly #store: StoreParts;
  /** A BEGIN of this connection's caller has not been ended by a COMMIT or ROLLBACK yet. */
  #begun = false;

  constructor(inner: DatabaseConnection, raw: DatabaseSync, store: StoreParts) {
    this.#inner = inner;
    this.#raw = raw;
    this.#store = store;
  }

  async executeQuery<R>(query: CompiledQuery): Promise<QueryResult<R>> {
    refuseIfAbandoned();
    // After a failed flush, what the WAL holds past the last good one may never reach the disk:
    // nothing may be written on it, nor read and passed on as committed.
    const failed = this.#store.failed();
    if (failed) throw failed;
    // SQLite rolls a whole transaction back by itself on some errors (a full disk, an I/O error, no
    // memory). A caller that went on regardless would write outside any transaction: each statement
    // committed on its own, a unit of work's writes kept although the unit is refused. Until the
    // caller ends what it began, nothing else runs.
    const ends = transactionEnd.test(query.sql);
    if (this.#begun && !this.#raw.isTransaction && !ends) {
      throw new Error('SQLite rolled this transaction back after an error; nothing more is written in it');
    }
    let result: QueryResult<R>;
    try {
      result = await this.#inner.executeQuery<R>(query);
    } finally {
      if (ends && !this.#raw.isTransaction) this.#begun = false;
    }
    if (/^\s*begin\b/i.test(query.sql)) this.#begun = true;
    if (!this.#raw.isTransaction && !flushFree.test(query.sql)) {
      try {
        await this.#store.wal.sync();
      } catch (err) {
        this.#store.flushFailed(err);
        throw err;
      }
      const checkpointer = this.#store.checkpointer();
      if (checkpointer?.due) await checkpointer.catchUp();
    }
    return result;
  }

  streamQuery<R>(query: CompiledQuery, chunkSize: number): AsyncIterableIterator<QueryResult<R>> {
    refuseIfAbandoned();
    const failed = this.#store.failed();
    if (failed) throw failed;
    return this.#inner.streamQuery<R>(query, chunkSize);
  }
}

/** What the connection needs of its store: the WAL's flusher, the checkpoint thread once started, and what to do when a flush fails. */
interface StoreParts {
  readonly wal: WalSync;
  /** Why nothing may be written or read any more (a failed flush of the WAL, or of a checkpoint). */
  failed(): Error | undefined;
  checkpointer(): Checkpointer | undefined;
  flushFailed(err: unknown): void;
}

class DurableSqliteDriver extends SqliteDriver {
  readonly #raw: DatabaseSync;
  readonly #file: string;
  readonly #options: Required<SqliteOptions>;
  #checkpointer: Checkpointer | undefined;
  #checkpointFailed: Error | undefined;
  #connection: DurableConnection | undefined;
  // The one connection is lent to one holder at a time, in the order asked (Kysely's own lock for a
  // single-connection dialect is turned off, so that a holder's own re-entry is refused first).
  #held: Promise<void> = Promise.resolve();
  #release: (() => void) | undefined;

  constructor(config: SqliteDialectConfig, raw: DatabaseSync, file: string, options: Required<SqliteOptions>) {
    super(config);
    this.#raw = raw;
    this.#file = file;
    this.#options = options;
  }

  // The checkpoint thread starts with the store's first use, not when it is opened: Kysely never
  // destroys a driver it never initialised, so a thread started earlier would outlive a store
  // closed unused.
  override async init(): Promise<void> {
    await super.init();
    this.#checkpointer = new Checkpointer(this.#file, this.#options.log, (err) => {
      // As after a failed flush of the WAL: nothing more is written or read as committed, and the
      // process ends for a restart to recover from what the disk holds.
      this.#checkpointFailed = err;
      this.#options.fatal(err);
    }, this.#options.checkpointWorker);
  }

  override async acquireConnection(): Promise<DatabaseConnection> {
    // The one connection is the unit's transaction's: waiting for it here would wait for ever.
    if (insideUnitOfWork()) throw new Error('a read through db inside a unit of work: on SQLite read through the unit\'s tx');
    const before = this.#held;
    let release!: () => void;
    this.#held = new Promise((resolve) => { release = resolve; });
    await before;
    this.#release = release;
    this.#connection ??= new DurableConnection(await super.acquireConnection(), this.#raw, {
      wal: this.#options.wal,
      failed: () => this.#options.wal.failed ?? this.#checkpointFailed,
      checkpointer: () => this.#checkpointer,
      flushFailed: (err) => {
        // The checkpoint thread must not copy into the database file pages whose WAL frames may
        // not be on disk; and closing SQLite would checkpoint them too. So: no more checkpoints,
        // no close, and the process ends for a restart to recover from what the disk holds.
        this.#checkpointer?.terminate();
        const cause = err instanceof Error ? err.cause : undefined;
        // A WAL deleted under the store is still open here, whole, and no flush failed: a restart
        // would find none, and the store as of its last checkpoint (everything acknowledged since
        // gone). Its pages are copied into the database file first, which SQLite then flushes.
        // A WAL cut short is not: what it held is gone, and copying it would write zeroes over
        // good pages, so nothing is.
        if (cause instanceof WalTampered && cause.vanished) {
          // Said on stderr at once: the process ends before a warning emitted now would be written.
          try {
            // Held back by another connection's read (a backup under way), it copies what it can and says so.
            const r = this.#raw.prepare('PRAGMA wal_checkpoint(FULL)').get() as { busy: number; log: number; checkpointed: number } | undefined;
            writeSync(2, r && r.busy === 0 && r.checkpointed >= r.log
              ? 'switchyard: the write-ahead log was deleted under the store: its commits were copied into the database file before stopping\n'
              : `switchyard: the write-ahead log was deleted under the store: only ${r?.checkpointed ?? 0} of its ${r?.log ?? '?'} frames could be copied into the database file (another connection held them back); restore from a backup if payments are missing\n`);
          } catch (rescue) {
            writeSync(2, `switchyard: the write-ahead log was deleted under the store, and its commits could not be copied into the database file: ${String(rescue)}\n`);
          }
        }
        this.#options.fatal(err);
      },
    });
    return this.#connection;
  }

  override async releaseConnection(): Promise<void> {
    const release = this.#release;
    this.#release = undefined;
    release?.();
  }

  override async destroy(): Promise<void> {
    await this.#checkpointer?.stop();
    await this.#options.wal.close();
    await super.destroy();
  }
}

/** SQLite as Kysely speaks it, without Kysely's connection lock: the durable driver keeps its own. */
class OwnLockSqliteAdapter extends SqliteAdapter {
  override get supportsMultipleConnections(): boolean { return true; }
}

export interface SqliteStore {
  db: Kysely<Database>;
  raw: DatabaseSync;
  /** Flushes of the WAL so far. */
  flushes(): number;
}

export interface SqliteOptions {
  /** Where the store reports trouble it works around (a checkpoint that failed). */
  log?: (message: string) => void;
  /** The WAL's flusher (tests give one that fails or waits; `openStorage` one that reports to metrics). */
  wal?: WalSync;
  /**
   * Called once a flush of the WAL has failed, or a checkpoint met an I/O error; the default writes the error to stderr and aborts
   * the process without closing the store (a close would checkpoint what may not be durable).
   */
  fatal?: (err: unknown) => void;
  /** The checkpoint thread's script (tests give one that fails). */
  checkpointWorker?: URL;
}

/** Pages the WAL may hold before the writer checkpoints by itself, should the checkpoint thread fall behind (4 KiB pages: about 40 MB). */
const writerCheckpointPages = 10_000;

function abortProcess(err: unknown): void {
  writeSync(2, `switchyard: fatal: ${String(err)}\n`);
  process.abort();
}

/**
 * Opens (creating if needed) the embedded store. WAL journal; every commit durable before it is
 * answered, but the disk is waited for off the event loop: SQLite runs at `synchronous=NORMAL`
 * (it writes a commit's frames to the WAL without flushing them) and `WalSync` flushes the WAL on
 * the thread pool before the commit's caller — or any other reader — goes on. Checkpoints run on
 * a thread of their own.
 */
export function openSqlite(file: string, options: SqliteOptions = {}): SqliteStore {
  const settled: Required<SqliteOptions> = {
    log: options.log ?? ((m) => process.emitWarning(m, 'SwitchyardStorage')),
    wal: options.wal ?? new WalSync(`${file}-wal`),
    fatal: options.fatal ?? abortProcess,
    checkpointWorker: options.checkpointWorker ?? new URL('./checkpoint-worker.ts', import.meta.url),
  };
  const raw = new DatabaseSync(file);
  raw.exec('PRAGMA journal_mode = WAL');
  raw.exec('PRAGMA synchronous = NORMAL');
  raw.exec(`PRAGMA wal_autocheckpoint = ${writerCheckpointPages}`);
  raw.exec('PRAGMA foreign_keys = ON');
  raw.exec('PRAGMA busy_timeout = 5000');
  const config: SqliteDialectConfig = { database: shim(raw) };
  const driver: Driver = new DurableSqliteDriver(config, raw, file, settled);
  const dialect = new (class extends SqliteDialect {
    override createDriver(): Driver { return driver; }
    // The driver locks its one connection itself (see DurableSqliteDriver.acquireConnection).
    override createAdapter(): DialectAdapter { return new OwnLockSqliteAdapter(); }
  })(config);
  return { db: new Kysely<Database>({ dialect }), raw, flushes: () => settled.wal.flushes };
}
