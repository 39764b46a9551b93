import { AsyncLocalStorage } from 'node:async_hooks';

/**
 * Whether the code running now is a unit of work's own (inside the function given to `uow.run`).
 * Two things are never done there, and each would otherwise hang silently rather than fail: a
 * nested `uow.run` (on SQLite it queues behind the unit that waits for it, holding the one writer;
 * on PostgreSQL it is not atomic with the unit and may wait on the unit's own row locks), and, on
 * SQLite, a read through `db` (it waits for the one connection, which the unit's transaction
 * holds). Both are refused at once, naming the mistake.
 */
const scope = new AsyncLocalStorage<true>();

export const insideUnitOfWork = (): boolean => scope.getStore() === true;

/** Runs a unit's own function marked as such (a background promise it starts is marked too). */
export const asUnitOfWork = <R>(fn: () => R): R => scope.run(true, fn);
