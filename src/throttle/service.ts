import type { Clock } from '../runtime/clock.ts';
import type { ThrottleStore } from './store.ts';

export interface Throttle {
  /** Counts one call (at `at`); refuses it when `limit` calls were already made within the rolling window. */
  take(key: string, limit: number, windowMs: number): Promise<{ allowed: true; at: number } | { allowed: false; retryAfterMs: number }>;
  /**
   * Takes back the call `take` counted at `at`: for limits on failures, where every try is counted
   * before it is checked (so tries made at once count against one another) and one that proves not
   * to be a failure is taken back.
   */
  giveBack(key: string, at: number): Promise<void>;
  /**
   * Forgets hits older than the longest window: a key is otherwise swept only when it is counted
   * again, and most keys (a source address that tried a password, a payment whose status was read)
   * never are, so the table would grow with every one there ever was.
   */
  purge(): Promise<number>;
}

/**
 * The longest window any limit may count over (the longest in use is a COPYandPAY checkout's half
 * hour of declines): the purge keeps no hit older.
 */
export const longestWindowMs = 60 * 60_000;

export function createThrottle(deps: { store: ThrottleStore; clock: Clock }): Throttle {
  return {
    async take(key, limit, windowMs) {
      // A longer window would see its hits purged while they still count.
      if (windowMs > longestWindowMs) throw new Error(`a rate-limit window of ${windowMs} ms is longer than the longest the purge keeps (${longestWindowMs} ms)`);
      const now = deps.clock.now();
      const r = await deps.store.hit(key, now, now - windowMs, limit);
      if (r.allowed) return { allowed: true, at: now };
      return { allowed: false, retryAfterMs: Math.max(0, (r.oldest ?? now) + windowMs - now) };
    },
    giveBack: (key, at) => deps.store.unhit(key, at),
    purge: () => deps.store.purge(deps.clock.now() - longestWindowMs),
  };
}
