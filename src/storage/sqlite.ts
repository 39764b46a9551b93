import { DatabaseSync, type StatementSync } from 'node:sqlite';
import { Kysely, SqliteDialect, type SqliteDatabase, type SqliteStatement } from 'kysely';
import type { Database } from './schema.ts';

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

export interface SqliteStore {
  db: Kysely<Database>;
  raw: DatabaseSync;
}

/** Opens (creating if needed) the embedded store: WAL journal, full fsync on commit. */
export function openSqlite(file: string): SqliteStore {
  const raw = new DatabaseSync(file);
  raw.exec('PRAGMA journal_mode = WAL');
  raw.exec('PRAGMA synchronous = FULL');
  raw.exec('PRAGMA foreign_keys = ON');
  raw.exec('PRAGMA busy_timeout = 5000');
  const db = new Kysely<Database>({ dialect: new SqliteDialect({ database: shim(raw) }) });
  return { db, raw };
}
