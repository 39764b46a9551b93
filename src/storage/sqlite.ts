import { DatabaseSync, type StatementSync } from 'node:sqlite';
import {
  Kysely, SqliteDialect, SqliteDriver, type CompiledQuery, type DatabaseConnection, type Driver, type QueryResult,
  type SqliteDatabase, type SqliteDialectConfig, type SqliteStatement,
} from 'kysely';
import type { Database } from './schema.ts';
import { WalSync } from './wal-sync.ts';
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

/** Statements that never leave anything to flush: reads, and the edges of a transaction that writes nothing by itself. */
const flushFree = /^\s*(select|explain|begin|rollback)\b/i;

/**
 * Answers a statement that ended a write (a COMMIT, or a write outside any transaction) only once
 * the WAL holds it on disk. The flush runs on the thread pool while this connection stays taken
 * (Kysely lends SQLite's one connection to one caller at a time), so no reader in this process
 * sees a commit before it is durable, and the event loop goes on with everything else meanwhile.
 */
class DurableConnection implements DatabaseConnection {
  readonly #inner: DatabaseConnection;
  readonly #raw: DatabaseSync;
  readonly #wal: WalSync;
  readonly #checkpointer: Checkpointer;

  constructor(inner: DatabaseConnection, raw: DatabaseSync, wal: WalSync, checkpointer: Checkpointer) {
    this.#inner = inner;
    this.#raw = raw;
    this.#wal = wal;
    this.#checkpointer = checkpointer;
  }

  async executeQuery<R>(query: CompiledQuery): Promise<QueryResult<R>> {
    // After a failed flush, what the WAL holds past the last good one may never reach the disk:
    // nothing may be written on it, nor read and passed on as committed.
    if (this.#wal.failed) throw this.#wal.failed;
    const result = await this.#inner.executeQuery<R>(query);
    if (!this.#raw.isTransaction && !flushFree.test(query.sql)) {
      await this.#wal.sync();
      if (this.#checkpointer.due) await this.#checkpointer.catchUp();
    }
    return result;
  }

  streamQuery<R>(query: CompiledQuery, chunkSize: number): AsyncIterableIterator<QueryResult<R>> {
    return this.#inner.streamQuery<R>(query, chunkSize);
  }
}

class DurableSqliteDriver extends SqliteDriver {
  readonly #raw: DatabaseSync;
  readonly #wal: WalSync;
  readonly #checkpointer: Checkpointer;
  #connection: DurableConnection | undefined;

  constructor(config: SqliteDialectConfig, raw: DatabaseSync, wal: WalSync, checkpointer: Checkpointer) {
    super(config);
    this.#raw = raw;
    this.#wal = wal;
    this.#checkpointer = checkpointer;
  }

  override async acquireConnection(): Promise<DatabaseConnection> {
    this.#connection ??= new DurableConnection(await super.acquireConnection(), this.#raw, this.#wal, this.#checkpointer);
    return this.#connection;
  }

  override async destroy(): Promise<void> {
    await this.#checkpointer.stop();
    await this.#wal.close();
    await super.destroy();
  }
}

export interface SqliteStore {
  db: Kysely<Database>;
  raw: DatabaseSync;
  /** Flushes of the WAL so far. */
  flushes(): number;
}

/** Pages the WAL may hold before the writer checkpoints by itself, should the checkpoint thread fall behind (4 KiB pages: about 40 MB). */
const writerCheckpointPages = 10_000;

/**
 * Opens (creating if needed) the embedded store. WAL journal; every commit durable before it is
 * answered, but the disk is waited for off the event loop: SQLite runs at `synchronous=NORMAL`
 * (it writes a commit's frames to the WAL without flushing them) and `WalSync` flushes the WAL on
 * the thread pool before the commit's caller — or any other reader — goes on. Checkpoints run on
 * a thread of their own.
 */
export function openSqlite(
  file: string, log: (message: string) => void = (m) => process.emitWarning(m, 'SwitchyardStorage'),
  wal: WalSync = new WalSync(`${file}-wal`),
): SqliteStore {
  const raw = new DatabaseSync(file);
  raw.exec('PRAGMA journal_mode = WAL');
  raw.exec('PRAGMA synchronous = NORMAL');
  raw.exec(`PRAGMA wal_autocheckpoint = ${writerCheckpointPages}`);
  raw.exec('PRAGMA foreign_keys = ON');
  raw.exec('PRAGMA busy_timeout = 5000');
  const checkpointer = new Checkpointer(file, log);
  const config: SqliteDialectConfig = { database: shim(raw) };
  const driver: Driver = new DurableSqliteDriver(config, raw, wal, checkpointer);
  const dialect = new (class extends SqliteDialect {
    override createDriver(): Driver { return driver; }
  })(config);
  return { db: new Kysely<Database>({ dialect }), raw, flushes: () => wal.flushes };
}
