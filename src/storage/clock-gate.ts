import { DeleteQueryNode, InsertQueryNode, UpdateQueryNode, sql, type Kysely, type KyselyPlugin } from 'kysely';
import { judgeSkew } from '../runtime/clock-skew.ts';
import type { Logger } from '../runtime/logger.ts';
import type { Database } from './schema.ts';
import type { UnitOfWork } from './unit-of-work.ts';

/** The database server's clock now, in ms; undefined for SQLite, whose clock is this machine's. */
export async function databaseNow(db: Kysely<Database>, kind: 'sqlite' | 'postgres'): Promise<number | undefined> {
  if (kind !== 'postgres') return undefined;
  const r = await sql<{ now: string }>`select (extract(epoch from clock_timestamp()) * 1000)::bigint as now`.execute(db);
  return Number(r.rows[0]!.now);
}

/** Why a node writes nothing: its clock disagrees with the database's. A client sends again (to another node). */
export class ClockDisagreesError extends Error {
  constructor(skewMs: number, maxSkewMs: number) {
    super(`this node's clock is ${skewMs} ms off the database's (at most ${maxSkewMs} ms allowed): it writes nothing until its clock is set right (NTP)`);
    this.name = 'ClockDisagreesError';
  }
}

export interface ClockGate {
  /** The refusal for a unit of work now, or undefined while this node's clock agrees (or is not known to disagree). */
  refusal(): ClockDisagreesError | undefined;
  /** Reads the database's clock now and again every `everyMs`. */
  start(): void;
  stop(): void;
  /** One reading now (tests; `start` reads on its own). */
  check(): Promise<void>;
}

/**
 * Nodes sharing a PostgreSQL database stamp what they write with their own clocks, and other nodes
 * judge those times with theirs: the reconciler ends an attempt older than twice the PSP timeout
 * as lost, a webhook delivery's lease runs out at its stamped time, a status call counts against
 * the hits of the last minute. A node whose clock is off by more than `maxSkewMs` (less than any of
 * those margins) writes nothing: each unit of work is refused as the store's being unavailable
 * (503, sent again to another node) and the node reports itself not ready, until its clock agrees
 * again. A reading that cannot decide (too slow) keeps the last verdict; a failed one too.
 */
export function createClockGate(deps: {
  databaseNow: () => Promise<number | undefined>;
  maxSkewMs: number;
  logger: Pick<Logger, 'error' | 'info'>;
  wallClock?: () => number;
  everyMs?: number;
}): ClockGate {
  const wallClock = deps.wallClock ?? Date.now;
  const everyMs = deps.everyMs ?? 10_000;
  let off: { skewMs: number } | undefined;
  let timer: NodeJS.Timeout | undefined;
  let reading: Promise<void> | undefined;
  let loggedAt = -Infinity;

  async function read(): Promise<void> {
    const before = wallClock();
    const now = await deps.databaseNow();
    if (now === undefined) return;
    const after = wallClock();
    const { skewMs, verdict } = judgeSkew(before, after, now, deps.maxSkewMs);
    if (verdict === 'disagrees') {
      const first = !off;
      off = { skewMs };
      if (!first && Math.abs(after - loggedAt) < 60_000) return;
      loggedAt = after;
      deps.logger.error({ skewMs, maxSkewMs: deps.maxSkewMs }, 'this node\'s clock disagrees with the database\'s: it writes nothing, and reports not ready, until its clock is set right (NTP)');
    } else if (verdict === 'agrees' && off) {
      off = undefined;
      deps.logger.info({ skewMs }, 'this node\'s clock agrees with the database\'s again: it writes again');
    }
  }
  const check = () => (reading ??= read().catch(() => {}).finally(() => { reading = undefined; }));

  return {
    refusal: () => (off ? new ClockDisagreesError(off.skewMs, deps.maxSkewMs) : undefined),
    start() {
      if (timer) return;
      void check();
      timer = setInterval(() => { void check(); }, everyMs);
      timer.unref();
    },
    stop() {
      clearInterval(timer);
      timer = undefined;
    },
    check,
  };
}

/** Writes outside any unit of work (a statement that commits on its own) are refused the same way. */
function refusingWrites(gate: Pick<ClockGate, 'refusal'>): KyselyPlugin {
  return {
    transformQuery(args) {
      const refused = gate.refusal();
      if (refused && (InsertQueryNode.is(args.node) || UpdateQueryNode.is(args.node) || DeleteQueryNode.is(args.node))) throw refused;
      return args.node;
    },
    transformResult: async (args) => args.result,
  };
}

/** The unit of work of a node that writes nothing while its clock disagrees with the database's. */
export function gatedUnitOfWork(uow: UnitOfWork, gate: Pick<ClockGate, 'refusal'>): UnitOfWork {
  return {
    db: uow.db.withPlugin(refusingWrites(gate)),
    kind: uow.kind,
    afterCommit: (tx, fn) => uow.afterCommit(tx, fn),
    run(fn, options) {
      const refused = gate.refusal();
      return refused ? Promise.reject(refused) : uow.run(fn, options);
    },
  };
}
