/**
 * How many refusals of strangers (no dashboard session, no operator token, a forged PSP
 * notification) one source may add to the audit log or the warn lines: each is a row or a line, and
 * anyone on the internet can send them as fast as they like, growing the table (or paging an
 * operator) and burying the entries that matter. Per key (a source and a kind of
 * refusal) and window, the first `perWindow` are written one by one; the rest are counted, and
 * said in one row: when the allowance runs out (what follows is counted) and, with the count, at
 * the key's next refusal after the window. In memory, per process: a bound on rows, not a record.
 */
export interface RefusalAllowance {
  /** What to write for one more refusal under `key` at `now`: its own row or not, and a summary before it. */
  take(key: string, now: number): { readonly write: boolean; readonly summary?: Summary };
}

export type Summary =
  | { readonly kind: 'limited'; readonly until: number; readonly perWindow: number }
  | { readonly kind: 'counted'; readonly count: number; readonly from: number; readonly to: number };

interface Window { start: number; written: number; counted: number; lastAt: number }

export function createRefusalAllowance(options: { perWindow?: number; windowMs?: number; maxAddresses?: number } = {}): RefusalAllowance {
  const perWindow = options.perWindow ?? 20;
  const windowMs = options.windowMs ?? 10 * 60_000;
  const maxAddresses = options.maxAddresses ?? 10_000;
  const windows = new Map<string, Window>();

  const forget = (now: number) => {
    // Windows that ran out with nothing counted have nothing left to say.
    for (const [key, w] of windows) if (w.start + windowMs <= now && w.counted === 0) windows.delete(key);
    // Still full (many addresses at once): the oldest go; their counts are lost, not their rows.
    for (const key of windows.keys()) {
      if (windows.size < maxAddresses) break;
      windows.delete(key);
    }
  };

  return {
    take(key, now) {
      let w = windows.get(key);
      let summary: Summary | undefined;
      if (w && w.start + windowMs <= now) {
        if (w.counted > 0) summary = { kind: 'counted', count: w.counted, from: w.start, to: w.lastAt };
        windows.delete(key);
        w = undefined;
      }
      if (!w) {
        if (windows.size >= maxAddresses) forget(now);
        w = { start: now, written: 0, counted: 0, lastAt: now };
        windows.set(key, w);
      }
      w.lastAt = now;
      if (w.written < perWindow) {
        w.written++;
        return { write: true, ...(summary ? { summary } : {}) };
      }
      w.counted++;
      if (w.counted === 1) return { write: false, summary: { kind: 'limited', until: w.start + windowMs, perWindow } };
      return { write: false, ...(summary ? { summary } : {}) };
    },
  };
}
