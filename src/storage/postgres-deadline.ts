import type pg from 'pg';

/**
 * How long a PostgreSQL connection may leave a statement unanswered before it is given up on.
 * Mutable so that the store's schema migrations (which may rightly take minutes on a large table)
 * run before it is set, and every connection then holds to it: `ms` 0 means no deadline.
 */
export interface StatementDeadline {
  ms: number;
}

type Query = (config: unknown, values?: unknown, callback?: unknown) => unknown;

/** A statement left unanswered past the deadline; its connection was closed. */
export class StatementDeadlineError extends Error {
  constructor(ms: number) {
    super(`PostgreSQL left a statement unanswered for ${ms} ms; its connection was closed`);
    this.name = 'StatementDeadlineError';
  }
}

/**
 * Asks the server, over a connection of its own, whether the backend `pid` is still working on a
 * statement (running, or waiting for a lock another transaction holds). False when it is not, or
 * when the server does not answer the question either.
 */
export type BackendProbe = (pid: number, timeoutMs: number) => Promise<boolean>;

/**
 * Closes `client`'s connection when a statement on it goes unanswered for `deadline.ms` and the
 * server cannot say it is still working on it.
 *
 * A server that stops answering mid-statement (frozen, partitioned away, its host hung) is not
 * seen by TCP keep-alive, which probes only idle connections: the statement, its unit of work, the
 * request behind it and every unit queued on the same connection would wait for as long as the
 * kernel retransmits (a quarter of an hour). pg's own `query_timeout` is no cure: it fails the
 * caller but, outside pipeline mode, leaves the statement running on a connection that goes back
 * to the pool, and a statement it drops unsent from a transaction lets the ones after it (COMMIT
 * among them) run without it. Closing the socket is the one answer that is always safe: everything
 * in flight on it fails, the pool never hands the connection out again, and PostgreSQL rolls back
 * the transaction it had open (a COMMIT already sent may still have happened, exactly as when a
 * network fails; the caller was told nothing was acknowledged, and the idempotency key finds it).
 *
 * A healthy server is silent too while a statement waits for a lock (a second settlement import
 * behind a long first one, rows another unit holds, a migration's lock during an upgrade): so at
 * the deadline `probe` asks the server about the backend over another connection, and only a
 * server that cannot say it is working on it loses the connection; one that can gets another
 * deadline. Waits are timed on the monotonic clock: a wall clock stepped by NTP or a resumed VM
 * would make every statement in flight look overdue.
 *
 * One timer per connection, armed for the oldest unanswered statement, so the hot path pays a map
 * write per statement rather than a timer each. Cursors and callback queries pass through as pg
 * returns them (nothing on the hot path uses them).
 */
export function closeWhenUnanswered(client: pg.ClientBase, deadline: StatementDeadline, probe?: BackendProbe): void {
  const plain = client.query.bind(client) as unknown as Query;
  const pending = new Map<number, number>();
  let next = 0;
  let timer: NodeJS.Timeout | undefined;
  let expired = false;
  let probing = false;
  // When the server last said it was working on this connection's statement.
  let vouchedAt = -Infinity;

  const close = () => {
    expired = true;
    const stream = (client as unknown as { connection?: { stream?: { destroy(err?: Error): void } } }).connection?.stream;
    stream?.destroy();
  };
  const check = () => {
    timer = undefined;
    if (pending.size === 0 || deadline.ms <= 0 || probing) return;
    const since = Math.max(Math.min(...pending.values()), vouchedAt);
    const waited = performance.now() - since;
    if (waited < deadline.ms) { arm(deadline.ms - waited); return; }
    const pid = (client as unknown as { processID?: number }).processID;
    if (!probe || pid === undefined) { close(); return; }
    probing = true;
    // A second to answer at least (a fresh connection's handshake), five at most.
    probe(pid, Math.min(5000, Math.max(1000, deadline.ms))).then((working) => {
      probing = false;
      if (pending.size === 0) return;
      if (!working) { close(); return; }
      vouchedAt = performance.now();
      arm(deadline.ms);
    }, () => { probing = false; close(); });
  };
  const arm = (ms: number) => {
    timer = setTimeout(check, ms);
    // A wait for the database never keeps a process alive on its own.
    timer.unref();
  };

  const withDeadline: Query = (config, values, callback) => {
    const submittable = typeof config === 'object' && config !== null && typeof (config as { submit?: unknown }).submit === 'function';
    if (deadline.ms <= 0 || callback !== undefined || typeof values === 'function' || submittable) return plain(config, values, callback);
    const id = next++;
    pending.set(id, performance.now());
    if (timer === undefined && !probing) arm(deadline.ms);
    const answer = plain(config, values) as Promise<unknown>;
    return answer.then(
      (result) => { pending.delete(id); return result; },
      (err: unknown) => {
        pending.delete(id);
        // Said once, plainly, instead of pg's "Connection terminated unexpectedly".
        throw expired ? new StatementDeadlineError(deadline.ms) : err;
      },
    );
  };
  (client as unknown as { query: Query }).query = withDeadline;
}
