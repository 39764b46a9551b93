import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import type { Socket } from 'node:net';
import { openPostgres } from './postgres.ts';
import { idleInTransactionMs } from './database.ts';
import { postgresAvailable, testPostgresUrl } from '../../test/support/harness.ts';

const skip = (await postgresAvailable()) ? false : 'PostgreSQL is not reachable';

/**
 * The kernel's timer on the TCP connection from local `port` (Linux, /proc/net/tcp and tcp6): 2
 * is the keepalive timer, which an idle connection has only when keepalive is on for it.
 */
function timerOf(port: number): number | undefined {
  const hexPort = port.toString(16).toUpperCase().padStart(4, '0');
  for (const table of ['/proc/net/tcp', '/proc/net/tcp6']) {
    for (const line of readFileSync(table, 'utf8').split('\n').slice(1)) {
      const f = line.trim().split(/\s+/);
      // sl local_address rem_address st tx_queue:rx_queue tr:tm->when ...; st 01 is ESTABLISHED.
      if (f[1]?.endsWith(`:${hexPort}`) && f[3] === '01') return Number.parseInt(f[5]!.split(':')[0]!, 16);
    }
  }
  return undefined;
}

test('the pool\'s connections have TCP keepalive on: a connection that died unannounced is found while idle', { skip }, async () => {
  const { pool } = await openPostgres(testPostgresUrl, { max: 1 });
  try {
    const client = await pool.connect();
    try {
      await client.query('select 1');
      const socket = (client as unknown as { connection: { stream: Socket } }).connection.stream;
      assert.equal(timerOf(socket.localPort!), 2, 'the idle connection runs the keepalive timer');
    } finally {
      client.release();
    }
  } finally {
    // Not db.destroy(): Kysely ends only a pool it has used, and this one's idle connection would hold the process 10 s.
    await pool.end();
  }
});

test('session settings: the schema, the idle-in-transaction bound and the URL\'s own options all apply (a URL\'s options would otherwise replace the pool\'s)', { skip }, async () => {
  const url = new URL(testPostgresUrl);
  // The URL's own bound on idle transactions is overridden: a node cut off must not hold locks for longer.
  url.searchParams.set('options', '-c statement_timeout=43210 -c idle_in_transaction_session_timeout=600000');
  const { pool } = await openPostgres(url.toString(), { max: 1, schema: 'public', idleInTransactionMs: 7000 });
  try {
    const r = await pool.query<{ s: string; idle: string; path: string }>(
      `select current_setting('statement_timeout') as s, current_setting('idle_in_transaction_session_timeout') as idle, current_setting('search_path') as path`);
    assert.deepEqual(r.rows[0], { s: '43210ms', idle: '7s', path: '"public"' });
  } finally {
    // Not db.destroy(): Kysely ends only a pool it has used, and this one's idle connection would hold the process 10 s.
    await pool.end();
  }
});

test('idleInTransactionMs: the statement deadline, else the unit deadline, never under 5 s; 0 when both are off', () => {
  assert.equal(idleInTransactionMs({}), 30_000);
  assert.equal(idleInTransactionMs({ statementDeadlineMs: 1000 }), 5000);
  assert.equal(idleInTransactionMs({ statementDeadlineMs: 0, unitDeadlineMs: 20_000 }), 20_000);
  assert.equal(idleInTransactionMs({ statementDeadlineMs: 0, unitDeadlineMs: 0 }), 0);
});

test('session settings: a URL whose password holds a bare "%" (which pg itself reads) connects with the idle-in-transaction bound', { skip }, async () => {
  // Trust authentication ignores the password. pg re-encodes a URL holding a bare "%" before reading
  // it; written back into such a URL, the escaped "=" of the added setting reached the server as
  // "-c idle_in_transaction_session_timeout%3D7000", refused at every connection.
  const url = new URL(testPostgresUrl);
  const withPercent = `${url.protocol}//${url.username || 'postgres'}:50%off@${url.host}${url.pathname}`;
  const { pool } = await openPostgres(withPercent, { max: 1, idleInTransactionMs: 7000 });
  try {
    const r = await pool.query<{ idle: string }>(`select current_setting('idle_in_transaction_session_timeout') as idle`);
    assert.deepEqual(r.rows[0], { idle: '7s' });
  } finally {
    // Not db.destroy(): Kysely ends only a pool it has used, and this one's idle connection would hold the process 10 s.
    await pool.end();
  }
});
