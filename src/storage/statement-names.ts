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
 * no longer fit the old parameter types. Such a refusal renews every name (at most once per
 * `renewEveryMs`, so a statement that fails for its own reasons cannot keep the whole process
 * re-preparing), and every connection prepares each statement afresh.
 */
export interface StatementNamesOptions {
  /** Most SQL texts named. */
  readonly limit?: number;
  /** Statements with more parameters than this stay unnamed. */
  readonly maxParameters?: number;
  /** Shortest time between two renewals. */
  readonly renewEveryMs?: number;
  readonly now?: () => number;
}

export class StatementNames {
  readonly #names = new Map<string, number>();
  readonly #limit: number;
  readonly #maxParameters: number;
  readonly #renewEveryMs: number;
  readonly #now: () => number;
  #generation = 0;
  #renewedAt = -Infinity;

  constructor(options: StatementNamesOptions = {}) {
    this.#limit = options.limit ?? 128;
    this.#maxParameters = options.maxParameters ?? 64;
    this.#renewEveryMs = options.renewEveryMs ?? 1000;
    this.#now = options.now ?? Date.now;
  }

  /** Marks `sql`, which takes `parameters` values, as a hot-path statement (beyond the limits it stays unnamed). */
  register(sql: string, parameters: number): void {
    if (parameters > this.#maxParameters || this.#names.has(sql) || this.#names.size >= this.#limit) return;
    this.#names.set(sql, this.#names.size);
  }

  /** The name PostgreSQL knows `sql` by on every connection, or undefined for SQL run unnamed. */
  nameOf(sql: string): string | undefined {
    const n = this.#names.get(sql);
    return n === undefined ? undefined : `sy_${this.#generation}_${n}`;
  }

  /** Which set of names is current: a connection that prepared under an older one drops those first. */
  get generation(): number {
    return this.#generation;
  }

  /**
   * Forgets every statement prepared so far: the next run of each prepares it again under a new
   * name. Several refusals at once (every connection meets the same change) renew once.
   */
  renew(): void {
    const now = this.#now();
    if (now - this.#renewedAt < this.#renewEveryMs) return;
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
 * Whether `err` is one a statement prepared against an older shape of its tables can cause, so
 * that preparing it afresh may cure it: a changed result type, a parameter type that no longer
 * fits (out of range, mismatched), or a statement the connection no longer has (a pooler in front
 * that does not carry prepared statements from one server connection to another).
 */
export function mayBeStale(err: unknown): boolean {
  const e = err as { code?: unknown; message?: unknown } | null;
  switch (e?.code) {
    case '0A000': return typeof e.message === 'string' && e.message.includes('cached plan must not change result type');
    case '26000': // prepared statement does not exist
    case '42804': // datatype mismatch
    case '22003': // numeric value out of range
    case '22P02': // invalid text representation
      return true;
    default:
      return false;
  }
}
