/**
 * Starting and stopping as an operator expects: a port in use or an unusable data folder is told
 * in one line naming the setting; a SIGTERM ends the process within a bound even while PostgreSQL
 * does not answer and a payment is in flight.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createServer as createNetServer, connect, type Socket, type AddressInfo, type Server } from 'node:net';
import { randomBytes } from 'node:crypto';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import { opp, postgresAvailable, tempDir, testCard, testPostgresUrl } from './support/harness.ts';
import { demoCredentials, startGatewayProcess } from './support/process.ts';

const startOnce = (env: Record<string, string>) => spawnSync(process.execPath, ['src/main.ts'], {
  env: { ...process.env, LOG_LEVEL: 'info', ...env }, encoding: 'utf8', timeout: 60_000,
});
const failureLine = (stderr: string) => stderr.slice(stderr.indexOf('switchyard failed to start'));

test('a port already in use is told in one line naming PORT, not a stack trace', async () => {
  const blocker = createNetServer();
  await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', r));
  const port = (blocker.address() as AddressInfo).port;
  const dataDir = tempDir();
  try {
    const r = startOnce({ SWITCHYARD_DATA_DIR: dataDir, PORT: String(port), HOST: '127.0.0.1' });
    assert.equal(r.status, 1);
    const told = failureLine(r.stderr);
    assert.match(told, /switchyard failed to start/);
    assert.equal(told.trim().split('\n').length, 1, `one line expected, got:\n${told}`);
    assert.match(told, /PORT/);
  } finally {
    blocker.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
});

test('a data dir that cannot be used (a regular file) is told in one line naming SWITCHYARD_DATA_DIR, not a stack trace', () => {
  const parent = tempDir();
  const file = join(parent, 'not-a-dir');
  writeFileSync(file, 'x');
  try {
    const r = startOnce({ SWITCHYARD_DATA_DIR: file, PORT: '0' });
    assert.equal(r.status, 1);
    const told = failureLine(r.stderr);
    assert.equal(told.trim().split('\n').length, 1, `one line expected, got:\n${told}`);
    assert.match(told, /SWITCHYARD_DATA_DIR/);
  } finally {
    rmSync(parent, { recursive: true, force: true });
  }
});

/** A TCP proxy in front of PostgreSQL that can stop answering (sockets kept open, nothing forwarded) and resume. */
async function freezableProxy() {
  const target = new URL(testPostgresUrl);
  let frozen = false;
  const held: Array<() => void> = [];
  const sockets = new Set<Socket>();
  const server: Server = createNetServer((client) => {
    const upstream = connect(Number(target.port || 5432), target.hostname);
    sockets.add(client); sockets.add(upstream);
    const pipe = (from: Socket, to: Socket) => from.on('data', (d) => { if (frozen) held.push(() => to.write(d)); else to.write(d); });
    pipe(client, upstream); pipe(upstream, client);
    const end = () => { client.destroy(); upstream.destroy(); sockets.delete(client); sockets.delete(upstream); };
    client.on('error', end); upstream.on('error', end); client.on('close', end); upstream.on('close', end);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const url = new URL(testPostgresUrl); url.hostname = '127.0.0.1'; url.port = String((server.address() as AddressInfo).port);
  return {
    url,
    freeze() { frozen = true; },
    thaw() { frozen = false; for (const f of held.splice(0)) f(); },
    async close() { for (const s of sockets) s.destroy(); await new Promise<void>((r) => server.close(() => r())); },
  };
}

test('SIGTERM while PostgreSQL does not answer and a payment is in flight: the process still exits within a bound', async (t) => {
  if (!(await postgresAvailable())) return t.skip('PostgreSQL not reachable');
  const schema = `sy_ops_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: testPostgresUrl }); await admin.connect();
  await admin.query(`CREATE SCHEMA "${schema}"`);
  const proxy = await freezableProxy();
  const url = new URL(proxy.url); url.searchParams.set('options', `-c search_path=${schema}`);
  const dataDir = tempDir();
  const proc = await startGatewayProcess({ SWITCHYARD_DATA_DIR: dataDir, DATABASE_URL: url.toString(), SWITCHYARD_SIM_LATENCY_MS: '1500', SWITCHYARD_PSP_TIMEOUT_MS: '5000' });
  try {
    const gw = { url: proc.url, merchant: demoCredentials(dataDir) };
    const inFlight = opp(gw, 'POST', '/v1/payments', { ...testCard, amount: '3.00', currency: 'EUR', paymentType: 'DB' }).catch((e) => e);
    await new Promise((r) => setTimeout(r, 500));
    proxy.freeze();
    const t0 = Date.now();
    proc.child.kill('SIGTERM');
    const exited = await Promise.race([
      new Promise<boolean>((r) => proc.child.once('exit', () => r(true))),
      new Promise<boolean>((r) => setTimeout(r, 60_000, false).unref()),
    ]);
    const answer = await Promise.race([inFlight, new Promise((r) => setTimeout(r, 1, 'pending'))]);
    assert.ok(exited, `still running ${Date.now() - t0} ms after SIGTERM (PSP timeout 5 s); in-flight request: ${JSON.stringify(answer)?.slice(0, 200)}\n${proc.stdout().split('\n').slice(-6).join('\n')}`);
  } finally {
    proxy.thaw();
    proc.child.kill('SIGKILL');
    await proxy.close();
    await admin.query(`DROP SCHEMA "${schema}" CASCADE`).catch(() => {});
    await admin.end();
    rmSync(dataDir, { recursive: true, force: true });
  }
});
