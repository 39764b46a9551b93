/**
 * PostgreSQL's host drops off the network (a true partition: nothing answers, not even the TCP
 * close) and the operator stops the gateway. The shutdown promises a bound ("a database that stopped
 * answering would hold the exit for ever: what is still open after a bound is left").
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, connect, type Socket, type AddressInfo } from 'node:net';
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { postgresAvailable, startGateway, testPostgresUrl } from './support/harness.ts';

/** A pass-through whose partition swallows everything, a FIN included (sockets half-open, as a vanished host leaves them). */
async function partitionableProxy() {
  const target = new URL(testPostgresUrl);
  let cut = false;
  const sockets = new Set<Socket>();
  const server = createServer({ allowHalfOpen: true }, (client) => {
    const upstream = connect({ port: Number(target.port || 5432), host: target.hostname, allowHalfOpen: true });
    sockets.add(client).add(upstream);
    for (const [from, to] of [[client, upstream], [upstream, client]] as const) {
      from.on('data', (d) => { if (!cut) to.write(d); });
      from.on('end', () => { if (!cut) to.end(); });
      from.on('error', () => { if (!cut) to.destroy(); });
      from.on('close', () => { sockets.delete(from); if (!cut) to.destroy(); });
    }
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const url = new URL(testPostgresUrl); url.hostname = '127.0.0.1'; url.port = String((server.address() as AddressInfo).port);
  return {
    url,
    partition() { cut = true; },
    async close() { for (const s of sockets) s.destroy(); await new Promise<void>((r) => server.close(() => r())); },
  };
}

test('shutdown while PostgreSQL is partitioned away finishes within a bound (the LISTEN connection\'s close is not waited for ever)', async (t) => {
  if (!(await postgresAvailable())) return t.skip('PostgreSQL not reachable');
  const schema = `sy_part_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: testPostgresUrl }); await admin.connect();
  await admin.query(`CREATE SCHEMA "${schema}"`);
  const proxy = await partitionableProxy();
  const url = new URL(proxy.url); url.searchParams.set('options', `-c search_path=${schema}`);
  const gw = await startGateway({ env: { DATABASE_URL: url.toString(), SWITCHYARD_PG_STATEMENT_DEADLINE_MS: '2000' } });
  t.after(async () => {
    await proxy.close();
    await admin.query(`DROP SCHEMA "${schema}" CASCADE`).catch(() => {});
    await admin.end();
  });
  // The LISTEN connection is up.
  await (gw.app.changeListener as { ready: Promise<void> }).ready;
  const before = gw.logs.length;
  const steps: string[] = [];
  const t00 = Date.now();
  const wrap = (name: string, o: any, m: string) => { const f = o[m].bind(o); o[m] = (...a: unknown[]) => { steps.push(`${name} start ${Date.now() - t00}`); const p = f(...a); Promise.resolve(p).finally(() => steps.push(`${name} end ${Date.now() - t00}`)); return p; }; };
  const app = gw.app as any;
  wrap('jobs.stop', app.jobs, 'stop'); wrap('webhooks.stop', app.webhooks, 'stop'); wrap('server.close', app.server, 'close');
  wrap('listener.close', app.changeListener, 'close'); wrap('storage.close', app.storage, 'close'); wrap('payments.idle', app.payments, 'idle');
  proxy.partition();
  const t0 = Date.now();
  const closed = await Promise.race([gw.app.close().then(() => true), new Promise<boolean>((r) => setTimeout(r, 40_000, false).unref())]);
  const ms = Date.now() - t0;
  const stuckAt = gw.logs.slice(before).map((l) => JSON.parse(l).msg).slice(-8);
  assert.ok(closed, `app.close() still not done ${ms} ms after it began with PostgreSQL partitioned; last lines: ${JSON.stringify(stuckAt)} steps: ${JSON.stringify(steps)}`);
});
