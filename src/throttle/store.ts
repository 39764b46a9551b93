export interface ThrottleStore {
  /**
   * Atomically: forgets hits of `key` at or before `since`, and records a hit at `now` if fewer than
   * `limit` remain. Returns whether the hit was recorded and the oldest remaining hit's time.
   */
  hit(key: string, now: number, since: number, limit: number): Promise<{ allowed: boolean; oldest: number | undefined }>;
  /** Takes back one hit of `key` recorded at `at` (one counted before it was known to count). */
  unhit(key: string, at: number): Promise<void>;
  /** Forgets every key's hits at or before `before`; the number forgotten. */
  purge(before: number): Promise<number>;
}
