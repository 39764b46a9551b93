import type pg from 'pg';

/**
 * Writes whose answers nobody reads, sent to PostgreSQL without waiting for them.
 *
 * A payment's units of work are mostly blind writes: insert the payment, its operation, its card,
 * its outbox event and its postings; settle an attempt and an operation. Sent one after another,
 * each costs a round trip to the server, and on a busy machine every round trip is a write, a
 * wake-up of the server process and a wake-up of ours. Held instead, they go out at once behind
 * each other (the connection runs in pg's pipeline mode, which sends a query while earlier ones
 * are unanswered) and are checked together at the next statement whose answer is read, at the
 * latest at COMMIT. A payment's two units took fifteen round trips; they take five.
 *
 * A statement is held when its SQL starts with `laterMark` (`prepare(...).later` adds it) and a
 * transaction is open on the connection; outside one it runs as any other, so nothing held is ever
 * left unchecked on a connection given back to the pool. BEGIN is held too: it fails only with the
 * connection, and the statement after it then fails the same way.
 *
 * The rules that keep a held write as safe as an awaited one:
 * - Its failure is never lost: the statement after it, or COMMIT, answers with that failure (the
 *   first one, as PostgreSQL fails every later statement of an aborted transaction anyway), so no
 *   unit whose write failed is acknowledged. From the failure until ROLLBACK every statement is
 *   refused with it without being sent: the transaction is aborted.
 * - COMMIT is answered only once every held write has been answered, so the caller learns of a
 *   commit only when all of it happened. (PostgreSQL itself ends an aborted transaction's COMMIT
 *   with a ROLLBACK tag and no error; Kysely turns that into an error too.)
 * - ROLLBACK waits for the held writes and drops their failures: the transaction is gone either way.
 * - Order is PostgreSQL's: statements run in the order they were sent, and everything here is sent
 *   in the order it was asked for (the named-statement layer below sends its DEALLOCATE and its
 *   statement back to back for that reason).
 */
export const laterMark = '/* later */ ';

/**
 * Marks a read whose answer the caller takes later, after sending the statement that follows it:
 * both go out in one write and cost one round trip. PostgreSQL runs them one after the other all
 * the same, so the second sees what the first did (under READ COMMITTED it takes its snapshot when
 * it starts, after a `for update` before it got its lock). Inside a transaction the connection
 * answers such a read at once with one row holding `aheadAnswer`: the promise of the real answer,
 * which fails as a read would (with the first failure of the held writes before it). Its caller
 * takes that answer, and the next statement's, before the unit goes on (`lock` takes both, always).
 * Its failure also counts as the transaction's, as a held write's does (PostgreSQL has aborted the
 * transaction either way): a unit that left such an answer untaken fails its own held-writes check,
 * and is rolled back to its own savepoint, instead of the next statement of whichever unit follows.
 */
export const aheadMark = '/* ahead */ ';
export const aheadAnswer = Symbol('the answer of a read sent ahead');

/**
 * Not SQL: asks the connection to wait for its held writes and fail with the first failure among
 * them. A unit of work sharing its transaction with others asks it at the unit's end, so that a
 * failure is its own, rolled back to its savepoint, and not the next unit's.
 */
export const heldWritesCheck = '/* check held writes */';

/** Whether `text` opens or ends a transaction as Kysely writes those commands (savepoints excluded). */
export function transactionEdge(text: string): 'begin' | 'end' | undefined {
  if (text === 'begin' || text.startsWith('start transaction')) return 'begin';
  if (text === 'commit' || text === 'rollback') return 'end';
  return undefined;
}

type Query = (config: unknown, values?: unknown, callback?: unknown) => unknown;
type Result = pg.QueryResult;

/** What a held write answers at once: no rows, no count (the caller reads neither). */
const heldAnswer = (command: string): Result => ({ command, rowCount: null, oid: 0, fields: [], rows: [] });

/** Sets `client` (created with `pipeline: true`) to hold the writes `laterMark` marks, as described above. */
export function holdBlindWrites(client: pg.ClientBase): void {
  const passThrough = client.query.bind(client) as unknown as Query;
  const send = passThrough as (text: string, values?: unknown[]) => Promise<Result>;
  const stream = (client as unknown as { connection: { stream: { cork?: () => void; uncork?: () => void } } }).connection.stream;
  let inTransaction = false;
  let held: Promise<unknown>[] = [];
  /** Answers of reads sent ahead, each settled (its failure kept in `failure`); kept apart from `held`, which a read's own run drains. */
  let ahead: Promise<unknown>[] = [];
  let failure: { error: unknown } | undefined;
  let corked = false;

  /**
   * Everything asked for in this turn of the event loop goes out in one write: pg corks each
   * query's own messages, this corks the queries of a unit that follow each other without I/O.
   */
  const sendNow = (text: string, values: unknown[] | undefined): Promise<Result> => {
    if (!corked && stream.cork && stream.uncork) {
      corked = true;
      stream.cork();
      process.nextTick(() => { corked = false; stream.uncork!(); });
    }
    return send(text, values);
  };

  const hold = (p: Promise<unknown>) => {
    held.push(p.catch((error: unknown) => { failure ??= { error }; }));
  };

  /** Waits for every held write (their failures are kept in `failure`). */
  const drain = async (): Promise<void> => {
    while (held.length > 0) {
      const waiting = held;
      held = [];
      await Promise.all(waiting);
    }
  };

  /** Waits for every held write and every read sent ahead: what a unit's end and a transaction's end wait for. */
  const settle = async (): Promise<void> => {
    await drain();
    while (ahead.length > 0) {
      const waiting = ahead;
      ahead = [];
      await Promise.all(waiting);
      await drain();
    }
  };

  /**
   * Sends a statement whose answer is read. Its answer is marked handled at once: while the held
   * writes before it are awaited it may already have failed, and an unhandled rejection would end
   * the process; the caller still gets that failure.
   */
  const sendAnswered = (text: string, values: unknown[] | undefined): Promise<Result> => {
    const answer = sendNow(text, values);
    answer.catch(() => {});
    return answer;
  };

  const run = async (text: string, values: unknown[] | undefined): Promise<Result> => {
    const edge = transactionEdge(text);
    if (edge === 'begin') {
      inTransaction = true;
      failure = undefined;
      ahead = [];
      hold(sendNow(text, values));
      return heldAnswer('BEGIN');
    }
    if (edge === 'end') {
      // An aborted transaction's COMMIT would only roll back: it is rolled back as such, and the
      // failure that aborted it is the answer (the ROLLBACK the caller sends after a failed COMMIT
      // then finds no transaction, which PostgreSQL only warns about).
      const aborted = failure;
      const answer = sendAnswered(aborted ? 'rollback' : text, values);
      await settle();
      inTransaction = false;
      const f = aborted ?? failure;
      failure = undefined;
      if (text === 'commit' && f) throw f.error;
      return answer;
    }
    if (text === heldWritesCheck) {
      await settle();
      if (failure) throw failure.error;
      return heldAnswer('CHECK');
    }
    if (text.startsWith('rollback to savepoint')) {
      // Undoes what failed after the savepoint, the failure with it (or fails itself).
      const answer = sendAnswered(text, values);
      await settle();
      failure = undefined;
      return answer;
    }
    if (failure) throw failure.error;
    const answer = sendAnswered(text, values);
    if (held.length > 0) {
      await drain();
      if (failure) throw (failure as { error: unknown }).error;
    }
    return answer;
  };

  const query: Query = (config, values, callback) => {
    if (typeof config !== 'string' || callback !== undefined || (values !== undefined && !Array.isArray(values))) {
      return passThrough(config, values, callback);
    }
    if (config.startsWith(aheadMark)) {
      const text = config.slice(aheadMark.length);
      if (!inTransaction) return run(text, values as unknown[] | undefined);
      const answer = run(text, values as unknown[] | undefined);
      ahead.push(answer.catch((error: unknown) => { failure ??= { error }; }));
      return Promise.resolve({ ...heldAnswer('AHEAD'), rows: [{ [aheadAnswer]: answer }] });
    }
    if (config.startsWith(laterMark)) {
      const text = config.slice(laterMark.length);
      if (!inTransaction) return run(text, values as unknown[] | undefined);
      if (failure) return Promise.reject(failure.error);
      hold(sendNow(text, values as unknown[] | undefined));
      return Promise.resolve(heldAnswer('HELD'));
    }
    return run(config, values as unknown[] | undefined);
  };
  (client as unknown as { query: Query }).query = query;
}
