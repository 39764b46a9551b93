import type { Tx } from '../storage/unit-of-work.ts';
export interface IdempotencyRow {
  readonly merchantId: string;
  readonly key: string;
  readonly operation: string;
  readonly requestHash: string;
  readonly state: 'in_flight' | 'done';
  readonly responseStatus: number | undefined;
  readonly responseBody: string | undefined;
  readonly createdAt: number;
}

/**
 * One request's hold on a key: the key and when it was claimed (or taken over). What the request
 * later writes under the key applies only while the hold is still its own: a request taken over
 * after it stalled neither frees nor answers for the one that took over.
 */
export interface IdempotencyClaim {
  readonly merchantId: string;
  readonly key: string;
  readonly at: number;
}

/** The idempotency writes of a unit of work: the answer stored in the same commit as what it acknowledges. */
export interface IdempotencyWriter {
  /** Stores the answer if the claim is still the key's; false when another request took the key over. */
  complete(claim: IdempotencyClaim, status: number, body: string): Promise<boolean>;
}

export interface IdempotencyStore {
  writer(tx: Tx): IdempotencyWriter;
  /** Inserts the key as in flight; when the (merchant, key) exists already, returns that row instead. */
  claim(row: IdempotencyRow): Promise<{ claimed: true } | { claimed: false; existing: IdempotencyRow }>;
  /** Takes over an in-flight claim made at `staleAt` (its request died); false when someone else did. */
  takeOver(merchantId: string, key: string, staleAt: number, now: number): Promise<boolean>;
  /** Stores the answer, if the claim is still the key's. */
  complete(claim: IdempotencyClaim, status: number, body: string): Promise<void>;
  /** Forgets a claim whose request failed without effect (if it is still the key's), so the client may retry with the same key. */
  release(claim: IdempotencyClaim): Promise<void>;
  /** Forgets at most `limit` keys made before `before`, the oldest first; how many it did. */
  purge(before: number, limit: number): Promise<number>;
}
