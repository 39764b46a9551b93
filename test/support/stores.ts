/**
 * A store for a gateway run as a real process (`node src/main.ts`), on SQLite or in a PostgreSQL
 * schema of its own, and a direct connection to it for the invariant checker.
 */
import { rmSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import type { Kysely } from 'kysely';
import pg from 'pg';
import { openSqlite } from '../../src/storage/sqlite.ts';
import { openPostgres } from '../../src/storage/postgres.ts';
import { openStorage, type Storage } from '../../src/storage/database.ts';
import type { Database } from '../../src/storage/schema.ts';
import { tempDir, testPostgresUrl } from './harness.ts';

export type StoreKind = 'sqlite' | 'postgres';

export interface ProcessStore {
  readonly kind: StoreKind;
  readonly dataDir: string;
  /** The environment that points `src/main.ts` at this store. */
  readonly env: Record<string, string>;
  /** A connection of the test's own to the same tables. */
  open(): Promise<{ db: Kysely<Database>; close(): Promise<void> }>;
  /** Removes the data folder and the schema. */
  drop(): Promise<void>;
}

/** One statement or more on the test database as its owner, over a connection of their own. */
export async function onDatabase<T>(fn: (c: pg.Client) => Promise<T>): Promise<T> {
  const c = new pg.Client({ connectionString: testPostgresUrl });
  await c.connect();
  try { return await fn(c); } finally { await c.end(); }
}

async function adminQuery(text: string) {
  await onDatabase((c) => c.query(text));
}

/** The schema travels in the connection string, as an operator would point a cluster at its own schema. */
export function urlWithSchema(schema: string): string {
  const u = new URL(testPostgresUrl);
  u.searchParams.set('options', `-c search_path=${schema}`);
  return u.toString();
}

export async function processStore(kind: StoreKind): Promise<ProcessStore> {
  const dataDir = tempDir('switchyard-chaos-');
  const schema = `sy_test_${randomBytes(6).toString('hex')}`;
  if (kind === 'postgres') await adminQuery(`CREATE SCHEMA "${schema}"`);
  return {
    kind, dataDir,
    env: { SWITCHYARD_DATA_DIR: dataDir, ...(kind === 'postgres' ? { DATABASE_URL: urlWithSchema(schema) } : {}) },
    async open() {
      if (kind === 'sqlite') {
        const { db } = openSqlite(join(dataDir, 'switchyard.sqlite'));
        return { db, close: () => db.destroy() };
      }
      const { db } = await openPostgres(testPostgresUrl, { schema, max: 2 });
      return { db, close: () => db.destroy() };
    },
    async drop() {
      rmSync(dataDir, { recursive: true, force: true });
      if (kind === 'postgres') await adminQuery(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    },
  };
}

/**
 * Two stores on one PostgreSQL schema, as two gateway nodes share a database: each opens its own
 * pool. `close` ends both and drops the schema.
 */
export async function twoNodesOnOneSchema(prefix: string): Promise<{ a: Storage; b: Storage; close(): Promise<void> }> {
  const schema = `${prefix}_${randomBytes(5).toString('hex')}`;
  const a = await openStorage({ kind: 'postgres', url: testPostgresUrl, schema });
  const b = await openStorage({ kind: 'postgres', url: testPostgresUrl, schema });
  return {
    a, b,
    async close() {
      await a.close();
      await b.close();
      await adminQuery(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    },
  };
}
