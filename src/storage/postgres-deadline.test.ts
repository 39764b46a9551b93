import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { createServer, connect, type Socket, type AddressInfo } from 'node:net';
import pg from 'pg';
import { sql } from 'kysely';
import { openStorage } from './database.ts';
import { StatementDeadlineError } from './postgres-deadline.ts';
import { postgresAvailable, testPostgresUrl } from '../../test/support/harness.ts';

const skip = (await postgresAvailable()) ? false : 'PostgreSQL is not reachable';

/**
 * A TCP pass-through to PostgreSQL that can go silent: while frozen, bytes in either direction are
 * held (nothing is closed, nothing answers), as when the server's host hangs or a network drops
 * packets without a reset.
 */
async function freezableProxy(target: URL) {
  let frozen = false;
  const held: (() => void)[] = [];
  const sockets = new Set<Socket>();
  const pipe = (from: Socket, to: Socket) => {
    from.on('data', (chunk) => { if (frozen) held.push(() => to.write(chunk)); else to.write(chunk); });
    from.on('close', () => to.destroy());
    from.on('error', () => to.destroy());
  };
  const server = createServer((client) => {
    const upstream = connect(Number(target.port || 5432), target.hostname);
    sockets.add(client).add(upstream);
    pipe(client, upstream);
    pipe(upstream, client);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = new URL(target);
  url.hostname = '127.0.0.1';
  url.port = String((server.address() as AddressInfo).port);
  return {
    url: url.toString(),
    freeze() { frozen = true; },
    thaw() { frozen = false; for (const send of held.splice(0)) send(); },
    async close() {
      for (const s of sockets) s.destroy();
      await new Promise((r) => server.close(r));
    },
  };
}

test('a statement PostgreSQL leaves unanswered closes its connection: the unit of work fails, its write is not committed, and the next unit runs on a new connection', { skip, timeout: 30_000 }, async () => {
  const schema = `sy_deadline_${randomBytes(4).toString('hex')}`;
  const proxy = await freezableProxy(new URL(testPostgresUrl));
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
    await proxy.close();
    await direct.query(`drop schema if exists "${schema}" cascade`);
    await direct.end();
  }
});

test('the deadline does not hold the schema migrations at start, and 0 turns it off', { skip, timeout: 30_000 }, async () => {
  const schema = `sy_deadline_${randomBytes(4).toString('hex')}`;
  // Every migration takes longer than 1 ms; with the deadline applied they could not finish.
  const storage = await openStorage({ kind: 'postgres', url: testPostgresUrl, schema, statementDeadlineMs: 0 });
  const slow = await openStorage({ kind: 'postgres', url: testPostgresUrl, schema: `${schema}_b`, statementDeadlineMs: 1 });
  try {
    await storage.uow.run((tx) => sql`select pg_sleep(0.05)`.execute(tx));
    await assert.rejects(slow.uow.run((tx) => sql`select pg_sleep(0.2)`.execute(tx)), (err: unknown) => err instanceof StatementDeadlineError || (err instanceof Error && err.cause instanceof StatementDeadlineError));
  } finally {
    await storage.close();
    await slow.close();
    const direct = new pg.Client({ connectionString: testPostgresUrl });
    await direct.connect();
    await direct.query(`drop schema if exists "${schema}" cascade`);
    await direct.query(`drop schema if exists "${schema}_b" cascade`);
    await direct.end();
  }
});
