/**
 * A backlog deleted a batch at a time, each batch its own short statement: one DELETE of a whole
 * backlog (a gateway started after days away, a retention just lowered) holds the embedded store's
 * one writer, and every payment behind it, for as long as it takes. After each batch the writer is
 * left alone as long as the batch held it, so payments go on at about half their pace or better.
 * `deleteBatch(limit)` deletes at most `limit` rows and says how many it did (for a batch of two
 * tables, the larger count); returns the total.
 */
export async function deleteInBatches(deleteBatch: (limit: number) => Promise<number>, limit: number,
  sleep: (ms: number) => Promise<void> = (ms) => new Promise((r) => setTimeout(r, ms))): Promise<number> {
  let total = 0;
  for (;;) {
    const started = performance.now();
    const n = await deleteBatch(limit);
    total += n;
    if (n < limit) return total;
    await sleep(Math.max(5, performance.now() - started));
  }
}
