import { AsyncLocalStorage } from 'node:async_hooks';

/**
 * Whether the code running now is a unit of work's own (inside the function given to `uow.run`).
 * Two things are never done there, and each would otherwise hang silently rather than fail: a
 * nested `uow.run` (on SQLite it queues behind the unit that waits for it, holding the one writer;
 * on PostgreSQL it is not atomic with the unit and may wait on the unit's own row locks), and, on
 * SQLite, a read through `db` (it waits for the one connection, which the unit's transaction
 * holds). Both are refused at once, naming the mistake.
 */
const scope = new AsyncLocalStorage<UnitMark>();

/** One running unit's mark; `abandoned` once the unit of work gave it up at its deadline. */
export interface UnitMark { abandoned: boolean }

export const insideUnitOfWork = (): boolean => scope.getStore() !== undefined;

/** Runs a unit's own function marked as such (a background promise it starts is marked too). */
export const asUnitOfWork = <R>(fn: () => R, mark: UnitMark = { abandoned: false }): R => scope.run(mark, fn);

/**
 * Refuses a statement of a unit given up at its deadline. Its transaction (or savepoint) is rolled
 * back and the connection serves the units after it; a statement the late unit sent now would run
 * inside theirs.
 */
export function refuseIfAbandoned(): void {
  if (scope.getStore()?.abandoned) throw new UnitAbandonedError();
}

export class UnitAbandonedError extends Error {
  constructor() { super('this unit of work ran past its deadline and was rolled back: nothing more is written or read for it'); }
}
