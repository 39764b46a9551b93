import pg from 'pg';
import type { Logger } from '../runtime/logger.ts';

/**
 * In-process registry of long-polls waiting for an execution to change. A waiting request costs a
 * closure and a timer: no database polling loop, no thread. The service wakes an id after it
 * commits a change; a PostgreSQL LISTEN bridge wakes it for changes committed on other nodes.
 */
export interface Waiters {
  /** Resolves true when the id is woken, false when `ms` passed or `signal` aborted first. */
  wait(id: string, ms: number, signal?: AbortSignal): Promise<boolean>;
  wake(id: string): void;
  /** Wakes every waiter (after a lost LISTEN connection, when notifications may have been missed). */
  wakeAll(): void;
  /** How many requests are waiting now. */
  readonly size: number;
}

export function createWaiters(): Waiters {
  const byId = new Map<string, Set<(woken: boolean) => void>>();
  let size = 0;
  return {
    wait(id, ms, signal) {
      return new Promise<boolean>((resolve) => {
        let set = byId.get(id);
        if (!set) byId.set(id, (set = new Set()));
        const done = (woken: boolean) => {
          clearTimeout(timer);
          signal?.removeEventListener('abort', onAbort);
          const s = byId.get(id);
          if (s?.delete(done)) size--;
          if (s && s.size === 0) byId.delete(id);
          resolve(woken);
        };
        const onAbort = () => done(false);
        const timer = setTimeout(done, ms, false);
        set.add(done);
        size++;
        if (signal) {
          if (signal.aborted) done(false);
          else signal.addEventListener('abort', onAbort, { once: true });
        }
      });
    },
    wake(id) {
      const set = byId.get(id);
      if (set) for (const done of [...set]) done(true);
    },
    wakeAll() {
      for (const set of [...byId.values()]) for (const done of [...set]) done(true);
    },
    get size() { return size; },
  };
}

export interface ChangeListener {
  close(): Promise<void>;
  /** Resolves once the LISTEN is in place (tests wait for it before changing things on another node). */
  readonly ready: Promise<void>;
}

/**
 * One LISTEN connection per process: every NOTIFY on `channel` (sent by any node inside the
 * transaction that changed an execution) wakes that execution's local waiters. If the connection
 * drops it reconnects with backoff and wakes every waiter, since notifications sent meanwhile
 * were lost (each waiter then re-reads its execution).
 */
export function listenForChanges(deps: { url: string; channel: string; waiters: Waiters; logger: Logger }): ChangeListener {
  let client: pg.Client | undefined;
  let closed = false;
  let delay = 100;
  let markReady: () => void = () => {};
  const ready = new Promise<void>((r) => { markReady = r; });

  async function connect(): Promise<void> {
    if (closed) return;
    const c = new pg.Client({ connectionString: deps.url });
    c.on('notification', (msg) => { if (msg.payload) deps.waiters.wake(msg.payload); });
    c.on('error', (err) => {
      deps.logger.warn({ err: String(err) }, 'execution change listener lost its connection');
      void c.end().catch(() => {});
      if (client === c) { client = undefined; retry(); }
    });
    try {
      await c.connect();
      await c.query(`LISTEN ${pg.escapeIdentifier(deps.channel)}`);
      if (closed) { await c.end(); return; }
      client = c;
      delay = 100;
      deps.waiters.wakeAll();
      markReady();
    } catch (err) {
      deps.logger.warn({ err: String(err) }, 'execution change listener could not connect');
      void c.end().catch(() => {});
      retry();
    }
  }
  function retry() {
    if (closed) return;
    setTimeout(() => void connect(), delay).unref();
    delay = Math.min(delay * 2, 5000);
  }
  void connect();
  return {
    ready,
    async close() {
      closed = true;
      const c = client;
      client = undefined;
      if (c) await c.end().catch(() => {});
    },
  };
}
