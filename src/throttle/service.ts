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
}

export function createThrottle(deps: { store: ThrottleStore; clock: Clock }): Throttle {
  return {
    async take(key, limit, windowMs) {
      const now = deps.clock.now();
      const r = await deps.store.hit(key, now, now - windowMs, limit);
      if (r.allowed) return { allowed: true, at: now };
      return { allowed: false, retryAfterMs: Math.max(0, (r.oldest ?? now) + windowMs - now) };
    },
    giveBack: (key, at) => deps.store.unhit(key, at),
  };
}
