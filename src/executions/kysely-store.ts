import { createHash } from 'node:crypto';
import { sql, type Selectable } from 'kysely';
import type { ExecutionsTable } from '../storage/schema.ts';
import type { Tx, UnitOfWork } from '../storage/unit-of-work.ts';
import type { ExecutionRecord, ExecutionStatus } from './model.ts';
import type { ExecutionStore, ExecutionWriter } from './store.ts';

/**
 * The PostgreSQL channel execution changes are announced on (payload: the execution id). NOTIFY is
 * database-wide, so the channel is the schema's own: gateways of two schemas in one database (a
 * staging and a live deployment, or tests) would otherwise wake each other's long-polls for
 * nothing. A hash keeps the name within PostgreSQL's 63 bytes for any schema name.
 */
export function executionChannelOf(schema: string): string {
  return `switchyard_executions_${createHash('sha256').update(schema).digest('hex').slice(0, 16)}`;
}

/**
 * The one channel every schema shared before. During a rolling upgrade, nodes from before listen and
 * announce only there: changes are announced on it as well, and listened for on it, so wake-ups cross
 * between old and new nodes both ways. To be dropped in the release after the one that made the
 * channel per schema; until then, another schema's changes on it still wake long-polls here (they
 * re-read and wait on, as they did before).
 */
export const sharedExecutionChannel = 'switchyard_executions';

/** The channels a schema's execution changes are announced on. */
export const executionChannelsOf = (schema: string): readonly string[] => [executionChannelOf(schema), sharedExecutionChannel];

const parse = <T>(s: string | null): T | undefined => (s === null ? undefined : JSON.parse(s) as T);

const toRecord = (r: Selectable<ExecutionsTable>): ExecutionRecord => ({
  id: r.id, merchantId: r.merchant_id, workflowCode: r.workflow_code, merchantReference: r.merchant_reference ?? undefined,
  holderReference: r.holder_reference ?? undefined, workspaceId: r.workspace_id, meta: JSON.parse(r.meta),
  status: r.status as ExecutionStatus, history: JSON.parse(r.history), authorize: parse(r.authorize),
  paymentId: r.payment_id ?? undefined, action: parse(r.action), actions: JSON.parse(r.actions),
  captureClosed: r.capture_closed === 1, version: r.version, createdAt: r.created_at, updatedAt: r.updated_at,
});

const toRow = (e: ExecutionRecord): ExecutionsTable => ({
  id: e.id, merchant_id: e.merchantId, workflow_code: e.workflowCode, merchant_reference: e.merchantReference ?? null,
  holder_reference: e.holderReference ?? null, workspace_id: e.workspaceId, meta: JSON.stringify(e.meta), status: e.status,
  history: JSON.stringify(e.history), amount: e.authorize?.amount.amount ?? null, currency: e.authorize?.amount.currency ?? null,
  instrument_id: e.authorize?.instrumentId ?? null, payment_id: e.paymentId ?? null,
  authorize: e.authorize ? JSON.stringify(e.authorize) : null, action: e.action ? JSON.stringify(e.action) : null,
  actions: JSON.stringify(e.actions), capture_closed: e.captureClosed ? 1 : 0, version: e.version,
  created_at: e.createdAt, updated_at: e.updatedAt,
});

export function createExecutionStore(uow: UnitOfWork, channels: readonly string[] = []): ExecutionStore {
  const { db } = uow;
  const opts = { postgres: uow.kind === 'postgres' };
  function writer(tx: Tx): ExecutionWriter {
    return {
      async lock(id) {
        let q = tx.selectFrom('executions').selectAll().where('id', '=', id);
        if (opts.postgres) q = q.forUpdate();
        const r = await q.executeTakeFirst();
        return r ? toRecord(r) : undefined;
      },
      async lockByPayment(paymentId) {
        let q = tx.selectFrom('executions').selectAll().where('payment_id', '=', paymentId);
        if (opts.postgres) q = q.forUpdate();
        const r = await q.executeTakeFirst();
        return r ? toRecord(r) : undefined;
      },
      async insert(e) {
        await tx.insertInto('executions').values(toRow(e)).execute();
      },
      async update(e) {
        const { id, created_at: _c, ...rest } = toRow(e);
        await tx.updateTable('executions').set(rest).where('id', '=', id).execute();
      },
      async notify(id) {
        // NOTIFY is transactional: listeners hear it only once the change is committed.
        if (channels.length > 0) await sql`select ${sql.join(channels.map((c) => sql`pg_notify(${c}, ${id})`))}`.execute(tx);
      },
    };
  }
  return {
    writer,
    async get(id) {
      const r = await db.selectFrom('executions').selectAll().where('id', '=', id).executeTakeFirst();
      return r ? toRecord(r) : undefined;
    },
    async byPayment(paymentId) {
      const r = await db.selectFrom('executions').selectAll().where('payment_id', '=', paymentId).executeTakeFirst();
      return r ? toRecord(r) : undefined;
    },
    async list(f) {
      let q = db.selectFrom('executions').selectAll().where('merchant_id', '=', f.merchantId).where('workflow_code', '=', f.workflowCode);
      if (f.merchantReference !== undefined) q = q.where('merchant_reference', '=', f.merchantReference);
      if (f.holderReference !== undefined) q = q.where('holder_reference', '=', f.holderReference);
      if (f.lastStatus !== undefined) q = q.where('status', '=', f.lastStatus);
      if (f.workspaceId !== undefined) q = q.where('workspace_id', '=', f.workspaceId);
      const before = f.before;
      // As one row value: the next page starts where the index range does, not after a walk past every newer execution.
      if (before) q = q.where((eb) => eb(eb.refTuple('created_at', 'id'), '<', eb.tuple(before.createdAt, before.id)));
      const rows = await q.orderBy('created_at', 'desc').orderBy('id', 'desc').limit(f.limit).execute();
      return rows.map(toRecord);
    },
  };
}
