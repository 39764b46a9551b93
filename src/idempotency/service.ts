import { createHmac } from 'node:crypto';
import type { Clock } from '../runtime/clock.ts';
import type { IdempotencyClaim, IdempotencyStore } from './store.ts';
import type { Tx } from '../storage/unit-of-work.ts';
import { deleteInBatches } from '../storage/batched-delete.ts';

export type Admission =
  | { kind: 'proceed'; claim: IdempotencyClaim }
  | { kind: 'replay'; status: number; body: string }
  | { kind: 'conflict'; reason: 'in_flight' | 'mismatch' };

export interface Idempotency {
  /**
   * Admits a write under a key: the first request proceeds; a repeat of a finished one gets its
   * stored response; the same key with another request, or while the first is in flight, conflicts.
   */
  admit(merchantId: string, key: string, operation: string, request: unknown): Promise<Admission>;
  /** Stores the response the proceeding request gave (before it is sent), while its claim holds. */
  complete(claim: IdempotencyClaim, status: number, body: string): Promise<void>;
  /**
   * The same, inside the unit of work whose change the response acknowledges: they commit together.
   * Throws `IdempotencyClaimLost` when the claim is no longer the key's, so that change rolls back.
   */
  completeIn(tx: Tx, claim: IdempotencyClaim, status: number, body: string): Promise<void>;
  /** The request failed without effect (a 5xx): the key is free again, unless another request has taken it over. */
  release(claim: IdempotencyClaim): Promise<void>;
  /** Forgets keys older than the retention (at least 24 hours). */
  purge(): Promise<number>;
}

/**
 * The request's claim on its key was taken over by a later request with the same key (this one
 * looked abandoned: in flight longer than the takeover allows, as a stalled node's would). Thrown
 * inside the unit of work that was to record this request's effect, so it rolls back: the key's
 * answer is the later request's, and one key never acts twice.
 */
export class IdempotencyClaimLost extends Error {
  constructor() { super('another request with this idempotency key took it over'); }
}

/** Serializes JSON with sorted keys, so equal bodies hash equally whatever their key order. */
function canonical(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonical).join(',')}]`;
  if (v !== null && typeof v === 'object') {
    return `{${Object.keys(v).sort().map((k) => `${JSON.stringify(k)}:${canonical((v as Record<string, unknown>)[k])}`).join(',')}}`;
  }
  return JSON.stringify(v) ?? 'null';
}

/**
 * Idempotency at the edge, implemented once over a keys table with a unique constraint, so every
 * node of a cluster and the embedded store behave the same (DESIGN rule 3).
 */
/** What a request's hash stored before hashes were keyed was replaced by (migration 099): any request matches it. */
const unverifiable = 'unverifiable';
/** Keys forgotten per statement: a backlog (a gateway started after days away) goes in short batches. */
const purgeBatch = 500;

/**
 * `key` keys the hash that tells a repeat from another request under the same idempotency key: a
 * plain hash of a request that carries a card number could be searched from the card's visible
 * digits by anyone reading the table. Callers leave the security code out of `request` altogether.
 */
export function createIdempotency(deps: { store: IdempotencyStore; clock: Clock; key: Buffer; retentionMs?: number; abandonAfterMs?: number }): Idempotency {
  const { store, clock } = deps;
  const retention = deps.retentionMs ?? 48 * 3600_000;
  // A claim left in flight this long belongs to a request that died (a crashed node).
  const abandonAfter = deps.abandonAfterMs ?? 5 * 60_000;
  return {
    async admit(merchantId, key, operation, request) {
      const requestHash = createHmac('sha256', deps.key).update(operation).update('\n').update(canonical(request)).digest('hex');
      const now = clock.now();
      const r = await store.claim({ merchantId, key, operation, requestHash, state: 'in_flight', responseStatus: undefined, responseBody: undefined, createdAt: now });
      if (r.claimed) return { kind: 'proceed', claim: { merchantId, key, at: now } };
      const e = r.existing;
      if (e.requestHash !== requestHash && e.requestHash !== unverifiable) return { kind: 'conflict', reason: 'mismatch' };
      if (e.state === 'done') return { kind: 'replay', status: e.responseStatus!, body: e.responseBody! };
      if (now - e.createdAt > abandonAfter && await store.takeOver(merchantId, key, e.createdAt, now)) return { kind: 'proceed', claim: { merchantId, key, at: now } };
      return { kind: 'conflict', reason: 'in_flight' };
    },
    complete: (claim, status, body) => store.complete(claim, status, body),
    async completeIn(tx, claim, status, body) {
      if (!await store.writer(tx).complete(claim, status, body)) throw new IdempotencyClaimLost();
    },
    release: (claim) => store.release(claim),
    purge() {
      const before = clock.now() - retention;
      return deleteInBatches((limit) => store.purge(before, limit), purgeBatch);
    },
  };
}
