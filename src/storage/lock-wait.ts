import { AsyncLocalStorage } from 'node:async_hooks';

/**
 * How long a background pass (a periodic job, and what it starts) waits for a payment's row lock.
 *
 * A request waits for a payment's lock up to its unit's deadline: another request holds it for
 * milliseconds, and the caller is owed an answer. A pass goes through many payments one after
 * another; a row held for long (an operator's `SELECT ... FOR UPDATE` left open in psql, a stuck
 * client) would hold every payment after it for a whole deadline, on every pass. Within a pass the
 * wait is bounded: such a payment's unit fails, the pass goes on with the others and tries it
 * again next time.
 */
const scope = new AsyncLocalStorage<number>();

/** Longest wait, in ms, for a payment's lock in a background pass. */
export const backgroundLockWaitMs = 2_000;

/** Runs `fn` as a background pass: payments' locks are waited for at most `backgroundLockWaitMs`. */
export const asBackgroundPass = <R>(fn: () => R): R => scope.run(backgroundLockWaitMs, fn);

/** The bound on a lock wait here, or undefined for a request's own (up to its unit's deadline). */
export const lockWaitBound = (): number | undefined => scope.getStore();
