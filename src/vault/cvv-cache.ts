import type { Clock } from '../runtime/clock.ts';
import { seal, unseal } from '../runtime/crypto.ts';
import { Cvv } from './card.ts';
import type { CvvHoldStore } from './store.ts';

/**
 * The only place a CVV waits between a payment's start and its authorization (a tokenized
 * instrument's first use, or the authorization after a 3-D Secure challenge): one use, a short
 * life. On the embedded store it is process memory, never written anywhere; a PostgreSQL cluster
 * holds it sealed in the database so the node that runs the authorization need not be the node
 * that received the code.
 */
export interface CvvCache {
  put(key: string, cvv: Cvv, expiresAt: number): Promise<void>;
  /** Returns the CVV once and forgets it; undefined when absent or expired. */
  take(key: string): Promise<Cvv | undefined>;
  drop(key: string): Promise<void>;
  /** Whether a live (unexpired) CVV is held for the key, without taking it. */
  has(key: string): Promise<boolean>;
  /** Forgets what expired (the `purge-cvv-holds` job; memory also when it is full). */
  purgeExpired(): Promise<number>;
}

export function createCvvCache(clock: Clock, maxEntries = 100_000): CvvCache & { readonly size: number } {
  const entries = new Map<string, { cvv: Cvv; expiresAt: number }>();
  function prune() {
    const now = clock.now();
    let n = 0;
    for (const [k, e] of entries) if (e.expiresAt <= now) { entries.delete(k); n++; }
    // Still full of live entries: the oldest go first rather than memory growing without bound.
    while (entries.size >= maxEntries) entries.delete(entries.keys().next().value!);
    return n;
  }
  return {
    async put(key, cvv, expiresAt) {
      if (entries.size >= maxEntries) prune();
      entries.set(key, { cvv, expiresAt });
    },
    async take(key) {
      const e = entries.get(key);
      entries.delete(key);
      return e && e.expiresAt > clock.now() ? e.cvv : undefined;
    },
    async drop(key) { entries.delete(key); },
    async has(key) {
      const e = entries.get(key);
      return e !== undefined && e.expiresAt > clock.now();
    },
    async purgeExpired() { return prune(); },
    get size() { return entries.size; },
  };
}

/**
 * The cluster's holder: each code sealed with AES-GCM under a key of its own purpose, bound to its
 * key (a sealed code moved to another row does not open), deleted by the statement that reads it,
 * so two nodes racing for one code cannot both get it.
 */
export function createSharedCvvCache(deps: { store: CvvHoldStore; key: Buffer; clock: Clock }): CvvCache {
  const { store, key, clock } = deps;
  const aad = (k: string) => `cvv:${k}`;
  return {
    async put(k, cvv, expiresAt) {
      await store.put(k, seal(key, Buffer.from(cvv.reveal(), 'utf8'), aad(k)), expiresAt);
    },
    async take(k) {
      const held = await store.take(k);
      if (!held || held.expiresAt <= clock.now()) return undefined;
      return new Cvv(unseal(key, held.sealed, aad(k)).toString('utf8'));
    },
    async drop(k) { await store.drop(k); },
    async has(k) { return store.has(k, clock.now()); },
    purgeExpired: () => store.purgeBefore(clock.now()),
  };
}
