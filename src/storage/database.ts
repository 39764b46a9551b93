import { ensurePrivateDir, restrictFiles } from '../runtime/private-files.ts';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { sql, type Kysely } from 'kysely';
import { Migrator, type Migration } from 'kysely/migration';
import type { Database } from './schema.ts';
import { keepJournalsInMemory, openSqlite } from './sqlite.ts';
import { WalSync } from './wal-sync.ts';
import { openPostgres } from './postgres.ts';
import { createUnitOfWork, type GroupCommitOptions, type UnitOfWork, type UnitOfWorkObserver } from './unit-of-work.ts';
import { initial } from './migrations/001_initial.ts';
import { webhooks } from './migrations/010_webhooks.ts';
import { executions } from './migrations/020_executions.ts';
import { browser } from './migrations/030_browser.ts';
import { challenges } from './migrations/002_challenges.ts';
import { registrations } from './migrations/025_registrations.ts';
import { jobs } from './migrations/040_jobs.ts';
import { engine } from './migrations/050_engine.ts';
import { ledger } from './migrations/060_ledger.ts';
import { cvvHolds } from './migrations/092_cvv_holds.ts';
import { settlement } from './migrations/070_settlement.ts';
import { cardFingerprintScope } from './migrations/035_card_fingerprint_scope.ts';
import { checkouts } from './migrations/085_checkouts.ts';
import { pspAccountSecrets } from './migrations/075_psp_account_secrets.ts';
import { eventOrder } from './migrations/095_event_order.ts';
import { dashboard } from './migrations/080_dashboard.ts';
import { pspRedirects } from './migrations/078_psp_redirects.ts';
import { credentialRotation } from './migrations/096_credential_rotation.ts';
import { outboxQueueIndex } from './migrations/097_outbox_queue_index.ts';
import { lateApprovals } from './migrations/098_late_approvals.ts';
import { keyedRequestHashes } from './migrations/099_keyed_request_hashes.ts';
import { merchantTokenizationKeys } from './migrations/100_merchant_tokenization_keys.ts';
import { jobRuns } from './migrations/101_job_runs.ts';
import { webhookRedeliveries } from './migrations/102_webhook_redeliveries.ts';
import { attemptLookups } from './migrations/103_attempt_lookups.ts';
import { deliveryOrderBackfill } from './migrations/104_delivery_order_backfill.ts';
import { cardErasure } from './migrations/106_card_erasure.ts';
import { releasedCards } from './migrations/107_released_cards.ts';
import { releasedCardsBackfill } from './migrations/108_released_cards_backfill.ts';
import { discrepancyExpectedCurrency } from './migrations/109_discrepancy_expected_currency.ts';
import { rateHitsAt } from './migrations/110_rate_hits_at.ts';
import { checkoutsUnpaidExpiry } from './migrations/111_checkouts_unpaid_expiry.ts';
import { outboxDispatched } from './migrations/112_outbox_dispatched.ts';
import { lookupIndexes } from './migrations/113_lookup_indexes.ts';
import { discrepancyReportedNet } from './migrations/114_discrepancy_reported_net.ts';
import { simulatorAnswers } from './migrations/115_simulator_answers.ts';
import { jobScanIndexes } from './migrations/105_job_scan_indexes.ts';

export type { Database };

/** Numbered migrations, applied in order at start (tests that rebuild an old store use these very objects). */
export const shippedMigrations: Readonly<Record<string, Migration>> = {
  '001_initial': initial,
  '010_webhooks': webhooks,
  '002_challenges': challenges,
  '020_executions': executions,
  '025_registrations': registrations,
  '030_browser': browser,
  '040_jobs': jobs,
  '050_engine': engine,
  '060_ledger': ledger,
  '092_cvv_holds': cvvHolds,
  '070_settlement': settlement,
  '035_card_fingerprint_scope': cardFingerprintScope,
  '085_checkouts': checkouts,
  '075_psp_account_secrets': pspAccountSecrets,
  '095_event_order': eventOrder,
  '080_dashboard': dashboard,
  '078_psp_redirects': pspRedirects,
  '096_credential_rotation': credentialRotation,
  '097_outbox_queue_index': outboxQueueIndex,
  '098_late_approvals': lateApprovals,
  '099_keyed_request_hashes': keyedRequestHashes,
  '100_merchant_tokenization_keys': merchantTokenizationKeys,
  '101_job_runs': jobRuns,
  '102_webhook_redeliveries': webhookRedeliveries,
  '103_attempt_lookups': attemptLookups,
  '104_delivery_order_backfill': deliveryOrderBackfill,
  '105_job_scan_indexes': jobScanIndexes,
  '106_card_erasure': cardErasure,
  '107_released_cards': releasedCards,
  '108_released_cards_backfill': releasedCardsBackfill,
  '109_discrepancy_expected_currency': discrepancyExpectedCurrency,
  '110_rate_hits_at': rateHitsAt,
  '111_checkouts_unpaid_expiry': checkoutsUnpaidExpiry,
  '112_outbox_dispatched': outboxDispatched,
  '113_lookup_indexes': lookupIndexes,
  '114_discrepancy_reported_net': discrepancyReportedNet,
  '115_simulator_answers': simulatorAnswers,
};

/** Every migration's name, in the order they apply. */
export const migrationNames: readonly string[] = Object.keys(shippedMigrations).sort();

/** The handle every store implementation is built over. */
export interface Storage {
  readonly db: Kysely<Database>;
  readonly kind: 'sqlite' | 'postgres';
  /** PostgreSQL: the schema the store lives in (several gateways may share one database, each in its own). */
  readonly schema?: string;
  /** Opens the transactions every store writes in. */
  readonly uow: UnitOfWork;
  close(): Promise<void>;
}

/**
 * `schema` names where PostgreSQL keeps the migration bookkeeping: Kysely looks for its tables in
 * every schema otherwise, and another schema's bookkeeping would make it skip creating ours.
 */
/** Brings the store's schema up to date; the names of the migrations it ran (none when up to date). */
export async function migrate(db: Kysely<Database>, schema?: string): Promise<string[]> {
  // A store a newer release has migrated further (a rolling upgrade over one PostgreSQL schema, a
  // node of this release restarting meanwhile): when every migration of ours has run and the others
  // all come after ours, this node serves it as it is, as it did a moment before the newer node
  // migrated. Kysely's migrator would refuse it as corrupt. Anything else unknown is refused.
  const applied = await appliedMigrations(db, schema);
  const unknown = applied.filter((name) => !migrationNames.includes(name));
  if (unknown.length > 0) {
    const newest = migrationNames.at(-1)!;
    if (unknown.every((name) => name > newest) && migrationNames.every((name) => applied.includes(name))) return [];
    throw new Error(`the store holds migrations this release does not know (${unknown.join(', ')}) among its own: it was written by another release`);
  }
  const migrator = new Migrator({
    db, provider: { getMigrations: async () => shippedMigrations },
    ...(schema ? { migrationTableSchema: schema } : {}),
  });
  const { error, results } = await migrator.migrateToLatest();
  if (error) {
    const failed = results?.find((r) => r.status === 'Error');
    throw new Error(`migration ${failed?.migrationName ?? '?'} failed: ${String(error)}`);
  }
  return (results ?? []).filter((r) => r.status === 'Success').map((r) => r.migrationName);
}

/** The names of the migrations the store has run (none for a new store). */
async function appliedMigrations(db: Kysely<Database>, schema?: string): Promise<string[]> {
  const table = schema ? sql.table(`${schema}.kysely_migration`) : sql.table('kysely_migration');
  try {
    return (await sql<{ name: string }>`select name from ${table}`.execute(db)).rows.map((r) => r.name);
  } catch {
    return [];
  }
}

/** The migrations of a newer release the store holds (a rolling upgrade under way): said at start. */
export async function newerMigrations(storage: Storage): Promise<string[]> {
  const applied = await appliedMigrations(storage.db, storage.schema);
  return applied.filter((name) => !migrationNames.includes(name));
}

/** The migrations this code has that the store has not applied (readiness: a node must not serve an older schema). */
export async function pendingMigrations(storage: Storage): Promise<string[]> {
  const schema = storage.kind === 'postgres'
    ? (await sql<{ s: string }>`select current_schema() as s`.execute(storage.db)).rows[0]!.s
    : undefined;
  const migrator = new Migrator({
    db: storage.db, provider: { getMigrations: async () => shippedMigrations },
    ...(schema ? { migrationTableSchema: schema } : {}),
  });
  return (await migrator.getMigrations()).filter((m) => m.executedAt === undefined).map((m) => m.name);
}

/**
 * Indexes on tables nodes of the previous release keep writing to during a rolling upgrade (rate
 * counts, checkouts), built after the migrations rather than in them. Kysely runs the pending
 * migrations of PostgreSQL in one transaction, and an ordinary index build stops writes to its table
 * until that transaction ends: every status read and sign-in of the older nodes would wait for the
 * whole upgrade. Here each is built on its own, on PostgreSQL `CONCURRENTLY` (writes go on meanwhile),
 * one node at a time; one an interrupted build left invalid is built again.
 */
const builtAfterMigrating: readonly { name: string; table: string; columns: readonly string[]; where?: string; only?: 'sqlite' }[] = [
  { name: 'rate_hits_at', table: 'rate_hits', columns: ['at'] },
  { name: 'checkouts_unpaid_expiry', table: 'checkouts', columns: ['expires_at'], where: 'payment_id is null' },
  // PostgreSQL has `outbox_pending_seq` for it.
  { name: 'outbox_dispatched', table: 'outbox', columns: ['delivered_at'], where: 'delivered_at is not null', only: 'sqlite' },
  // The delivery log, newest first: all of it or since a time, and one merchant's.
  { name: 'webhook_deliveries_created', table: 'webhook_deliveries', columns: ['created_at', 'id'] },
  { name: 'webhook_deliveries_merchant', table: 'webhook_deliveries', columns: ['merchant_id', 'created_at', 'id'] },
  // Executions found by the merchant's own order or holder reference (a merchant polling by its order id).
  { name: 'executions_merchant_reference', table: 'executions', columns: ['merchant_id', 'workflow_code', 'merchant_reference', 'created_at', 'id'], where: 'merchant_reference is not null' },
  { name: 'executions_holder_reference', table: 'executions', columns: ['merchant_id', 'workflow_code', 'holder_reference', 'created_at', 'id'], where: 'holder_reference is not null' },
  // A merchant-scoped admin's audit page, newest first.
  { name: 'audit_log_merchant', table: 'audit_log', columns: ['merchant_id', 'at', 'id'] },
  // A merchant's ledger export, page by page through its window.
  { name: 'postings_merchant_time', table: 'postings', columns: ['merchant_id', 'created_at'] },
  // A key rotation's batches: the cards still wrapped under an older key.
  { name: 'cards_key_version', table: 'cards', columns: ['key_version'], where: 'erased_at is null' },
];

const indexedColumns = (columns: readonly string[]) => sql.join(columns.map((c) => sql.id(c)));

export async function buildIndexesAfterMigrating(db: Kysely<Database>, kind: 'sqlite' | 'postgres', schema?: string, fresh = false): Promise<void> {
  // SQLite has one writer anyway; a store whose tables this start created has no other node
  // writing to them (and a concurrent build waits for every older snapshot in the database).
  if (kind === 'sqlite' || fresh) {
    for (const i of builtAfterMigrating.filter((x) => x.only === undefined || x.only === kind)) {
      await sql`create index if not exists ${sql.id(i.name)} on ${kind === 'sqlite' ? sql.id(i.table) : sql.id(schema ?? 'public', i.table)} (${indexedColumns(i.columns)}) ${sql.raw(i.where ? `where ${i.where}` : '')}`.execute(db);
    }
    return;
  }
  const ns = schema ?? 'public';
  // One connection, holding a session lock: two nodes starting at once would otherwise see each
  // other's build under way as an invalid index, and drop it. The lock is tried, not waited for: a
  // statement waiting for it holds a snapshot, which the other node's concurrent build waits for in
  // turn (a deadlock PostgreSQL ends by failing one node's start).
  const key = `switchyard: indexes built after migrating in ${ns}`;
  await db.connection().execute(async (c) => {
    while (!(await sql<{ held: boolean }>`select pg_try_advisory_lock(hashtext(${key})) as held`.execute(c)).rows[0]!.held) {
      await new Promise((r) => setTimeout(r, 100));
    }
    try {
      for (const i of builtAfterMigrating.filter((x) => x.only === undefined)) {
        const found = (await sql<{ valid: boolean }>`select x.indisvalid as valid from pg_class c join pg_index x on x.indexrelid = c.oid
          join pg_namespace n on n.oid = c.relnamespace where c.relname = ${i.name} and n.nspname = ${ns}`.execute(c)).rows[0];
        if (found?.valid) continue;
        if (found) await sql`drop index concurrently if exists ${sql.id(ns, i.name)}`.execute(c);
        await sql`create index concurrently if not exists ${sql.id(i.name)} on ${sql.id(ns, i.table)} (${indexedColumns(i.columns)}) ${sql.raw(i.where ? `where ${i.where}` : '')}`.execute(c);
      }
    } finally {
      await sql`select pg_advisory_unlock(hashtext(${key}))`.execute(c);
    }
  });
}

/** A failed migration must not leave a pool or file handle keeping the process alive. */
async function migrateOrClose(db: Kysely<Database>, schema?: string, kind: 'sqlite' | 'postgres' = 'sqlite'): Promise<void> {
  try {
    const ran = await migrate(db, schema);
    await buildIndexesAfterMigrating(db, kind, schema, ran.includes(migrationNames[0]!));
  } catch (err) {
    await db.destroy();
    throw err;
  }
}

export type StorageTarget =
  | { kind: 'sqlite'; dataDir: string; unitDeadlineMs?: number }
  | { kind: 'postgres'; url: string; schema?: string; preparedStatements?: boolean; statementDeadlineMs?: number; unitDeadlineMs?: number };

/** A unit of work still running this long is given up (GroupCommitOptions.deadlineMs). */
export const defaultUnitDeadlineMs = 60_000;

/**
 * Group commit per store. SQLite has one writer: one transaction at a time carries every unit that
 * queued behind it, and its fsync is shared (measured: 15 units per commit at 16 connections, 60 at
 * 64). PostgreSQL keeps one transaction per unit, at most six at once (four of the pool's ten stay
 * for reads): it already shares WAL flushes between concurrent commits, and units batched into one
 * transaction there would hold each other's row and advisory locks until the batch commits — two
 * lanes' batches taking the same rows in opposite order deadlock (seen in a review, one unit failed
 * after PostgreSQL's one-second deadlock timeout), which one transaction per unit never does.
 */
export const groupCommit: Readonly<Record<'sqlite' | 'postgres', GroupCommitOptions>> = {
  sqlite: { lanes: 1, maxBatch: 64, gather: true },
  postgres: { lanes: 6, maxBatch: 1, gather: false },
};

/**
 * The database named by DATABASE_URL could not be reached or would not let us in (refused, unknown
 * host, no such database or role, a wrong password): an operator's setting, told in one sentence
 * naming where it pointed (host, port and database; never the password).
 */
export class StoreUnreachableError extends Error {}

async function reach<T>(url: string, open: () => Promise<T>): Promise<T> {
  try {
    return await open();
  } catch (err) {
    let where = 'the configured server';
    try { const u = new URL(url); where = `${u.hostname}:${u.port || '5432'}${u.pathname.length > 1 ? ` (database ${decodeURIComponent(u.pathname.slice(1))})` : ''}`; } catch { /* the URL was checked when the settings were read */ }
    const why = err instanceof Error ? err.message : String(err);
    throw new StoreUnreachableError(`DATABASE_URL: PostgreSQL at ${where} could not be used: ${why}`, { cause: err });
  }
}

/** A PostgreSQL statement unanswered this long closes its connection (see postgres-deadline.ts). */
export const defaultStatementDeadlineMs = 30_000;

/**
 * How long the server lets a session sit idle inside a transaction before it ends it (see
 * postgres.ts): as long as a statement may go unanswered before the node itself gives up its
 * connection (else as long as a unit may run), and never under 5 s, which no healthy unit, nor a
 * migration, idles between two statements. 0: never.
 */
export function idleInTransactionMs(target: { statementDeadlineMs?: number; unitDeadlineMs?: number }): number {
  const bound = (target.statementDeadlineMs ?? defaultStatementDeadlineMs) || (target.unitDeadlineMs ?? defaultUnitDeadlineMs);
  return bound > 0 ? Math.max(bound, 5000) : 0;
}

/** Opens the configured store and brings its schema up to date. */
/** The embedded store's database file in a data folder (its -wal and -shm files lie beside it). */
export const sqliteFile = (dataDir: string) => join(dataDir, 'switchyard.sqlite');

export async function openStorage(target: StorageTarget, observer?: UnitOfWorkObserver): Promise<Storage> {
  if (target.kind === 'sqlite') {
    ensurePrivateDir(target.dataDir);
    const file = sqliteFile(target.dataDir);
    // A folder holding the master key its first start made, but no store: the store was lost (its
    // file deleted, or its WAL deleted before anything was checkpointed). A new one made over it
    // would answer as though no merchant, card or payment had ever been, and be taken for the store.
    const keyed = existsSync(join(target.dataDir, 'master.key'));
    const lost = (what: string) => new Error(`${target.dataDir} holds a master key but ${what}: the store was lost. Restore it from a backup (switchyard restore FILE), or, to start afresh, remove master.key from the folder too`);
    if (keyed && !existsSync(file)) throw lost(`no store (${file})`);
    restrictFiles(file, [`${file}-wal`, `${file}-shm`, `${file}-journal`]);
    const { db, raw } = openSqlite(file, { wal: new WalSync(`${file}-wal`, { observe: observer?.flush?.bind(observer) }) });
    if (keyed && (await appliedMigrations(db)).length === 0) {
      await db.destroy();
      throw lost(`an empty store (${file}: remove it and its -wal and -shm files before a restore)`);
    }
    await migrateOrClose(db);
    keepJournalsInMemory(raw);
    const options = { ...groupCommit.sqlite, deadlineMs: target.unitDeadlineMs ?? defaultUnitDeadlineMs };
    return { db, kind: 'sqlite', uow: createUnitOfWork(db, 'sqlite', options, observer), close: () => db.destroy() };
  }
  // Unset while the migrations run: building an index on a large table may rightly take minutes.
  const deadline = { ms: 0 };
  const unitDeadlineMs = target.unitDeadlineMs ?? defaultUnitDeadlineMs;
  const open = (lockTimeoutMs: number) => openPostgres(target.url, {
    deadline,
    idleInTransactionMs: idleInTransactionMs(target),
    lockTimeoutMs,
    ...(observer?.connectionLost ? { connectionLost: observer.connectionLost.bind(observer) } : {}),
    ...(target.schema ? { schema: target.schema } : {}),
    ...(target.preparedStatements === false ? { preparedStatements: false } : {}),
  });
  const reached = await reach(target.url, () => open(0).then(async ({ db }) => {
    try {
      // Where the store really lives: a schema given apart wins over a search_path in the URL's options (its setting comes after).
      const current = (await sql<{ s: string | null }>`select current_schema() as s`.execute(db)).rows[0]?.s;
      // A search_path naming no schema that exists leaves nowhere to create the tables: said so,
      // rather than as the first migration's missing table.
      if (!current && !target.schema) throw new Error('the search_path in its options names no schema that exists: create that schema first, or name one that exists');
      return { db, current };
    } catch (err) {
      await db.destroy();
      throw err;
    }
  }));
  const schema = reached.current ?? target.schema ?? 'public';
  // Migrations on connections of their own, without a lock timeout: a node starting while another
  // migrates (a rolling upgrade) waits for its lock, however long that migration takes.
  await migrateOrClose(reached.db, schema, 'postgres');
  await reached.db.destroy();
  deadline.ms = target.statementDeadlineMs ?? defaultStatementDeadlineMs;
  const { db } = await reach(target.url, () => open(unitDeadlineMs));
  const options = { ...groupCommit.postgres, deadlineMs: unitDeadlineMs };
  return { db, kind: 'postgres', schema, uow: createUnitOfWork(db, 'postgres', options, observer), close: () => db.destroy() };
}
