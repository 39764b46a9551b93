import { AsyncLocalStorage } from 'node:async_hooks';
import { CompiledQuery, type ControlledTransaction, type Kysely, type Transaction } from 'kysely';
import { heldWritesCheck } from './postgres-pipeline.ts';
import { asUnitOfWork, insideUnitOfWork, type UnitMark } from './unit-scope.ts';
import type { Database } from './schema.ts';

/** One open database transaction, handed to every concern's writer that takes part in a change. */
export type Tx = Transaction<Database>;

/**
 * The unit of work: the only place a database transaction begins. A use case that changes several
 * concerns (a payment's intent, its card in the vault, its outbox event, its idempotency record)
 * asks for one transaction here and gives the same `tx` to each concern's writer, so they commit
 * together or not at all. Stores never open transactions of their own; they read through `db` and
 * write through the `tx` they are handed.
 *
 * Units of concurrent requests share a database commit (group commit): see `createUnitOfWork`.
 *
 * @example
 * await uow.run(async (tx) => { await payments.writer(tx).insertPayment(p); await outbox(tx).add(event); });
 */
export interface UnitOfWork {
  /** Reads outside any transaction. */
  readonly db: Kysely<Database>;
  readonly kind: 'sqlite' | 'postgres';
  /**
   * Runs `fn` in one transaction: everything written through `tx` commits together, or nothing
   * does. Resolves only once that commit is durable.
   */
  run<T>(fn: (tx: Tx) => Promise<T>, options?: RunOptions): Promise<T>;
  /**
   * Runs `fn` once the unit of work of `tx` has committed (never if it rolls back): in-process
   * wake-ups must not let a reader see the state before the commit.
   */
  afterCommit(tx: Tx, fn: () => void): void;
}

export interface RunOptions {
  /**
   * Time this unit may take beyond the deadline (`GroupCommitOptions.deadlineMs`): a unit whose work
   * grows with its input (a settlement report's lines, each posted and perhaps announced) asks for
   * it in proportion, so a large input is not given up at every try.
   */
  readonly allowanceMs?: number;
}

/**
 * Told what each unit of work and each database commit cost (the metrics of the composition root;
 * storage knows nothing of what listens).
 */
export interface UnitOfWorkObserver {
  /** One unit, from the call to its answer: queueing for a batch, its own statements, the shared commit. */
  unit(outcome: 'commit' | 'rollback', seconds: number): void;
  /** One committed database transaction: how many units it committed and how long it took, begin to durable commit. */
  batch(size: number, seconds: number): void;
  /** One flush of SQLite's write-ahead log, made off the event loop after a commit (never on PostgreSQL). */
  flush?(seconds: number): void;
  /** A PostgreSQL connection broke (a restart, a failover, a killed backend): the pool replaces it. */
  connectionLost?(err: Error): void;
}

export interface GroupCommitOptions {
  /** Database transactions that may be open at once: 1 for SQLite's single writer, a few on PostgreSQL. */
  lanes: number;
  /** Most units one transaction carries. */
  maxBatch: number;
  /**
   * Wait for the end of the current event-loop turn before opening a transaction, so the units
   * that requests reach in the same turn share it. For a store whose statements run on the event
   * loop (SQLite), a batch runs start to commit without yielding to I/O; without this wait every
   * batch would carry one unit.
   */
  gather: boolean;
  /**
   * A unit still running this long after it started is given up: it fails, its writes are rolled
   * back and its later statements refused, and the connection goes on to the units after it. A unit
   * is a few statements (it never waits on a PSP); one that runs on and on awaits something that
   * will not come, and would otherwise hold SQLite's one writer, or a PostgreSQL lane, for ever.
   * 0 or absent: no deadline.
   */
  deadlineMs?: number;
}

/** Why a unit failed when it ran past `GroupCommitOptions.deadlineMs`. */
export class UnitDeadlineError extends Error {
  constructor(ms: number) { super(`a unit of work ran past its ${ms} ms deadline and was rolled back`); }
}

/**
 * A batch's savepoint commands, written once: Kysely's savepoint builder compiled them anew for
 * every unit of every batch. The names are ours (`unit_0` …), so there is nothing to quote.
 */
const savepoints: { take: CompiledQuery; release: CompiledQuery; rollback: CompiledQuery }[] = [];
const heldCheck = CompiledQuery.raw(heldWritesCheck);
function savepointSql(i: number) {
  return savepoints[i] ??= {
    take: CompiledQuery.raw(`savepoint unit_${i}`),
    release: CompiledQuery.raw(`release savepoint unit_${i}`),
    rollback: CompiledQuery.raw(`rollback to savepoint unit_${i}`),
  };
}

interface Unit {
  fn: (tx: Tx) => Promise<unknown>;
  allowanceMs: number;
  /**
   * Runs code in the caller's async context: a batch runs from whichever caller started it, and
   * without this every unit would log (and put in its outbox events) that caller's request id and trace.
   */
  inCaller: <R>(fn: () => R) => R;
  resolve: (v: unknown) => void;
  reject: (e: unknown) => void;
  callbacks: (() => void)[];
  queuedAt: number;
  state: 'waiting' | 'done' | 'failed';
  answered?: boolean;
  value?: unknown;
  error?: unknown;
}

/**
 * Group commit. A unit that arrives while every lane is busy waits; when a lane frees, it takes
 * every waiting unit (up to `maxBatch`) into one database transaction, runs them one after another,
 * each inside its own savepoint, and commits once. So sixteen concurrent payments cost one fsync
 * instead of sixteen, and no unit is answered before the commit that holds its writes is durable.
 * A unit that throws is rolled back to its savepoint: the others in the batch still commit. A unit
 * alone in its batch needs no savepoint (its failure rolls back the whole transaction, which is its own).
 * Units run one at a time inside a batch because savepoints nest: two interleaved units could not be
 * undone separately. A unit never spans a PSP call (the write path's first rule), so a batch never
 * holds a lock while waiting on the network.
 */
export function createUnitOfWork(
  db: Kysely<Database>, kind: 'sqlite' | 'postgres', options: GroupCommitOptions, observer?: UnitOfWorkObserver,
): UnitOfWork {
  const callbacksOf = new WeakMap<Tx, (() => void)[]>();
  const queue: Unit[] = [];
  let active = 0;

  /** Answers a unit's caller. Nothing here may throw: the other units of the batch are answered after it. */
  const settle = (u: Unit) => {
    if (u.answered) return;
    u.answered = true;
    const seconds = (performance.now() - u.queuedAt) / 1000;
    try { observer?.unit(u.state === 'done' ? 'commit' : 'rollback', seconds); } catch { /* metrics never fail a payment */ }
    if (u.state !== 'done') { u.reject(u.error); return; }
    // As before group commit: a throwing callback fails its own caller (whose writes did commit), no one else.
    try {
      u.inCaller(() => { for (const cb of u.callbacks) cb(); });
    } catch (err) {
      u.reject(err);
      return;
    }
    u.resolve(u.value);
  };

  const fail = (u: Unit, err: unknown) => { u.state = 'failed'; u.error = err; };

  /** The unit's own work, or its deadline's refusal, whichever comes first. */
  function withinDeadline(u: Unit, tx: Tx): Promise<unknown> {
    const mark: UnitMark = { abandoned: false };
    const work = u.inCaller(() => asUnitOfWork(() => u.fn(tx), mark));
    if (!options.deadlineMs) return work;
    const ms = options.deadlineMs + u.allowanceMs;
    // A unit given up goes on running unheard: its late failure is nobody's to hear.
    work.catch(() => {});
    let timer: NodeJS.Timeout | undefined;
    const overdue = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        // Marked before anything else runs: from now on its statements are refused.
        mark.abandoned = true;
        callbacksOf.delete(tx);
        reject(new UnitDeadlineError(ms));
      }, ms);
    });
    return Promise.race([work, overdue]).finally(() => clearTimeout(timer));
  }

  async function runUnit(u: Unit, tx: Tx, shared: boolean): Promise<void> {
    callbacksOf.set(tx, u.callbacks);
    try {
      u.value = await withinDeadline(u, tx);
      // PostgreSQL may still be running writes of this unit that no one waited for
      // (storage/postgres-pipeline.ts): in a shared transaction their failure must be this unit's,
      // undone with its savepoint, not the next unit's. Alone, COMMIT checks them.
      if (shared && kind === 'postgres') await tx.executeQuery(heldCheck);
      u.state = 'done';
    } catch (err) {
      fail(u, err);
    } finally {
      callbacksOf.delete(tx);
    }
  }

  async function runBatch(batch: Unit[]): Promise<void> {
    const started = performance.now();
    let trx: ControlledTransaction<Database>;
    try {
      trx = await db.startTransaction().execute();
    } catch (err) {
      for (const u of batch) { fail(u, err); settle(u); }
      return;
    }
    let broken: unknown;
    let ran = 0;
    if (batch.length === 1) {
      await runUnit(batch[0]!, trx, false);
      ran = 1;
    } else {
      for (const [i, u] of batch.entries()) {
        const sp = savepointSql(i);
        try {
          await trx.executeQuery(sp.take);
        } catch (err) {
          broken = err;
          break;
        }
        ran = i + 1;
        try {
          // Each unit gets a transaction object of its own over the batch's connection (Kysely's
          // copy without plugins; there are none), so a callback that a finished unit registers
          // late is refused rather than attached to the unit after it.
          await runUnit(u, trx.withoutPlugins(), true);
          if (u.state === 'done') await trx.executeQuery(sp.release);
          else { await trx.executeQuery(sp.rollback); await trx.executeQuery(sp.release); }
        } catch (err) {
          // The savepoint commands themselves failed: the transaction is gone (the connection
          // broke, or SQLite rolled everything back on a full disk). Nothing here can commit.
          broken = err;
          break;
        }
      }
    }
    const done = batch.slice(0, ran).filter((u) => u.state === 'done');
    let committed = false;
    if (broken !== undefined) {
      await trx.rollback().execute().catch(() => {});
      for (const u of batch.slice(0, ran)) { if (u.state === 'done') fail(u, broken); }
      if (ran === 0) {
        // Not even the first savepoint could be taken: the store is failing now, and trying the
        // same units again at once would spin. They are refused, like a transaction that cannot begin.
        for (const u of batch) fail(u, broken);
        ran = batch.length;
      } else {
        // Units that never ran lost nothing: they go first into the next batch.
        queue.unshift(...batch.slice(ran));
      }
    } else if (done.length === 0) {
      await trx.rollback().execute().catch(() => {});
    } else {
      try {
        await trx.commit().execute();
        committed = true;
      } catch (err) {
        for (const u of done) fail(u, err);
        // A failed COMMIT (a full disk, a lost connection, a deferred constraint) can leave the
        // transaction open and its connection held: roll back, which always gives the connection
        // back (SQLite's one connection would otherwise stay taken for good).
        await trx.rollback().execute().catch(() => {});
      }
    }
    if (committed) {
      try { observer?.batch(done.length, (performance.now() - started) / 1000); } catch { /* metrics never fail a payment */ }
    }
    for (const u of batch.slice(0, ran)) settle(u);
  }

  let gathering = false;
  function pump(): void {
    if (options.gather) {
      if (gathering || active >= options.lanes) return;
      gathering = true;
      setImmediate(() => { gathering = false; start(); });
      return;
    }
    start();
  }

  function start(): void {
    while (active < options.lanes && queue.length > 0) {
      const batch = queue.splice(0, options.maxBatch);
      active++;
      void runBatch(batch)
        .catch((err: unknown) => {
          // A fault in this code itself: every unit of the batch still gets an answer, and since
          // whether its commit happened is not known here, that answer is an error, never a success.
          for (const u of batch) if (!u.answered) { fail(u, err); settle(u); }
        })
        .finally(() => { active--; pump(); });
    }
  }

  return {
    db, kind,
    run<T>(fn: (tx: Tx) => Promise<T>, runOptions?: RunOptions): Promise<T> {
      if (insideUnitOfWork()) return Promise.reject(new Error('uow.run inside a unit of work: hand the unit\'s tx to the writers instead'));
      return new Promise<T>((resolve, reject) => {
        queue.push({
          fn, allowanceMs: Math.max(0, runOptions?.allowanceMs ?? 0), inCaller: AsyncLocalStorage.snapshot(), resolve: resolve as (v: unknown) => void, reject, callbacks: [], queuedAt: performance.now(), state: 'waiting',
        });
        pump();
      });
    },
    afterCommit(tx, fn) {
      const list = callbacksOf.get(tx);
      if (!list) throw new Error('afterCommit outside a unit of work');
      list.push(fn);
    },
  };
}
