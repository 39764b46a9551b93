import { createQueryId, PostgresAdapter, type Compilable, type CompiledQuery, type Kysely, type QueryResult } from 'kysely';
import { aheadAnswer, aheadMark, laterMark } from './postgres-pipeline.ts';
import { hotStatements } from './statement-names.ts';

/**
 * Hot-path queries compiled once and run many times with new values.
 *
 * Building a Kysely query and compiling it to SQL costs as much CPU as SQLite spends running a
 * short statement, and a payment runs about twenty of them whose SQL never changes between
 * payments. `prepare` runs the builder once per shape of its parameters, with a placeholder in
 * place of every value, notes which parameter slot of the compiled query each placeholder went to,
 * and later fills those slots with the values of each call.
 *
 * What may vary between calls without a new compilation is values only. The shape of the
 * parameters — which keys are present (an `undefined` one counts as absent, as Kysely leaves such
 * a column out), which values are null, true or false (the builder sees those as they are: Kysely
 * may write `is null` for them), and the length of every array — selects a compiled
 * query of its own, so a query whose SQL depends on them is never reused for another shape.
 * The builder sees placeholders, never values: it must not branch on them. Anything that changes
 * the SQL by value (`is null` against `= ?`, `for update` on one store only) is a separate prepared
 * query, chosen by the caller. Placeholders that do not end up as bound parameters, or end up on
 * the right of `is`, are refused when the query is compiled.
 *
 * @example
 * const byId = prepare(db, (q, p: { id: string }) => q.selectFrom('payments').selectAll().where('id', '=', p.id));
 * const row = await byId.first(tx, { id });
 */

/** What a prepared query runs on: the store's `db`, or a unit of work's `tx` opened over it. */
export interface QueryRunner {
  executeQuery<R>(query: CompiledQuery<R>): Promise<QueryResult<R>>;
}

/** A value bound as one parameter. */
export type Bindable = string | number | bigint | boolean | null | Uint8Array;

/** Parameters: bindable values, possibly nested in plain objects and arrays (the rows of a multi-row insert). */
export type Params = { readonly [key: string]: Bindable | Params | readonly Params[] | readonly Bindable[] | undefined };

export interface Prepared<P extends Params, O> {
  /** The rows a select (or a write's `returning`) gives. */
  rows(on: QueryRunner, params: P): Promise<O[]>;
  first(on: QueryRunner, params: P): Promise<O | undefined>;
  /** How many rows a write inserted, updated or deleted. */
  affected(on: QueryRunner, params: P): Promise<number>;
  /**
   * A write whose answer nobody reads. On PostgreSQL, inside a transaction, it resolves at once and
   * its answer is checked with the next statement that is read, or at COMMIT
   * (storage/postgres-pipeline.ts): its failure then fails that statement or the commit, never
   * the caller here. So only for a write nothing decides on: no count read, no error caught.
   */
  later(on: QueryRunner, params: P): Promise<void>;
  /**
   * Sends the read and gives its rows later: on PostgreSQL inside a transaction the statement the
   * caller sends next goes out before this one is answered, one round trip for both (they still run
   * in order, see `aheadMark`). Elsewhere it runs at once.
   */
  ahead(on: QueryRunner, params: P): Promise<() => Promise<O[]>>;
  /** The SQL compiled for these parameters' shape (tests, diagnostics). */
  sqlFor(params: P): string;
  /** How many shapes have been compiled so far. */
  readonly shapes: number;
}

/** Stands for one parameter value while the builder runs; never reaches the database. */
class Placeholder {
  readonly index: number;
  constructor(index: number) { this.index = index; }
  // Turning a placeholder into text or a number (a template string, a comparison, `sql.raw`) would
  // bake the compile-time stand-in into the SQL: refused at once.
  [Symbol.toPrimitive](): never { throw new TypeError('a prepared query\'s builder used a parameter as a value; it may only place it in the query'); }
  toString(): never { return this[Symbol.toPrimitive](); }
  toJSON(): never { return this[Symbol.toPrimitive](); }
}

const isBindable = (v: unknown): v is Bindable =>
  v === null || typeof v === 'string' || typeof v === 'number' || typeof v === 'bigint' || typeof v === 'boolean' || v instanceof Uint8Array;

const isPlainObject = (v: unknown): v is Record<string, unknown> => {
  if (typeof v !== 'object' || v === null) return false;
  const proto = Object.getPrototypeOf(v) as unknown;
  return proto === Object.prototype || proto === null;
};

/**
 * The shape of parameters: all a builder can see of them. Values are leaves; an object's keys are
 * kept in order, with those whose value is undefined marked absent; an array keeps its length.
 */
type Shape =
  | { readonly kind: 'value' }
  | { readonly kind: 'const'; readonly value: null | boolean }
  | { readonly kind: 'list'; readonly items: readonly Shape[] }
  | { readonly kind: 'record'; readonly keys: readonly string[]; readonly items: readonly (Shape | undefined)[] };

const valueShape: Shape = { kind: 'value' };

/** The shape of `v`, and stand-ins for the builder: the same structure with a placeholder for every value, numbered in `matches` order. */
function shapeOf(v: unknown, next: { n: number }): { shape: Shape; standIn: unknown } {
  // Kysely writes SQL that depends on these values themselves (an object filter gives `is null`
  // or `is true` where a placeholder gives `= ?`), so each is part of the shape and the builder
  // sees the real value.
  if (v === null || typeof v === 'boolean') return { shape: { kind: 'const', value: v }, standIn: v };
  if (isBindable(v)) return { shape: valueShape, standIn: new Placeholder(next.n++) };
  if (Array.isArray(v)) {
    const parts = v.map((item) => shapeOf(item, next));
    return { shape: { kind: 'list', items: parts.map((x) => x.shape) }, standIn: parts.map((x) => x.standIn) };
  }
  if (isPlainObject(v)) {
    const keys = Object.keys(v);
    const standIn: Record<string, unknown> = {};
    const items = keys.map((key) => {
      if (v[key] === undefined) { standIn[key] = undefined; return undefined; }
      const part = shapeOf(v[key], next);
      standIn[key] = part.standIn;
      return part.shape;
    });
    return { shape: { kind: 'record', keys, items }, standIn };
  }
  throw new TypeError(`a prepared query's parameter must be a string, number, bigint, boolean, null, bytes, or a plain object or array of those; got ${Object.prototype.toString.call(v)}`);
}

/**
 * Whether `v` has exactly this shape; if so its values are appended to `values` in the order
 * `shapeOf` numbered the placeholders. Runs on every call: no strings built, nothing hashed.
 */
function matches(v: unknown, shape: Shape, values: unknown[]): boolean {
  switch (shape.kind) {
    case 'const':
      return v === shape.value;
    case 'value':
      if (!isBindable(v) || v === null || typeof v === 'boolean') return false;
      values.push(v);
      return true;
    case 'list': {
      if (!Array.isArray(v) || v.length !== shape.items.length) return false;
      for (let i = 0; i < v.length; i++) if (!matches(v[i], shape.items[i]!, values)) return false;
      return true;
    }
    case 'record': {
      if (!isPlainObject(v)) return false;
      const keys = Object.keys(v);
      if (keys.length !== shape.keys.length) return false;
      for (let i = 0; i < keys.length; i++) {
        const key = keys[i]!;
        if (key !== shape.keys[i]) return false;
        const item = v[key];
        const itemShape = shape.items[i];
        if (item === undefined || itemShape === undefined) {
          if (item !== itemShape) return false;
        } else if (!matches(item, itemShape, values)) {
          return false;
        }
      }
      return true;
    }
  }
}

/** Whether any `x is ?` / `x is not ?` in the query tree compares with a placeholder (SQL whose meaning depends on the value). */
function placeholderAfterIs(node: unknown, seen = new Set<unknown>()): boolean {
  if (typeof node !== 'object' || node === null || seen.has(node) || node instanceof Placeholder) return false;
  seen.add(node);
  const n = node as { kind?: string; operator?: { operator?: string }; rightOperand?: { kind?: string; value?: unknown } };
  if (n.kind === 'BinaryOperationNode' && (n.operator?.operator === 'is' || n.operator?.operator === 'is not')
    && n.rightOperand?.kind === 'ValueNode' && n.rightOperand.value instanceof Placeholder) return true;
  for (const child of Object.values(node)) if (placeholderAfterIs(child, seen)) return true;
  return false;
}

interface Compiled {
  readonly shape: Shape;
  readonly query: CompiledQuery;
  /** For each parameter of the SQL: the index of the call's value it takes, or -1 for a constant of the builder's. */
  readonly slots: readonly number[];
}

/** Shapes kept per prepared query: a query whose shape keeps changing (bulk inserts of any size) compiles the rest each time. */
const maxShapes = 64;

/**
 * Prepares a query over `db`. The builder is called with `db` and stand-ins for the parameters;
 * the result runs on `db` or on any transaction of it (same dialect, so the same SQL).
 */
export function prepare<DB, P extends Params, O>(db: Kysely<DB>, build: (q: Kysely<DB>, p: P) => Compilable<O>): Prepared<P, O> {
  // Most queries have one shape, a few two or three: looked through in order, most used first.
  const compiledShapes: Compiled[] = [];

  function compile(params: P): Compiled {
    const next = { n: 0 };
    const { shape, standIn } = shapeOf(params, next);
    const count = next.n;
    const query = build(db, standIn as P).compile() as CompiledQuery;
    const used = new Set<number>();
    const slots = query.parameters.map((v) => {
      if (!(v instanceof Placeholder)) return -1;
      used.add(v.index);
      return v.index;
    });
    if (used.size !== count) {
      throw new Error(`prepared query: ${count - used.size} of ${count} parameters are not bound as values (the builder must place every parameter, and only as a value): ${query.sql}`);
    }
    if (placeholderAfterIs(query.query)) {
      throw new Error(`prepared query: a parameter on the right of "is": its SQL would depend on the value; prepare one query per case: ${query.sql}`);
    }
    return { shape, query, slots };
  }

  function bind(params: P, mark = ''): CompiledQuery<O> {
    const values: unknown[] = [];
    let compiled: Compiled | undefined;
    for (let i = 0; i < compiledShapes.length; i++) {
      if (matches(params, compiledShapes[i]!.shape, values)) {
        compiled = compiledShapes[i]!;
        if (i > 0) { compiledShapes.splice(i, 1); compiledShapes.unshift(compiled); }
        break;
      }
      values.length = 0;
    }
    if (!compiled) {
      compiled = compile(params);
      if (compiledShapes.length < maxShapes) {
        compiledShapes.unshift(compiled);
        // Kept, so run again and again: PostgreSQL may keep it planned too.
        hotStatements.register(compiled.query.sql, compiled.query.parameters.length);
      }
      if (!matches(params, compiled.shape, values)) throw new Error('unreachable: parameters do not match their own shape');
    }
    const { query, slots } = compiled;
    const parameters = new Array<unknown>(slots.length);
    for (let i = 0; i < slots.length; i++) {
      const slot = slots[i]!;
      parameters[i] = slot < 0 ? query.parameters[i] : values[slot];
    }
    return { sql: mark ? mark + query.sql : query.sql, query: query.query, parameters, queryId: createQueryId() };
  }

  // Marked for the PostgreSQL connection that holds such writes; SQLite runs each at once anyway.
  const holds = db.getExecutor().adapter instanceof PostgresAdapter;
  return {
    async rows(on, params) { return (await on.executeQuery(bind(params))).rows; },
    async later(on, params) { await on.executeQuery(bind(params, holds ? laterMark : '')); },
    async ahead(on, params) {
      const rows = (await on.executeQuery(bind(params, holds ? aheadMark : ''))).rows;
      const first = rows[0] as { [aheadAnswer]?: Promise<{ rows: O[] }> } | undefined;
      const pending = first?.[aheadAnswer];
      if (pending) return async () => (await pending).rows;
      // A row without a column can only be the placeholder stripped of its promise (a plugin that
      // copies rows would do it): never taken for the answer.
      if (holds && rows.length === 1 && Object.keys(first!).length === 0) throw new Error('the answer of a read sent ahead was lost on its way through Kysely');
      // Answered already: SQLite, a connection outside a transaction, or one without the pipeline.
      return async () => rows;
    },
    async first(on, params) { return (await on.executeQuery(bind(params))).rows[0]; },
    async affected(on, params) { return Number((await on.executeQuery(bind(params))).numAffectedRows ?? 0n); },
    sqlFor: (params) => bind(params).sql,
    get shapes() { return compiledShapes.length; },
  };
}
