/**
 * Queries compiled once and run with new values, on both stores: the rows are those of each call's
 * values, a shape that changes the SQL compiles anew, and builders that would bake a value into the
 * SQL are refused.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { rmSync } from 'node:fs';
import pg from 'pg';
import { sql } from 'kysely';
import { openStorage, type Storage } from './database.ts';
import { prepare } from './prepared.ts';
import { postgresAvailable, tempDir, testPostgresUrl } from '../../test/support/harness.ts';

const id = () => randomBytes(16).toString('hex');
// node:sqlite gives rows without a prototype; the comparisons are of their fields.
const plain = <T extends object>(r: T | undefined) => (r === undefined ? undefined : { ...r });

interface Opened { storage: Storage; destroy(): Promise<void> }

async function openSqliteStore(): Promise<Opened> {
  const dir = tempDir();
  const storage = await openStorage({ kind: 'sqlite', dataDir: dir });
  return { storage, destroy: async () => { await storage.close(); rmSync(dir, { recursive: true, force: true }); } };
}

async function openPostgresStore(): Promise<Opened> {
  const schema = `sy_prep_${randomBytes(6).toString('hex')}`;
  const storage = await openStorage({ kind: 'postgres', url: testPostgresUrl, schema });
  return {
    storage,
    async destroy() {
      await storage.close();
      const client = new pg.Client({ connectionString: testPostgresUrl });
      await client.connect();
      try { await client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`); } finally { await client.end(); }
    },
  };
}

function suite(name: string, open: () => Promise<Opened>, skip?: string) {
  describe(name, skip ? { skip } : {}, () => {
    let opened: Opened;
    let storage: Storage;
    const merchantId = id();
    const at = 1_700_000_000_000;

    before(async () => {
      opened = await open();
      storage = opened.storage;
      await storage.db.insertInto('merchants').values({
        id: merchantId, name: 'Prepared', live: 0, client_id: id(), workspace_id: id(), created_at: at, token_generation: 1,
      }).execute();
    });
    after(() => opened?.destroy());

    const entityRow = (entityId: string, channel: string, unique: 0 | 1) =>
      ({ id: entityId, merchant_id: merchantId, channel_name: channel, unique_merchant_tx: unique, created_at: at });

    test('compiled once, a select returns the rows of each call\'s values, on db and inside a unit of work', async () => {
      const { db } = storage;
      const a = entityRow(id(), 'alpha', 0);
      const b = entityRow(id(), 'beta', 1);
      await db.insertInto('entities').values([a, b]).execute();
      const byId = prepare(db, (q, p: { id: string }) => q.selectFrom('entities').selectAll().where('id', '=', p.id));
      assert.deepEqual(plain(await byId.first(db, { id: a.id })), a);
      assert.deepEqual(plain(await byId.first(db, { id: b.id })), b);
      assert.equal(await byId.first(db, { id: id() }), undefined);
      assert.equal(byId.shapes, 1, 'one compilation served every value');
      const inUnit = await storage.uow.run(async (tx) => [await byId.first(tx, { id: b.id }), await byId.first(tx, { id: a.id })]);
      assert.deepEqual(inUnit.map(plain), [b, a]);
      assert.equal(byId.shapes, 1);
    });

    test('constants of the builder stay; parameters used twice are filled in both places', async () => {
      const { db } = storage;
      const e = entityRow(id(), 'gamma', 1);
      await db.insertInto('entities').values(e).execute();
      const uniqueOfMerchant = prepare(db, (q, p: { merchant: string; id: string }) => q.selectFrom('entities').select('id')
        .where('unique_merchant_tx', '=', 1).where('merchant_id', '=', p.merchant)
        .where('id', 'in', (eb) => eb.selectFrom('entities as e2').select('e2.id').where('e2.merchant_id', '=', p.merchant).where('e2.id', '=', p.id)));
      assert.deepEqual((await uniqueOfMerchant.rows(db, { merchant: merchantId, id: e.id })).map(plain), [{ id: e.id }]);
      assert.deepEqual(await uniqueOfMerchant.rows(db, { merchant: id(), id: e.id }), [], 'the second use of "merchant" took the new value too');
    });

    test('writes: each call inserts and updates its own values, and says how many rows it changed', async () => {
      const { db } = storage;
      const insert = prepare(db, (q, p: { id: string; merchant: string; channel: string; unique: number; at: number }) => q.insertInto('entities')
        .values({ id: p.id, merchant_id: p.merchant, channel_name: p.channel, unique_merchant_tx: p.unique, created_at: p.at }));
      const rename = prepare(db, (q, p: { id: string; channel: string }) => q.updateTable('entities').set({ channel_name: p.channel }).where('id', '=', p.id));
      const one = id();
      const two = id();
      await storage.uow.run(async (tx) => {
        assert.equal(await insert.affected(tx, { id: one, merchant: merchantId, channel: 'one', unique: 0, at }), 1);
        assert.equal(await insert.affected(tx, { id: two, merchant: merchantId, channel: 'two', unique: 1, at: at + 1 }), 1);
      });
      assert.equal(await rename.affected(db, { id: two, channel: 'renamed' }), 1);
      assert.equal(await rename.affected(db, { id: id(), channel: 'nobody' }), 0);
      const rows = await db.selectFrom('entities').select(['id', 'channel_name', 'unique_merchant_tx', 'created_at']).where('id', 'in', [one, two]).orderBy('created_at').execute();
      assert.deepEqual(rows.map((r) => [r.id, r.channel_name, Number(r.unique_merchant_tx), Number(r.created_at)]), [[one, 'one', 0, at], [two, 'renamed', 1, at + 1]]);
    });

    test('null is a value like any other: the same compiled query binds it', async () => {
      const { db } = storage;
      const cardless = id();
      const setCard = prepare(db, (q, p: { id: string; card: string | null }) => q.updateTable('payments').set({ card_id: p.card }).where('id', '=', p.id));
      await db.insertInto('payments').values({
        id: cardless, merchant_id: merchantId, channel: 'opp', entity_id: null, initial_type: 'sale', status: 'pending', currency: 'EUR',
        amount: 100, card_id: null, method: 'card', mode: 'test', psp_account_id: null, workflow_code: null, version: 1, created_at: at, updated_at: at,
      }).execute();
      assert.equal(await setCard.affected(db, { id: cardless, card: null }), 1);
      assert.equal(setCard.shapes, 1);
      const row = await db.selectFrom('payments').select('card_id').where('id', '=', cardless).executeTakeFirstOrThrow();
      assert.equal(row.card_id, null);
    });

    test('a shape that changes the SQL is never served another shape\'s query: row counts, list lengths, absent keys', async () => {
      const { db } = storage;
      type Row = { id: string; merchant_id: string; channel_name: string; unique_merchant_tx: number; created_at: number };
      const insertMany = prepare(db, (q, p: { rows: Row[] }) => q.insertInto('entities').values(p.rows));
      const rows = (n: number, channel: string) => Array.from({ length: n }, () => entityRow(id(), channel, 0));
      const one = rows(1, 'batch-1');
      const three = rows(3, 'batch-3');
      const two = rows(2, 'batch-2');
      assert.equal(await insertMany.affected(db, { rows: one }), 1);
      assert.equal(await insertMany.affected(db, { rows: three }), 3);
      assert.equal(await insertMany.affected(db, { rows: two }), 2);
      assert.equal(insertMany.shapes, 3, 'one compiled insert per row count');
      assert.notEqual(insertMany.sqlFor({ rows: one }), insertMany.sqlFor({ rows: three }));

      const byIds = prepare(db, (q, p: { ids: string[] }) => q.selectFrom('entities').select('id').where('id', 'in', p.ids).orderBy('id'));
      const ids = [...one, ...two, ...three].map((r) => r.id);
      assert.deepEqual((await byIds.rows(db, { ids: ids.slice(0, 2) })).map((r) => r.id), ids.slice(0, 2).sort());
      assert.deepEqual((await byIds.rows(db, { ids })).map((r) => r.id), [...ids].sort());
      assert.deepEqual((await byIds.rows(db, { ids: ids.slice(2, 4) })).map((r) => r.id), ids.slice(2, 4).sort());
      assert.equal(byIds.shapes, 2, 'lists of two share a query; a list of six has its own');
      // More shapes than are kept: each still runs its own SQL, the ones kept or compiled again.
      const many = rows(70, 'many');
      for (let i = 0; i < many.length; i += 10) await insertMany.affected(db, { rows: many.slice(i, i + 10) });
      for (const n of [...Array.from({ length: 70 }, (_, i) => i + 1), 3, 17, 1, 70]) {
        const wanted = many.slice(0, n).map((r) => r.id);
        assert.deepEqual((await byIds.rows(db, { ids: wanted })).map((r) => r.id), [...wanted].sort(), `a list of ${n}`);
      }
      assert.equal(byIds.shapes, 64, 'the shapes kept stay bounded');

      // Kysely leaves an undefined column out of a SET: with it absent, the row keeps its value.
      const touch = prepare(db, (q, p: { id: string; channel?: string; at: number }) => q.updateTable('entities')
        .set({ created_at: p.at, channel_name: p.channel }).where('id', '=', p.id));
      const target = one[0]!.id;
      await touch.affected(db, { id: target, channel: 'changed', at: at + 5 });
      await touch.affected(db, { id: target, channel: undefined, at: at + 6 });
      const row = await db.selectFrom('entities').select(['channel_name', 'created_at']).where('id', '=', target).executeTakeFirstOrThrow();
      assert.deepEqual([row.channel_name, Number(row.created_at)], ['changed', at + 6], 'the second call did not reuse the SET that names channel_name');
      assert.equal(touch.shapes, 2);
    });

    test('null is part of the shape: an object filter gives "is null" for null and "= ?" for a value', async () => {
      const { db } = storage;
      const subject = id();
      const event = (traceparent: string | null) => ({
        id: id(), merchant_id: merchantId, type: 'prepared.test', subject_id: subject, payload: '{}', created_at: at, delivered_at: null, traceparent,
      });
      const [traced, untraced] = [event('00-trace-a'), event(null)];
      await db.insertInto('outbox').values([traced, untraced]).execute();
      const byTrace = prepare(db, (q, p: { subject: string; trace: string | null }) => q.selectFrom('outbox').select('id')
        .where((eb) => eb.and({ subject_id: p.subject, traceparent: p.trace })));
      assert.deepEqual((await byTrace.rows(db, { subject, trace: '00-trace-a' })).map((r) => r.id), [traced.id]);
      assert.deepEqual((await byTrace.rows(db, { subject, trace: null })).map((r) => r.id), [untraced.id], 'a placeholder would have given "= NULL": no row');
      assert.match(byTrace.sqlFor({ subject, trace: null }), /"traceparent" is null/);
      assert.equal(byTrace.shapes, 2);
    });

    test('builders that would put a value into the SQL text, or compare it with "is", are refused', () => {
      const { db } = storage;
      const raw = prepare(db, (q, p: { id: string }) => q.selectFrom('entities').selectAll().where(sql.raw(`id = '${p.id}'`) as never));
      assert.throws(() => raw.sqlFor({ id: 'x' }), /used a parameter as a value/);
      const branching = prepare(db, (q, p: { id: string; flag: number }) => {
        // A builder that reads a value decides once for every call; the unused parameter gives it away.
        void p.flag;
        return q.selectFrom('entities').selectAll().where('id', '=', p.id);
      });
      assert.throws(() => branching.sqlFor({ id: 'x', flag: 1 }), /1 of 2 parameters are not bound/);
      const isNull = prepare(db, (q, p: { card: string | null }) => q.selectFrom('payments').select('id').where('card_id', 'is', p.card));
      assert.throws(() => isNull.sqlFor({ card: 'x' }), /on the right of "is"/);
      assert.match(isNull.sqlFor({ card: null }), /"card_id" is null/, 'null is part of the shape: the builder sees it as it is');
      const date = prepare(db, (q, p: { at: number }) => q.selectFrom('entities').select('id').where('created_at', '=', p.at));
      assert.throws(() => date.sqlFor({ at: new Date() as never }), /must be a string, number/);
    });
  });
}

suite('prepared queries: SQLite', openSqliteStore);
const pgUp = await postgresAvailable();
suite('prepared queries: PostgreSQL', openPostgresStore, pgUp ? undefined : `PostgreSQL is not reachable at ${testPostgresUrl.replace(/\/\/[^@]*@/, '//***@')}`);
