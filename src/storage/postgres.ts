import pg from 'pg';
import { Kysely, PostgresDialect, type DatabaseIntrospector } from 'kysely';
import { OwnSchemaIntrospector } from './schema-introspector.ts';
import { hotStatements, isStalePlan, type StatementNames } from './statement-names.ts';
import type { Database } from './schema.ts';

// bigint columns hold epoch milliseconds and minor units, all far below 2^53.
pg.types.setTypeParser(20, (v) => Number(v));

/** PostgreSQL as Kysely speaks it, except that the migrator looks only at the store's own schema. */
class OwnSchemaPostgresDialect extends PostgresDialect {
  override createIntrospector(db: Kysely<any>): DatabaseIntrospector {
    return new OwnSchemaIntrospector(db);
  }
}

type Query = (config: string | pg.QueryConfig, values?: unknown[]) => Promise<pg.QueryResult>;

/**
 * Makes `client` run the SQL `names` knows as named statements, which PostgreSQL parses and plans
 * once per connection. Anything else (cursors, SQL not registered) goes through as it came.
 */
export function useNamedStatements(client: pg.ClientBase, names: StatementNames = hotStatements): void {
  const plain = client.query.bind(client) as unknown as Query;
  const runNamed = async (name: string, text: string, values: unknown[]) => {
    try {
      return await plain({ name, text, values });
    } catch (err) {
      if (!isStalePlan(err)) throw err;
      // A table's columns changed under the prepared statement: every name is renewed. Outside a
      // transaction the statement can simply run again; inside one, PostgreSQL has already failed
      // the transaction, so the second try fails and the first refusal is the answer.
      names.renew();
      try { return await plain(text, values); } catch { throw err; }
    }
  };
  // Not async: a cursor passed in must come back as itself, not wrapped in a promise.
  const named: Query = (config, values) => {
    const name = typeof config === 'string' && Array.isArray(values) ? names.nameOf(config) : undefined;
    return name === undefined ? plain(config, values) : runNamed(name, config as string, values!);
  };
  (client as unknown as { query: Query }).query = named;
}

export interface PostgresStore {
  db: Kysely<Database>;
  pool: pg.Pool;
}

/** Connects to PostgreSQL; `schema`, when given, is created and made the search path (tests use one each). */
export async function openPostgres(url: string, options: { schema?: string; max?: number } = {}): Promise<PostgresStore> {
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
  pool.on('connect', (client) => useNamedStatements(client));
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
