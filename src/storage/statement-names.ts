/**
 * The hot path's statements, kept parsed and planned by PostgreSQL.
 *
 * `pg` sends every query as an unnamed statement: PostgreSQL parses, analyses and plans its SQL
 * on every run. The statements `prepare` compiles are few and run on every payment, so each gets
 * a name here; a connection that runs a named statement for the first time prepares it (parse,
 * analyse, plan) and afterwards only binds values to it. Measured with one gateway process at 16
 * connections, alternated in one sitting: 195/220/243 payments/s unnamed against 347/282/252 named.
 *
 * What PostgreSQL keeps per connection is bounded: only SQL registered here is named (never ad-hoc
 * queries such as searches or lists of any length), at most `limit` texts, each with at most
 * `maxParameters` parameters (a bulk insert of a thousand rows, prepared, holds megabytes of
 * server memory for the connection's life; run unnamed, it holds them only while it runs).
 *
 * A prepared statement keeps what it learned at preparation: the columns of a `select *`, the
 * types of its parameters. When a newer gateway changes a table under it (a rolling upgrade over
 * one schema), PostgreSQL refuses it ("cached plan must not change result type"), or its values
 * no longer fit the old parameter types. Such a refusal renews every name, and every connection
 * prepares each statement afresh. A refusal that only a stale statement gives (a changed result
 * type, a statement the connection lost, a type mismatch), or one that the same SQL run unnamed
 * does not repeat, renews at most once per `renewEveryMs`. A bad value gives the same errors as an
 * old parameter type (out of range, not a number); when that cannot be told apart (inside a
 * transaction, which the refusal aborted) it renews at most once per `unprovenRenewEveryMs`, so
 * a statement failing for its own reasons cannot keep the process re-preparing.
 */
export interface StatementNamesOptions {
  /** Most SQL texts named. */
  readonly limit?: number;
  /** Statements with more parameters than this stay unnamed. */
  readonly maxParameters?: number;
  /** Shortest time between two renewals. */
  readonly renewEveryMs?: number;
  /** Shortest time between two renewals on an error a bad value could have caused as well. */
  readonly unprovenRenewEveryMs?: number;
  readonly now?: () => number;
}

export class StatementNames {
  readonly #names = new Map<string, number>();
  readonly #limit: number;
  readonly #maxParameters: number;
  readonly #renewEveryMs: number;
  readonly #unprovenRenewEveryMs: number;
  readonly #now: () => number;
  #generation = 0;
  #renewedAt = -Infinity;

  constructor(options: StatementNamesOptions = {}) {
    this.#limit = options.limit ?? 128;
    this.#maxParameters = options.maxParameters ?? 64;
    this.#renewEveryMs = options.renewEveryMs ?? 1000;
    this.#unprovenRenewEveryMs = options.unprovenRenewEveryMs ?? 60_000;
    this.#now = options.now ?? Date.now;
  }

  /** Marks `sql`, which takes `parameters` values, as a hot-path statement (beyond the limits it stays unnamed). */
  register(sql: string, parameters: number): void {
    if (parameters > this.#maxParameters || this.#names.has(sql) || this.#names.size >= this.#limit) return;
    this.#names.set(sql, this.#names.size);
  }

  /** Whether `sql` runs as a named statement. */
  has(sql: string): boolean {
    return this.#names.has(sql);
  }

  /** The name PostgreSQL knows `sql` by under `generation` (the current one by default), or undefined for SQL run unnamed. */
  nameOf(sql: string, generation = this.#generation): string | undefined {
    const n = this.#names.get(sql);
    return n === undefined ? undefined : `sy_${generation}_${n}`;
  }

  /** Which set of names is current: a connection that prepared under an older one drops those first. */
  get generation(): number {
    return this.#generation;
  }

  /**
   * Forgets every statement prepared so far: the next run of each prepares it again under a new
   * name. Several refusals at once (every connection meets the same change) renew once.
   */
  renew(proof: 'stale' | 'unproven' = 'stale'): void {
    const now = this.#now();
    if (now - this.#renewedAt < (proof === 'stale' ? this.#renewEveryMs : this.#unprovenRenewEveryMs)) return;
    this.#renewedAt = now;
    this.#generation += 1;
  }

  get size(): number {
    return this.#names.size;
  }
}

/** One registry per process: the SQL of a prepared query is the same in every store of a dialect. */
export const hotStatements = new StatementNames();

/**
 * What `err` says of a named statement: `stale`, an error only a statement prepared against an
 * older shape of its tables gives (a changed result type; a statement the connection no longer
 * has, as behind a pooler that does not carry prepared statements between server connections; a
 * parameter type that no longer matches); `maybe`, one a bad value gives as well (out of range,
 * not a number); undefined, anything else.
 */
export function staleness(err: unknown): 'stale' | 'maybe' | undefined {
  const e = err as { code?: unknown; message?: unknown } | null;
  switch (e?.code) {
    case '0A000': return typeof e.message === 'string' && e.message.includes('cached plan must not change result type') ? 'stale' : undefined;
    case '26000': // prepared statement does not exist
    case '42804': // datatype mismatch
      return 'stale';
    case '22003': // numeric value out of range
    case '22P02': // invalid text representation
      return 'maybe';
    default:
      return undefined;
  }
}
