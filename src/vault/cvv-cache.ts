import type { Clock } from '../runtime/clock.ts';
import type { Cvv } from './card.ts';

/**
 * The only place a CVV waits between a payment's start and its authorization (after a 3-D Secure
 * challenge): process memory, one use, a short life. Never written to any store, so after a
 * restart it is gone and the authorization goes ahead without it.
 */
export interface CvvCache {
  put(key: string, cvv: Cvv, expiresAt: number): void;
  /** Returns the CVV once and forgets it; undefined when absent or expired. */
  take(key: string): Cvv | undefined;
  drop(key: string): void;
  /** Whether a live (unexpired) CVV is held for the key, without taking it. */
  has(key: string): boolean;
  readonly size: number;
}

export function createCvvCache(clock: Clock, maxEntries = 100_000): CvvCache {
  const entries = new Map<string, { cvv: Cvv; expiresAt: number }>();
  function prune() {
    const now = clock.now();
    for (const [k, e] of entries) if (e.expiresAt <= now) entries.delete(k);
    // Still full of live entries: the oldest go first rather than memory growing without bound.
    while (entries.size >= maxEntries) entries.delete(entries.keys().next().value!);
  }
  return {
    put(key, cvv, expiresAt) {
      if (entries.size >= maxEntries) prune();
      entries.set(key, { cvv, expiresAt });
    },
    take(key) {
      const e = entries.get(key);
      entries.delete(key);
      return e && e.expiresAt > clock.now() ? e.cvv : undefined;
    },
    drop(key) { entries.delete(key); },
    has(key) {
      const e = entries.get(key);
      return e !== undefined && e.expiresAt > clock.now();
    },
    get size() { return entries.size; },
  };
}
