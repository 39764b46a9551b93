import type { Clock } from '../runtime/clock.ts';
import type { ThrottleStore } from './store.ts';

export interface Throttle {
  /** Counts one call; refuses it when `limit` calls were already made within the rolling window. */
  take(key: string, limit: number, windowMs: number): Promise<{ allowed: true } | { allowed: false; retryAfterMs: number }>;
  /**
   * Whether `limit` hits were already recorded within the window, without recording one: for limits
   * on failures, where the attempt is checked first and only a failure is then counted with `take`.
   */
  check(key: string, limit: number, windowMs: number): Promise<{ allowed: true } | { allowed: false; retryAfterMs: number }>;
}

export function createThrottle(deps: { store: ThrottleStore; clock: Clock }): Throttle {
  return {
    async take(key, limit, windowMs) {
      const now = deps.clock.now();
      const r = await deps.store.hit(key, now, now - windowMs, limit);
      if (r.allowed) return { allowed: true };
      return { allowed: false, retryAfterMs: Math.max(0, (r.oldest ?? now) + windowMs - now) };
    },
    async check(key, limit, windowMs) {
      const now = deps.clock.now();
      const r = await deps.store.count(key, now - windowMs);
      if (r.count < limit) return { allowed: true };
      return { allowed: false, retryAfterMs: Math.max(0, (r.oldest ?? now) + windowMs - now) };
    },
  };
}
