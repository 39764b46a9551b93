import type { Kysely, Transaction } from 'kysely';
import type { Database } from './schema.ts';

/** One open database transaction, handed to every concern's writer that takes part in a change. */
export type Tx = Transaction<Database>;

/**
 * The unit of work: the only place a database transaction begins. A use case that changes several
 * concerns (a payment's intent, its card in the vault, its outbox event, its idempotency record)
 * asks for one transaction here and gives the same `tx` to each concern's writer, so they commit
 * together or not at all. Stores never open transactions of their own; they read through `db` and
 * write through the `tx` they are handed. This is also the seam where group commit batches the
 * units of concurrent requests into one database commit.
 *
 * @example
 * await uow.run(async (tx) => { await payments.writer(tx).insertPayment(p); await outbox(tx).add(event); });
 */
export interface UnitOfWork {
  /** Reads outside any transaction. */
  readonly db: Kysely<Database>;
  readonly kind: 'sqlite' | 'postgres';
  /** Runs `fn` in one transaction: everything written through `tx` commits together, or nothing does. */
  run<T>(fn: (tx: Tx) => Promise<T>): Promise<T>;
  /**
   * Runs `fn` once the unit of work of `tx` has committed (never if it rolls back): in-process
   * wake-ups must not let a reader see the state before the commit.
   */
  afterCommit(tx: Tx, fn: () => void): void;
}

/**
 * Told how long each unit of work took, begin to commit or rollback (the metrics of the composition
 * root; storage knows nothing of what listens).
 */
export type UnitOfWorkObserver = (outcome: 'commit' | 'rollback', seconds: number) => void;

export function createUnitOfWork(db: Kysely<Database>, kind: 'sqlite' | 'postgres', observer?: UnitOfWorkObserver): UnitOfWork {
  const pending = new WeakMap<Tx, (() => void)[]>();
  return {
    db, kind,
    async run(fn) {
      let callbacks: (() => void)[] = [];
      const started = observer ? performance.now() : 0;
      let result: Awaited<ReturnType<typeof fn>>;
      try {
        result = await db.transaction().execute((tx) => {
          pending.set(tx, callbacks);
          return fn(tx).finally(() => { callbacks = pending.get(tx) ?? []; pending.delete(tx); });
        });
      } catch (err) {
        observer?.('rollback', (performance.now() - started) / 1000);
        throw err;
      }
      observer?.('commit', (performance.now() - started) / 1000);
      for (const cb of callbacks) cb();
      return result;
    },
    afterCommit(tx, fn) {
      const list = pending.get(tx);
      if (!list) throw new Error('afterCommit outside a unit of work');
      list.push(fn);
    },
  };
}
