import pg from 'pg';
import { once } from 'node:events';
import { parse as parseConnectionString } from 'pg-connection-string';
import { Kysely, PostgresDialect, type DatabaseIntrospector } from 'kysely';
import { closeWhenUnanswered, type BackendProbe, type StatementDeadline } from './postgres-deadline.ts';
import { holdBlindWrites, transactionEdge } from './postgres-pipeline.ts';
import { OwnSchemaIntrospector } from './schema-introspector.ts';
import { refuseIfAbandoned } from './unit-scope.ts';
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
 * Makes `pg` forget the statements it has prepared on `client`'s connection, as DEALLOCATE ALL
 * makes the server forget them. `pg` remembers each name it has parsed (so as not to parse it again)
 * and never lets go: a connection living for weeks through name renewals, up to one a second behind
 * a pooler that drops statements, would keep every older generation's names. Set before anything is
 * prepared under the new names, which the server runs after the DEALLOCATE; if that is refused, it is
 * sent again before the next named statement, so the server never holds a name the client forgot.
 */
function forgetPrepared(client: pg.ClientBase): void {
  const connection = (client as unknown as { connection?: { parsedStatements?: object; submittedNamedStatements?: object } }).connection;
  if (!connection) return;
  if (connection.parsedStatements) connection.parsedStatements = {};
  if (connection.submittedNamedStatements) connection.submittedNamedStatements = {};
}

/**
 * Makes `client` run the SQL `names` knows as named statements, which PostgreSQL parses and plans
 * once per connection. Anything else (cursors, callbacks, SQL not registered) goes through as it came.
 */
export function useNamedStatements(client: pg.ClientBase, names: StatementNames = hotStatements): void {
  const plain = client.query.bind(client) as unknown as Query;
  const run = plain as (config: string | pg.QueryConfig, values?: unknown[]) => Promise<pg.QueryResult>;
  // The generation whose statements this connection holds.
  let held = names.generation;
  // Whether what is sent now runs inside a transaction, as of the statements sent before it (the
  // server runs them in that order, answered or not).
  let inTransaction = false;
  // Not async up to the statement's send: on a pipelined connection (storage/postgres-pipeline.ts)
  // the next statement may be sent before this one is answered, so the DEALLOCATE and the named
  // statement after it go out back to back, before anything else is asked for.
  const runNamed = (text: string, values: unknown[]): Promise<pg.QueryResult> => {
    const generation = names.generation;
    let dropped: Promise<unknown> | undefined;
    if (generation !== held) {
      // Names were renewed: the statements this connection prepared under older ones would
      // otherwise stay in its server's memory for the connection's life. Not transactional.
      dropped = run('deallocate all');
      forgetPrepared(client);
      const before = held;
      held = generation;
      // Refused (an aborted transaction, in which the statement after it fails too), it is tried
      // again next time, before anything is prepared under the new names.
      dropped.catch(() => { if (held === generation) held = before; });
    }
    const first = run({ name: names.nameOf(text, generation)!, text, values });
    // Read below once the DEALLOCATE is answered; a failure that arrives first is not unhandled.
    first.catch(() => {});
    return settleNamed(first, dropped, text, values, inTransaction);
  };
  const settleNamed = async (first: Promise<pg.QueryResult>, dropped: Promise<unknown> | undefined, text: string, values: unknown[], inside: boolean) => {
    try {
      if (dropped) await dropped.catch(() => {});
      return await first;
    } catch (err) {
      const stale = staleness(err);
      if (stale === undefined) throw err;
      if (inside) {
        // PostgreSQL has failed the transaction, and the refusal is the answer: the unit rolls back.
        // Never tried again: on a pipelined connection the COMMIT or ROLLBACK that ends the
        // transaction may already be sent, and a second try would then run on its own, outside it.
        names.renew(stale === 'stale' ? 'stale' : 'unproven');
        throw err;
      }
      // Run once more unnamed, as it would have run before. A refused statement changed nothing,
      // so this never writes twice.
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
    const edge = typeof config === 'string' ? transactionEdge(config) : undefined;
    if (edge) inTransaction = edge === 'begin';
    const hot = typeof config === 'string' && Array.isArray(values) && callback === undefined && names.has(config);
    return hot ? runNamed(config as string, values as unknown[]) : plain(config, values, callback);
  };
  (client as unknown as { query: Query }).query = named;
}

/**
 * Refuses what a unit of work given up at its deadline still sends (storage/unit-scope.ts): its
 * transaction is rolled back and the connection may be another unit's by then.
 */
function refuseAbandonedUnits(client: pg.ClientBase): void {
  const query = client.query.bind(client) as unknown as Query;
  const guarded: Query = (config, values, callback) => {
    try {
      refuseIfAbandoned();
    } catch (err) {
      const told = typeof callback === 'function' ? callback : typeof values === 'function' ? values : undefined;
      if (!told) return Promise.reject(err);
      queueMicrotask(() => (told as (e: unknown) => void)(err));
      return undefined;
    }
    return query(config, values, callback);
  };
  (client as unknown as { query: Query }).query = guarded;
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
  /** Told when a connection breaks; the statement it was running fails on its own, the pool drops it. */
  connectionLost?: (err: Error) => void;
  /** A statement unanswered this long closes its connection (postgres-deadline.ts); read at each statement. */
  deadline?: StatementDeadline;
  /** The server ends a session left idle inside a transaction this long, and with it the transaction and its locks. */
  idleInTransactionMs?: number;
  /** A statement waiting this long for a lock (a row another client holds) fails: 0 or absent, it waits for ever. */
  lockTimeoutMs?: number;
}

/** How long a request waits for a connection (a new one, or one of a full pool's to come free). */
const connectionTimeoutMillis = 10_000;

/** The server refused a new connection for its limit (`too_many_connections`, a role's or database's `configuration_limit_exceeded`). */
const atServerLimit = (err: unknown) => ['53300', '53400'].includes(String((err as { code?: unknown }).code));

/**
 * A new connection the server refuses for its limit (other nodes and tools holding the rest) is no
 * reason to fail the request: the node's own connections, busy for milliseconds, come back to the
 * pool. pg's pool failed such a request at once (a payment answered 500 while its node held three
 * working connections); it now waits for one of its own to be released, as it waits when the pool
 * is full, no longer than the same bound, then fails as before.
 */
function waitForOwnConnectionsAtServerLimit(pool: pg.Pool): void {
  const connect = pool.connect.bind(pool) as () => Promise<pg.PoolClient>;
  const patient = async (): Promise<pg.PoolClient> => {
    const until = Date.now() + connectionTimeoutMillis;
    for (;;) {
      try {
        return await connect();
      } catch (err) {
        const left = until - Date.now();
        if (!atServerLimit(err) || left <= 0) throw err;
        // The next release (not a new try every few ms: each refused connection costs the server a process).
        const ac = new AbortController();
        const timer = setTimeout(() => ac.abort(), Math.min(left, 250));
        await once(pool, 'release', { signal: ac.signal }).catch(() => undefined);
        clearTimeout(timer);
      }
    }
  };
  // Kysely asks for connections without a callback; a caller passing one gets pg's own behaviour.
  pool.connect = ((cb?: unknown) => (cb === undefined ? patient() : (connect as (cb: unknown) => unknown)(cb))) as typeof pool.connect;
}

/** Connects to PostgreSQL. */
export async function openPostgres(url: string, options: PostgresOptions = {}): Promise<PostgresStore> {
  if (options.schema) {
    const admin = new pg.Client({ connectionString: url });
    await admin.connect();
    try { await admin.query(`CREATE SCHEMA IF NOT EXISTS "${options.schema}"`); } finally { await admin.end(); }
  }
  const session: string[] = [];
  if (options.schema) session.push(`-c search_path="${options.schema}"`);
  // A node cut off mid-transaction (its host hung, its packets dropped without a reset) gives up
  // its connection at the statement deadline, but the server hears nothing and would keep the
  // transaction, and every lock it holds, until TCP gives up: hours, during which every node's
  // units needing those rows or advisory locks wait, and periodic jobs whose rows it claimed are
  // skipped. No healthy unit sits idle in its transaction that long (units never wait on a PSP).
  if (options.idleInTransactionMs) session.push(`-c idle_in_transaction_session_timeout=${options.idleInTransactionMs}`);
  // A statement waits for a lock no longer than a unit of work may run. A unit given up at its
  // deadline is rolled back on its connection, behind the statement still waiting: with a lock
  // another client holds (an operator's SELECT ... FOR UPDATE left open in psql), its caller went
  // unanswered and its lane stayed taken until that client let go, and six such units stopped every
  // write of the node. The statement deadline does not end such a wait: the server answers that the
  // backend is busy waiting, which is the server working, not gone.
  if (options.lockTimeoutMs) session.push(`-c lock_timeout=${options.lockTimeoutMs}`);
  const pool = new pg.Pool({
    // Sends a query while earlier ones are unanswered: what lets held writes go out together.
    pipeline: true,
    max: options.max ?? 10,
    // A connection that dies unannounced (a failover, a dropped NAT entry, a host gone) is found by
    // TCP's probes once idle for 10 s, not by a unit of work that would otherwise wait on it for
    // as long as the kernel keeps retrying (minutes).
    keepAlive: true,
    keepAliveInitialDelayMillis: 10_000,
    // A new connection to an address that never answers (a hung host, a failover half done), or a
    // wait for a free one that long, fails the unit of work instead of holding it and its request
    // for ever: ten such waits would leave the node unable to serve anyone.
    connectionTimeoutMillis,
    ...withSessionOptions(url, session),
  });
  waitForOwnConnectionsAtServerLimit(pool);
  // A broken connection (the server restarted, failed over, or ended the backend) is reported by
  // an 'error' event on the pool (an idle one) or on the client (one in use); unheard, Node ends the
  // process, and with it every request in flight. Heard, the pool drops the connection and opens a
  // new one for the next statement, and `/ready` says what the database says meanwhile.
  const lost = (err: Error) => options.connectionLost?.(err);
  pool.on('error', lost);
  // The deadline innermost, so it times what was sent, not a write held until the next statement;
  // named statements next, so that held writes (laid over them) are named too.
  pool.on('connect', (client) => {
    client.on('error', lost);
    if (options.deadline) closeWhenUnanswered(client, options.deadline, probeAt(url));
    if (options.preparedStatements !== false) useNamedStatements(client);
    holdBlindWrites(client);
    refuseAbandonedUnits(client);
  });
  const db = new Kysely<Database>({ dialect: new OwnSchemaPostgresDialect({ pool }) });
  return { db, pool };
}

/**
 * The URL's connection settings, read as pg reads them, with these session settings after the
 * `options` the URL may carry itself (a later `-c` of the same setting wins, so ours does). Given
 * to the pool as settings, not written back into a URL: pg re-encodes a URL holding a bare `%` (a
 * password's) before reading it, which would mangle an escaped `=` in the options, and lets a URL's
 * `options` replace the pool's.
 */
export function withSessionOptions(url: string, settings: readonly string[]): pg.PoolConfig {
  const parsed = parseConnectionString(url);
  const options = [parsed.options, ...settings].filter((x) => x).join(' ');
  return { ...parsed, ...(options ? { options } : {}) } as pg.PoolConfig;
}

/**
 * Asks the server at `url`, on a connection of its own, whether a backend is working on a statement
 * (running it, or waiting for a lock): what tells a slow statement from a server that went silent.
 * The same role sees its own backends in `pg_stat_activity`.
 */
function probeAt(url: string): BackendProbe {
  return async (pid, timeoutMs) => {
    const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: timeoutMs, query_timeout: timeoutMs });
    client.on('error', () => {});
    try {
      await client.connect();
      const r = await client.query<{ state: string | null }>('select state from pg_stat_activity where pid = $1', [pid]);
      return r.rows[0]?.state === 'active';
    } catch {
      return false;
    } finally {
      // A server that did not answer may not answer the goodbye either: the socket goes regardless.
      const ended = client.end().catch(() => {});
      await Promise.race([ended, new Promise((r) => setTimeout(r, timeoutMs).unref())]);
      (client as unknown as { connection?: { stream?: { destroy(): void } } }).connection?.stream?.destroy();
    }
  };
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
