/**
 * What one reading of the database's clock says of this node's. The database read its clock at some
 * moment between `before` and `after` of ours, so the skew lies between the two differences. A slow
 * reading widens the range; it decides only when the whole range is on one side of the bound, so
 * waiting (a busy pool, a slow network) is never taken for agreement, nor for skew.
 */
export function judgeSkew(before: number, after: number, databaseNow: number, maxSkewMs: number): { skewMs: number; verdict: 'agrees' | 'disagrees' | 'undecided' } {
  const low = before - databaseNow;
  const high = after - databaseNow;
  const skewMs = Math.round((low + high) / 2);
  if (low > maxSkewMs || high < -maxSkewMs) return { skewMs, verdict: 'disagrees' };
  if (low >= -maxSkewMs && high <= maxSkewMs) return { skewMs, verdict: 'agrees' };
  return { skewMs, verdict: 'undecided' };
}
