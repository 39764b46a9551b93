import { UnitDeadlineError } from './unit-of-work.ts';
import { StatementDeadlineError } from './postgres-deadline.ts';
import { ClockDisagreesError } from './clock-gate.ts';

/**
 * PostgreSQL's classes of errors that say the database could not serve the request now, not that
 * the request was wrong: connection exceptions (08), insufficient resources (53: too many
 * connections, a full disk), operator intervention (57: a cancelled statement, a shutdown, a server
 * still starting), a lock not available in time (55P03), and the transaction conflicts the server
 * asks to retry (40001 serialization failure, 40P01 deadlock).
 */
const unavailableClasses = ['08', '53', '57'];
/** SQLite's primary result code for a write that found the disk (or the database's size limit) full. */
const sqliteFull = 13;
const unavailableCodes: ReadonlySet<string> = new Set(['55P03', '40001', '40P01']);

/**
 * The socket's own errors, as pg passes them on when the server cannot be reached (stopped,
 * restarting, failing over, its name not resolving for a moment) or drops the connection.
 */
const socketCodes: ReadonlySet<string> = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN', 'EPIPE']);

/** What pg's pool and client say when a connection cannot be had or is lost mid-statement. */
const connectionMessages = /timeout exceeded when trying to connect|Connection terminated|connection timeout|Client has encountered a connection error|database is locked/i;

/**
 * Whether an error a request failed with is the store's being unavailable for a moment (its
 * deadlines, a lost or refused connection, a lock held elsewhere), which a client may simply send
 * again, rather than a fault of the gateway's own. Such a request changed nothing it acknowledged:
 * a unit of work that fails is rolled back whole.
 */
export function isStoreUnavailable(err: unknown): boolean {
  if (err instanceof UnitDeadlineError || err instanceof StatementDeadlineError || err instanceof ClockDisagreesError) return true;
  if (!(err instanceof Error)) return false;
  const code = (err as { code?: unknown }).code;
  // The embedded store's disk full (SQLite's SQLITE_FULL, as node:sqlite reports it): the failed
  // unit was rolled back, and the same request goes through once space is freed, as on PostgreSQL (53100).
  if (code === 'ERR_SQLITE_ERROR' && (err as { errcode?: unknown }).errcode === sqliteFull) return true;
  if (typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code)) {
    if (unavailableCodes.has(code) || unavailableClasses.includes(code.slice(0, 2))) return true;
  }
  if (typeof code === 'string' && socketCodes.has(code)) return true;
  return connectionMessages.test(err.message);
}
