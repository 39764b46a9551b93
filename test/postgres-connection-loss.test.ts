/**
 * PostgreSQL restarts or fails over under a running gateway: every connection drops. The process
 * stays up (a broken connection is heard, not an unhandled error event), and /ready recovers once
 * the database is back. The database password never shows in its output.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, connect, type Socket, type AddressInfo, type Server } from 'node:net';
import { randomBytes } from 'node:crypto';
import { rmSync } from 'node:fs';
import pg from 'pg';
import { postgresAvailable, tempDir, testPostgresUrl } from './support/harness.ts';
import { startGatewayProcess } from './support/process.ts';

/** A TCP proxy in front of PostgreSQL that can be killed (every connection dropped, the port closed). */
async function pgProxy(port = 0) {
  const target = new URL(testPostgresUrl);
  const sockets = new Set<Socket>();
  const server: Server = createServer((client) => {
    const upstream = connect(Number(target.port || 5432), target.hostname);
    sockets.add(client); sockets.add(upstream);
    client.on('data', (d) => { upstream.write(d); });
    upstream.on('data', (d) => { client.write(d); });
    const end = () => { client.destroy(); upstream.destroy(); sockets.delete(client); sockets.delete(upstream); };
    client.on('error', end); upstream.on('error', end); client.on('close', end); upstream.on('close', end);
  });
  await new Promise<void>((r) => server.listen(port, '127.0.0.1', r));
  const p = (server.address() as AddressInfo).port;
  const url = new URL(testPostgresUrl); url.hostname = '127.0.0.1'; url.port = String(p);
  return {
    url: url.toString(), port: p,
    async kill() { for (const s of sockets) s.destroy(); await new Promise<void>((r) => server.close(() => r())); },
  };
}

async function ready(url: string) {
  const t0 = Date.now();
  const res = await fetch(`${url}/ready`, { signal: AbortSignal.timeout(15_000) });
  return { status: res.status, body: await res.json() as any, ms: Date.now() - t0 };
}

test('a real gateway process survives PostgreSQL dropping its connections (restart, failover): it does not crash, and /ready recovers', async (t) => {
  if (!(await postgresAvailable())) return t.skip('PostgreSQL not reachable');
  const schema = `sy_pgdrop_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: testPostgresUrl }); await admin.connect();
  await admin.query(`CREATE SCHEMA "${schema}"`);
  const proxy = await pgProxy();
  const url = new URL(proxy.url); url.password = 'Sup3rSecretPw'; url.searchParams.set('options', `-c search_path=${schema}`);
  const dataDir = tempDir();
  const proc = await startGatewayProcess({ SWITCHYARD_DATA_DIR: dataDir, DATABASE_URL: url.toString() });
  let back: Awaited<ReturnType<typeof pgProxy>> | undefined;
  try {
    assert.equal((await ready(proc.url)).status, 200);
    // PostgreSQL restarts: every connection is closed, and it listens again at once.
    await proxy.kill();
    back = await pgProxy(proxy.port);
    await new Promise((r) => setTimeout(r, 1500));
    const out = proc.output();
    const at = out.indexOf('Sup3rSecretPw');
    assert.equal(at, -1, `the database password is in the gateway's output: …${out.slice(Math.max(0, at - 300), at + 40)}`);
    assert.equal(proc.child.exitCode, null, `the gateway exited (${proc.child.exitCode}):\n${out.slice(out.indexOf("node:events"), out.indexOf("node:events") + 700)}`);
    let r = await ready(proc.url);
    for (let i = 0; i < 10 && r.status !== 200; i++) { await new Promise((res) => setTimeout(res, 500)); r = await ready(proc.url); }
    assert.equal(r.status, 200);
  } finally {
    await proc.stop('SIGKILL');
    await back?.kill();
    rmSync(dataDir, { recursive: true, force: true });
    await admin.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`); await admin.end();
  }
});
