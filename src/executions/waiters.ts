import pg from 'pg';
import type { Logger } from '../runtime/logger.ts';

/** What a waiting request is tied to: its response, which emits `close` when the client goes away. */
export interface Departure {
  /** True once it has emitted `close`. */
  readonly closed: boolean;
  on(event: 'close', listener: () => void): unknown;
  off(event: 'close', listener: () => void): unknown;
}

/**
 * In-process registry of long-polls waiting for an execution to change. No database polling loop,
 * no thread, and no timer of its own per request: a waiting request is one small record, listed
 * under its execution id and in a heap ordered by deadline that one shared timer serves. The
 * service wakes an id after it commits a change; a PostgreSQL LISTEN bridge wakes it for changes
 * committed on other nodes.
 */
export interface Waiters {
  /**
   * Resolves true when the id is woken, false when `ms` passed or the client behind `departure`
   * went away first (its `close`).
   */
  wait(id: string, ms: number, departure?: Departure): Promise<boolean>;
  /**
   * Ends the wait that `wait` answered with `waiting` (resolved false), leaving the other waiters
   * of its id alone: a request that registered and then found it need not wait goes without
   * making the others read again.
   */
  leave(waiting: Promise<boolean>): void;
  wake(id: string): void;
  /** Wakes every waiter (after a lost LISTEN connection, when notifications may have been missed). */
  wakeAll(): void;
  /**
   * Ends every wait now, and every later one at once, as if its time were up (resolved false): the
   * gateway is shutting down, and a long-poll held for its full time would hold the exit as long.
   * Each request then answers what it reads at that moment.
   */
  stop(): void;
  /** How many requests are waiting now. */
  readonly size: number;
}

/** One waiting request. */
interface Waiter {
  readonly id: string;
  /** performance.now() at which it stops waiting. */
  readonly deadline: number;
  /** Its index in the deadline heap; -1 once settled. */
  slot: number;
  /** The other waiters on the same id: a list headed in `byId`. */
  prev: Waiter | undefined;
  next: Waiter | undefined;
  readonly resolve: (woken: boolean) => void;
  readonly departure: Departure | undefined;
  /** The one closure a wait allocates: its `close` listener, when it has a departure. */
  gone: (() => void) | undefined;
}

/** setTimeout's longest delay; a later deadline is reached by re-arming. */
const longestDelay = 0x7fff_ffff;

export function createWaiters(): Waiters {
  const byId = new Map<string, Waiter>();
  /** Each wait's record by its promise, for `leave`; an entry goes with its promise. */
  const byPromise = new WeakMap<Promise<boolean>, Waiter>();
  /** Binary min-heap on deadline: its root is the next to expire, the one the shared timer is set for. */
  const heap: Waiter[] = [];
  let timer: NodeJS.Timeout | undefined;
  let armedFor = Infinity;
  let stopped = false;

  const before = (a: Waiter, b: Waiter) => a.deadline < b.deadline;
  function place(w: Waiter, i: number) { heap[i] = w; w.slot = i; }
  function up(i: number) {
    const w = heap[i]!;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!before(w, heap[parent]!)) break;
      place(heap[parent]!, i);
      i = parent;
    }
    place(w, i);
  }
  function down(i: number) {
    const w = heap[i]!;
    for (;;) {
      const l = 2 * i + 1;
      if (l >= heap.length) break;
      const c = l + 1 < heap.length && before(heap[l + 1]!, heap[l]!) ? l + 1 : l;
      if (!before(heap[c]!, w)) break;
      place(heap[c]!, i);
      i = c;
    }
    place(w, i);
  }
  function removeFromHeap(w: Waiter) {
    const i = w.slot;
    const last = heap.pop()!;
    if (last !== w) {
      place(last, i);
      if (i > 0 && before(last, heap[(i - 1) >> 1]!)) up(i);
      else down(i);
    }
    w.slot = -1;
  }

  /** Sets the one timer for the earliest deadline (a timer set for a later one is moved earlier). */
  function arm() {
    const first = heap[0];
    if (!first) {
      if (timer) clearTimeout(timer);
      timer = undefined;
      armedFor = Infinity;
      return;
    }
    if (timer && armedFor <= first.deadline) return;
    if (timer) clearTimeout(timer);
    armedFor = first.deadline;
    timer = setTimeout(expire, Math.min(longestDelay, Math.max(0, Math.ceil(first.deadline - performance.now()))));
  }
  function expire() {
    timer = undefined;
    armedFor = Infinity;
    // Timers count whole milliseconds from the loop's clock: one fired a fraction early has still served its time.
    const now = performance.now() + 1;
    while (heap.length > 0 && heap[0]!.deadline <= now) settle(heap[0]!, false);
    arm();
  }

  function settle(w: Waiter, woken: boolean) {
    if (w.slot < 0) return;
    removeFromHeap(w);
    // With nobody left the timer goes too: a pending timer would keep a stopping process alive.
    if (heap.length === 0 && timer) { clearTimeout(timer); timer = undefined; armedFor = Infinity; }
    if (w.prev) w.prev.next = w.next;
    else if (w.next) byId.set(w.id, w.next);
    else byId.delete(w.id);
    if (w.next) w.next.prev = w.prev;
    w.prev = w.next = undefined;
    if (w.gone) w.departure!.off('close', w.gone);
    w.resolve(woken);
  }

  return {
    wait(id, ms, departure) {
      let resolve!: (woken: boolean) => void;
      const promise = new Promise<boolean>((r) => { resolve = r; });
      if (departure?.closed || stopped) { resolve(false); return promise; }
      const head = byId.get(id);
      const w: Waiter = { id, deadline: performance.now() + Math.max(0, ms), slot: heap.length, prev: undefined, next: head, resolve, departure, gone: undefined };
      if (head) head.prev = w;
      byId.set(id, w);
      heap.push(w);
      up(w.slot);
      if (departure) departure.on('close', (w.gone = () => settle(w, false)));
      byPromise.set(promise, w);
      arm();
      return promise;
    },
    leave(waiting) {
      const w = byPromise.get(waiting);
      if (w) settle(w, false);
    },
    wake(id) {
      for (let w = byId.get(id); w;) {
        const next = w.next;
        settle(w, true);
        w = next;
      }
    },
    wakeAll() {
      while (heap.length > 0) settle(heap[heap.length - 1]!, true);
    },
    stop() {
      stopped = true;
      while (heap.length > 0) settle(heap[heap.length - 1]!, false);
    },
    get size() { return heap.length; },
  };
}

export interface ChangeListener {
  close(): Promise<void>;
  /** Resolves once the LISTEN is in place (tests wait for it before changing things on another node). */
  readonly ready: Promise<void>;
}

/**
 * One LISTEN connection per process: every NOTIFY on one of `channels` (sent by any node inside the
 * transaction that changed an execution) wakes that execution's local waiters. If the connection
 * drops it reconnects with backoff and wakes every waiter, since notifications sent meanwhile
 * were lost (each waiter then re-reads its execution).
 */
export function listenForChanges(deps: { url: string; channels: readonly string[]; waiters: Waiters; logger: Logger }): ChangeListener {
  let client: pg.Client | undefined;
  let closed = false;
  let delay = 100;
  let markReady: () => void = () => {};
  const ready = new Promise<void>((r) => { markReady = r; });

  async function connect(): Promise<void> {
    if (closed) return;
    // A connection that died without a word (a half-open TCP connection) sends no NOTIFY and no
    // error: TCP keepalive probes find it, the error handler then reconnects and wakes every waiter.
    // An address that takes the connection and never answers (a hung host, a failover half done)
    // would hold the attempt for ever, and with it every later one: it is given up and tried again.
    const c = new pg.Client({ connectionString: deps.url, keepAlive: true, keepAliveInitialDelayMillis: 10_000, connectionTimeoutMillis: 5_000 });
    c.on('notification', (msg) => { if (msg.payload) deps.waiters.wake(msg.payload); });
    c.on('error', (err) => {
      deps.logger.warn({ err: String(err) }, 'execution change listener lost its connection');
      void c.end().catch(() => {});
      if (client === c) { client = undefined; retry(); }
    });
    try {
      await c.connect();
      for (const channel of deps.channels) await c.query(`LISTEN ${pg.escapeIdentifier(channel)}`);
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
