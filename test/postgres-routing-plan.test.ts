/**
 * PostgreSQL: a payment's routing read returns the PSP accounts its workflow names, and reads only
 * those: every payment runs it, and a merchant may have hundreds of accounts for a cascade of a few.
 * Written as a subquery in the join's condition, the names were no index condition: every account of
 * the merchant was read, the subquery run once for each, and all but the named ones thrown away.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { CompiledQuery, sql, type Kysely } from 'kysely';
import { openStorage, type Storage } from '../src/storage/database.ts';
import { createWorkflowStore } from '../src/workflows/kysely-store.ts';
import { pspAccountInUse } from '../src/payments/kysely-store.ts';
import type { Database } from '../src/storage/schema.ts';
import { postgresAvailable, testPostgresUrl } from './support/harness.ts';

const schema = `sy_routing_plan_${randomBytes(4).toString('hex')}`;
let storage: Storage | undefined;
const skip = !(await postgresAvailable());

before(async () => { if (!skip) storage = await openStorage({ kind: 'postgres', url: testPostgresUrl, schema }); });
after(async () => {
  if (!storage) return;
  await sql.raw(`drop schema if exists "${schema}" cascade`).execute(storage.db);
  await storage.close();
});

test('PostgreSQL: the routing read of a merchant with 300 accounts reads the 2 its cascade names, not all 300', { skip }, async () => {
  const db = storage!.db;
  const now = Date.now();
  for (let m = 0; m < 20; m++) {
    await db.insertInto('merchants').values({ id: `m${m}`, name: 'M', live: 0, client_id: `client-${m}`, workspace_id: 'ws', created_at: now } as never).execute();
    await db.insertInto('psp_accounts').values(Array.from({ length: 300 }, (_, i) => ({
      id: `a${m}x${i}`, merchant_id: `m${m}`, name: `psp-${i}`, connector: 'simulator', settings: '{}', created_at: now, updated_at: now,
    })) as never).execute();
  }
  await sql`analyze`.execute(db);

  // The store's own statement, as it runs it: captured on its way to the database.
  const captured: CompiledQuery[] = [];
  const watched = new Proxy(db, {
    get(target, key) {
      if (key === 'executeQuery') return (q: CompiledQuery) => { captured.push(q); return target.executeQuery(q); };
      const v = Reflect.get(target, key);
      return typeof v === 'function' ? v.bind(target) : v;
    },
  }) as Kysely<Database>;
  const store = createWorkflowStore({ ...storage!.uow, db: watched, run: storage!.uow.run.bind(storage!.uow) }, pspAccountInUse);
  await store.setWorkflow('m7', 'payment-acceptance', { accounts: ['psp-42', 'psp-7'], moveOn: ['soft'], notifyPending: false }, now);
  captured.length = 0;
  const routing = await store.routing('m7', 'payment-acceptance');
  assert.deepEqual(routing.accounts.map((a) => a.name), ['psp-42', 'psp-7']);
  const statement = captured.find((q) => /psp_accounts/.test(q.sql))!;
  assert.ok(statement, 'the routing statement was seen');

  const explained = await db.executeQuery(CompiledQuery.raw(`explain (analyze, format json) ${statement.sql.replace(/^\/\*.*?\*\/\s*/, '')}`, [...statement.parameters]));
  const plan = (explained.rows[0] as Record<string, unknown>)['QUERY PLAN'] as [{ Plan: PlanNode }];
  type PlanNode = { 'Node Type': string; 'Relation Name'?: string; 'Actual Rows': number; 'Actual Loops': number; 'Rows Removed by Join Filter'?: number; Plans?: PlanNode[] };
  const nodes: PlanNode[] = [];
  const walk = (n: PlanNode) => { nodes.push(n); for (const c of n.Plans ?? []) walk(c); };
  walk(plan[0].Plan);
  const accountRowsRead = nodes.filter((n) => n['Relation Name'] === 'psp_accounts').reduce((s, n) => s + n['Actual Rows'] * n['Actual Loops'], 0);
  const discarded = nodes.reduce((s, n) => s + (n['Rows Removed by Join Filter'] ?? 0), 0);
  assert.ok(accountRowsRead <= 2,
    `the statement read ${accountRowsRead} psp_accounts rows and discarded ${discarded} by its join filter for a cascade naming 2 (plan: ${JSON.stringify(plan[0].Plan).slice(0, 600)})`);
});
