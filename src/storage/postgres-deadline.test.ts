import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { sql } from 'kysely';
import { openStorage } from './database.ts';
import { StatementDeadlineError } from './postgres-deadline.ts';
import { postgresAvailable, testPostgresUrl } from '../../test/support/harness.ts';
import { postgresProxy } from '../../test/support/postgres-proxy.ts';

const skip = (await postgresAvailable()) ? false : 'PostgreSQL is not reachable';

test('a statement PostgreSQL leaves unanswered closes its connection: the unit of work fails, its write is not committed, and the next unit runs on a new connection', { skip, timeout: 30_000 }, async () => {
  const schema = `sy_deadline_${randomBytes(4).toString('hex')}`;
  const proxy = await postgresProxy();
  const storage = await openStorage({ kind: 'postgres', url: proxy.url, schema, statementDeadlineMs: 300 });
  const direct = new pg.Client({ connectionString: testPostgresUrl });
  await direct.connect();
  try {
    await direct.query(`create table "${schema}".marks (note text not null)`);
    await storage.uow.run((tx) => sql`insert into marks (note) values ('before')`.execute(tx));

    proxy.freeze();
    const frozenUnit = storage.uow.run(async (tx) => {
      await sql`insert into marks (note) values ('frozen')`.execute(tx);
      await sql`select count(*) from marks`.execute(tx);
    });
    await assert.rejects(frozenUnit, (err: unknown) => err instanceof StatementDeadlineError || (err instanceof Error && err.cause instanceof StatementDeadlineError));
    proxy.thaw();

    await storage.uow.run((tx) => sql`insert into marks (note) values ('after')`.execute(tx));
    // PostgreSQL rolls back the transaction of a connection that went away; give it the moment it takes to see the close.
    let notes: string[] = [];
    for (let i = 0; i < 50; i++) {
      const open = await direct.query(`select count(*)::int as n from pg_stat_activity where state like 'idle in transaction%' and query like '%marks%'`);
      notes = (await direct.query(`select note from "${schema}".marks order by note`)).rows.map((r) => r.note);
      if (open.rows[0].n === 0) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    assert.deepEqual(notes, ['after', 'before']);
  } finally {
    await storage.close();
    await proxy.stop();
    await direct.query(`drop schema if exists "${schema}" cascade`);
    await direct.end();
  }
});

/** A store in a schema of its own, dropped afterwards. */
async function withStore(deadlineMs: number, fn: (storage: Awaited<ReturnType<typeof openStorage>>) => Promise<void>) {
  const schema = `sy_deadline_${randomBytes(4).toString('hex')}`;
  const storage = await openStorage({ kind: 'postgres', url: testPostgresUrl, schema, statementDeadlineMs: deadlineMs });
  try {
    await fn(storage);
  } finally {
    await storage.close();
    const direct = new pg.Client({ connectionString: testPostgresUrl });
    await direct.connect();
    await direct.query(`drop schema if exists "${schema}" cascade`);
    await direct.end();
  }
}

test('a statement a healthy server is still running past the deadline keeps its connection: the server says so when asked', { skip, timeout: 30_000 }, async () => {
  // The migrations at start took longer than 1 ms each: they are not held to the deadline either.
  await withStore(1, async (storage) => {
    const [row] = (await storage.uow.run((tx) => sql<{ done: number }>`select 1 as done from pg_sleep(0.3)`.execute(tx))).rows;
    assert.equal(row?.done, 1);
  });
});

test('a statement waiting for a lock another healthy transaction holds waits its turn', { skip, timeout: 30_000 }, async () => {
  await withStore(300, async (storage) => {
    const holder = new pg.Client({ connectionString: testPostgresUrl });
    await holder.connect();
    try {
      await holder.query('begin');
      await holder.query(`select pg_advisory_xact_lock(hashtext('deadline-test'))`);
      const release = setTimeout(() => { holder.query('commit').catch(() => {}); }, 1200);
      const started = performance.now();
      await storage.uow.run((tx) => sql`select pg_advisory_xact_lock(hashtext('deadline-test'))`.execute(tx));
      clearTimeout(release);
      assert.ok(performance.now() - started >= 1000, 'it waited for the lock');
    } finally {
      await holder.end().catch(() => {});
    }
  });
});

test('a step of the wall clock does not close a connection whose statement is answered in time', { skip, timeout: 30_000 }, async () => {
  await withStore(1000, async (storage) => {
    const realNow = Date.now;
    try {
      // The connection's timer is armed by this statement and fires a second later, while the next is in flight.
      await storage.uow.run((tx) => sql`select 1`.execute(tx));
      await new Promise((r) => setTimeout(r, 400));
      const unit = storage.uow.run((tx) => sql`select pg_sleep(0.8)`.execute(tx));
      await new Promise((r) => setTimeout(r, 100));
      Date.now = () => realNow() + 120_000; // NTP steps the clock two minutes forward
      await unit;
    } finally {
      Date.now = realNow;
    }
  });
});

test('0 turns the deadline off', { skip, timeout: 30_000 }, async () => {
  await withStore(0, async (storage) => {
    await storage.uow.run((tx) => sql`select pg_sleep(0.05)`.execute(tx));
  });
});
