import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'kysely';
import { openStorage } from './database.ts';

const dir = mkdtempSync(join(tmpdir(), 'switchyard-plans-'));
const storage = await openStorage({ kind: 'sqlite', dataDir: dir });
after(async () => { await storage.close(); rmSync(dir, { recursive: true, force: true }); });

/** SQLite's plan for a query; its placeholders stay unbound (NULL), which the plan does not depend on. */
async function planOf(query: { compile(): { sql: string } }): Promise<string[]> {
  const rows = await sql.raw<{ detail: string }>(`explain query plan ${query.compile().sql}`).execute(storage.db);
  return rows.rows.map((r) => r.detail);
}

test('the relay reads undispatched outbox events in written order from a partial index, with no sort', async () => {
  const poll = storage.db.selectFrom('outbox').selectAll().select(sql<number>`rowid`.as('seq'))
    .where('delivered_at', 'is', null).orderBy(sql`rowid`).limit(100);
  const plan = await planOf(poll);
  assert.ok(plan.some((d) => d.includes('outbox_undispatched')), plan.join('; '));
  assert.ok(!plan.some((d) => d.includes('TEMP B-TREE')), `no sort of the backlog: ${plan.join('; ')}`);
  // The outbox-lag gauge (app.ts) reads the first of the backlog in the same order, never all of it.
  const oldest = storage.db.selectFrom('outbox').select('created_at as oldest').where('delivered_at', 'is', null)
    .orderBy(sql`rowid`).limit(1);
  const gauge = await planOf(oldest);
  assert.ok(gauge.some((d) => d.includes('outbox_undispatched')) && !gauge.some((d) => d.includes('TEMP B-TREE')), gauge.join('; '));
});

test('an opened store keeps its sub-journals in memory (set after the migrations, which ran with the default)', async () => {
  const r = await sql<{ temp_store: number }>`pragma temp_store`.execute(storage.db);
  assert.equal(r.rows[0]!.temp_store, 2, 'MEMORY');
});
