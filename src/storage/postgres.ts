import pg from 'pg';
import { Kysely, PostgresDialect, type DatabaseIntrospector } from 'kysely';
import { OwnSchemaIntrospector } from './schema-introspector.ts';
import { hotStatements, staleness, type StatementNames } from './statement-names.ts';
import type { Database } from './schema.ts';

// bigint columns hold epoch milliseconds and minor units, all far below 2^53.
pg.types.setTypeParser(20, (v) => Number(v));

/** PostgreSQL as Kysely speaks it, except that the migrator looks only at the store's own schema. */
class OwnSchemaPostgresDialect extends PostgresDialect {
  override createIntrospector(db: Kysely<any>): DatabaseIntrospector {
    return new OwnSchemaIntrospector(db);
  }
}

type Query = (config: unknown, values?: unknown, callback?: unknown) => unknown;

/**
 * Makes `client` run the SQL `names` knows as named statements, which PostgreSQL parses and plans
 * once per connection. Anything else (cursors, callbacks, SQL not registered) goes through as it came.
 */
export function useNamedStatements(client: pg.ClientBase, names: StatementNames = hotStatements): void {
  const plain = client.query.bind(client) as unknown as Query;
  const run = plain as (config: string | pg.QueryConfig, values?: unknown[]) => Promise<pg.QueryResult>;
  // The generation whose statements this connection holds. Kysely runs one statement at a time
  // on a connection, so nothing else prepares here between the drop below and the statement after it.
  let held = names.generation;
  const runNamed = async (text: string, values: unknown[]) => {
    const generation = names.generation;
    if (generation !== held) {
      // Names were renewed: the statements this connection prepared under older ones would
      // otherwise stay in its server's memory for the connection's life. Not transactional. Refused
      // (an aborted transaction), the statement runs unnamed this once and gives its own answer; the
      // drop is tried again next time, before anything is prepared under the new names.
      try {
        await run('deallocate all');
      } catch {
        return run(text, values);
      }
      held = generation;
    }
    try {
      return await run({ name: names.nameOf(text, generation)!, text, values });
    } catch (err) {
      const stale = staleness(err);
      if (stale === undefined) throw err;
      // Run once more unnamed, as it would have run before. A refused statement changed nothing,
      // so this never writes twice. Inside a transaction PostgreSQL has already failed the
      // transaction, so the second try fails and the first refusal is the answer.
      let fresh: pg.QueryResult;
      try {
        fresh = await run(text, values);
      } catch {
        names.renew(stale === 'stale' ? 'stale' : 'unproven');
        throw err;
      }
      // Unnamed it ran: the named statement was stale, whatever the error said.
      names.renew('stale');
      return fresh;
    }
  };
  // Not async: a cursor or a callback query must come back exactly as pg returns it.
  const named: Query = (config, values, callback) => {
    const hot = typeof config === 'string' && Array.isArray(values) && callback === undefined && names.has(config);
    return hot ? runNamed(config as string, values as unknown[]) : plain(config, values, callback);
  };
  (client as unknown as { query: Query }).query = named;
}

export interface PostgresStore {
  db: Kysely<Database>;
  pool: pg.Pool;
}

export interface PostgresOptions {
  /** Created if missing and made the search path (tests use one each). */
  schema?: string;
  max?: number;
  /** Hot-path statements prepared once per connection (default); off behind a pooler that cannot carry them. */
  preparedStatements?: boolean;
}

/** Connects to PostgreSQL. */
export async function openPostgres(url: string, options: PostgresOptions = {}): Promise<PostgresStore> {
  if (options.schema) {
    const admin = new pg.Client({ connectionString: url });
    await admin.connect();
    try { await admin.query(`CREATE SCHEMA IF NOT EXISTS "${options.schema}"`); } finally { await admin.end(); }
  }
  const pool = new pg.Pool({
    connectionString: url,
    max: options.max ?? 10,
    ...(options.schema ? { options: `-c search_path="${options.schema}"` } : {}),
  });
  if (options.preparedStatements !== false) pool.on('connect', (client) => useNamedStatements(client));
  const db = new Kysely<Database>({ dialect: new OwnSchemaPostgresDialect({ pool }) });
  return { db, pool };
}

/** Tells whether a PostgreSQL server answers at `url` within `timeoutMs`. */
export async function postgresReachable(url: string, timeoutMs = 3000): Promise<boolean> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: timeoutMs });
  try {
    await client.connect();
    await client.query('select 1');
    return true;
  } catch {
    return false;
  } finally {
    await client.end().catch(() => {});
  }
}

export const defaultPostgresUrl = 'postgres://postgres@127.0.0.1:5432/test';
