/** What the seeded money-model drivers of both dialects share: their random numbers and amount formats. */

/** A small seeded generator (mulberry32): a failing sequence replays from its seed. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => { a = (a + 0x6D2B79F5) >>> 0; let t = a; t = Math.imul(t ^ (t >>> 15), t | 1); t ^= t + Math.imul(t ^ (t >>> 7), t | 61); return ((t ^ (t >>> 14)) >>> 0) / 4294967296; };
}

/** The currencies driven, one of each number of decimals, and their decimals. */
export const EXP: Record<string, number> = { EUR: 2, JPY: 0, KWD: 3 };
/** An amount of minor units in its currency's decimals, as the wire carries it. */
export const fmt = (minor: number, cur: string): string => { const e = EXP[cur]!; return e === 0 ? String(minor) : (minor / 10 ** e).toFixed(e); };
/** The same amount in another currency's decimals: what a refused request sends. */
export const badFmt = (minor: number, cur: string): string => { const e = EXP[cur]!; return e === 2 ? (minor / 100).toFixed(3) : e === 0 ? minor.toFixed(2) : (minor / 1000).toFixed(2); };
