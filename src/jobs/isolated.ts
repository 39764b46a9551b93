import type { Logger } from '../runtime/logger.ts';

/** What a pass over rows did: rows handled without an error, and rows whose handler threw. */
export interface IsolatedTally {
  readonly succeeded: number;
  readonly failed: number;
}

/**
 * Runs `fn` on each row in turn, so that one bad row (a corrupt record, a PSP that throws for one
 * attempt) cannot stop a periodic job for every other merchant: a row that throws is logged under
 * `label` with its key and counted, and the pass goes on. Never throws itself.
 *
 * `keyOf` names a row in the log (its id); rows themselves are never logged, as they may carry
 * card or merchant data.
 *
 * @example
 *   const { succeeded, failed } = await eachIsolated(stale, (t) => settleOne(t), logger, 'reconcile-payments', (t) => t.id);
 */
export async function eachIsolated<T>(
  rows: Iterable<T> | AsyncIterable<T>,
  fn: (row: T) => Promise<unknown> | unknown,
  logger: Pick<Logger, 'error'>,
  label: string,
  keyOf?: (row: T) => string,
): Promise<IsolatedTally> {
  let succeeded = 0;
  let failed = 0;
  const report = (row: string | undefined, err: unknown, message: string) => {
    try {
      logger.error({ job: label, row, err: String(err) }, message);
    } catch {
      // A logger that throws must not turn one bad row into a stopped pass either.
    }
  };
  try {
    for await (const row of rows) {
      try {
        await fn(row);
        succeeded++;
      } catch (err) {
        failed++;
        let key: string | undefined;
        try { key = keyOf?.(row); } catch { key = undefined; }
        report(key, err, 'row failed; the rest go on');
      }
    }
  } catch (err) {
    // The rows themselves could not be read on (a cursor broke): what was done stands, and the
    // failure counts once so the caller sees the pass was not clean.
    failed++;
    report(undefined, err, 'rows could not be read to the end');
  }
  return { succeeded, failed };
}
