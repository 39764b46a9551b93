/**
 * The hot path's statements, kept parsed and planned by PostgreSQL.
 *
 * `pg` sends every query as an unnamed statement: PostgreSQL parses, analyses and plans its SQL
 * on every run. The statements `prepare` compiles are few and run on every payment, so each gets
 * a name here; a connection that runs a named statement for the first time prepares it (parse,
 * analyse, plan) and afterwards only binds values to it. Measured with one gateway process at 16
 * connections: 198–230 payments/s unnamed against 264–324 named, same sitting.
 *
 * Only SQL registered here is named, so what PostgreSQL keeps per connection is bounded by the
 * prepared queries of the code, never by ad-hoc queries (searches, lists of any length).
 *
 * A prepared statement that reads `*` keeps the columns the table had when it was prepared:
 * once a migration adds a column (a newer gateway upgrading the shared schema while this one still
 * runs), PostgreSQL refuses to run it ("cached plan must not change result type"). The first such
 * refusal starts a new generation of names, so every connection prepares each statement anew.
 */
export class StatementNames {
  readonly #names = new Map<string, number>();
  readonly #limit: number;
  #generation = 0;

  constructor(limit = 512) {
    this.#limit = limit;
  }

  /** Marks `sql` as a hot-path statement (beyond the limit, it stays unnamed). */
  register(sql: string): void {
    if (!this.#names.has(sql) && this.#names.size < this.#limit) this.#names.set(sql, this.#names.size);
  }

  /** The name PostgreSQL knows `sql` by on every connection, or undefined for SQL run unnamed. */
  nameOf(sql: string): string | undefined {
    const n = this.#names.get(sql);
    return n === undefined ? undefined : `sy_${this.#generation}_${n}`;
  }

  /** Forgets every statement prepared so far: the next run of each prepares it again under a new name. */
  renew(): void {
    this.#generation += 1;
  }

  get size(): number {
    return this.#names.size;
  }
}

/** One registry per process: the SQL of a prepared query is the same in every store of a dialect. */
export const hotStatements = new StatementNames();

/** PostgreSQL's refusal to run a statement prepared against an older shape of its tables. */
export function isStalePlan(err: unknown): boolean {
  const e = err as { code?: unknown; message?: unknown } | null;
  return e?.code === '0A000' && typeof e.message === 'string' && e.message.includes('cached plan must not change result type');
}
