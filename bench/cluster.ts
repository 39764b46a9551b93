/**
 * PostgreSQL benchmark: durable DB payments at 16 and 64 connections against 1, 2 and 3 gateway processes sharing one
 * PostgreSQL database (a fresh schema each), the load spread across the processes by one load
 * generator, next to a bare node:http server under the same load.
 *
 *   node bench/cluster.ts [-- --connections 16,64 --duration 10 --warmup 2 --nodes 1,2,3]
 *   TEST_DATABASE_URL or DATABASE_URL picks the server (default postgres://postgres@127.0.0.1:5432/test).
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { freePort, runNode, startServer, stopAll, type Server } from './proc.ts';
import type { LoadResult, LoadSpec } from './load.ts';
import { defaultPostgresUrl } from '../src/storage/postgres.ts';

const root = join(import.meta.dirname, '..');
const postgresUrl = process.env.TEST_DATABASE_URL || process.env.DATABASE_URL || defaultPostgresUrl;

const { values } = parseArgs({
  options: { connections: { type: 'string' }, duration: { type: 'string' }, warmup: { type: 'string' }, nodes: { type: 'string' } },
});
const settings = {
  connections: (values.connections ?? process.env.BENCH_CONNECTIONS ?? '16,64').split(',').map(Number),
  duration: Number(values.duration ?? process.env.BENCH_DURATION ?? 10),
  warmup: Number(values.warmup ?? process.env.BENCH_WARMUP ?? 2),
  nodes: (values.nodes ?? '1,2,3').split(',').map(Number),
};
for (const [k, v] of Object.entries(settings)) {
  const bad = (n: number) => !Number.isInteger(n) || n < (k === 'warmup' ? 0 : 1);
  if (Array.isArray(v) ? v.some(bad) : bad(v)) throw new Error(`--${k} must be whole numbers >= 1 (warmup >= 0), got ${JSON.stringify(v)}`);
}

async function onDatabase(sql: string): Promise<void> {
  const c = new pg.Client({ connectionString: postgresUrl });
  await c.connect();
  try { await c.query(sql); } finally { await c.end(); }
}

/** The schema travels in the connection string, as an operator points a cluster at its own schema. */
function urlWithSchema(schema: string): string {
  const u = new URL(postgresUrl);
  u.searchParams.set('options', `-c search_path=${schema}`);
  return u.toString();
}

async function startNode(env: NodeJS.ProcessEnv, dataDir: string): Promise<Server> {
  const nodeEnv: NodeJS.ProcessEnv = { ...process.env, ...env, SWITCHYARD_DATA_DIR: dataDir, PORT: String(await freePort()), SWITCHYARD_DEMO_PORT: '0', LOG_LEVEL: 'warn' };
  delete nodeEnv.SWITCHYARD_DEMO_FILE;
  delete nodeEnv.HOST;
  // As `npm start` runs it: through the launcher, with its memory settings and compile cache.
  return startServer([join(root, 'scripts/launch.mjs'), join(root, 'src/main.ts')], nodeEnv, /Switchyard listening on (http:\/\/\S+)/);
}

function paymentTarget(urls: string[], creds: { entityId: string; accessToken: string }): Omit<LoadSpec, 'connections' | 'duration'> {
  return {
    url: urls.map((u) => `${u}/v1/payments`),
    timeout: 20, method: 'POST',
    headers: { authorization: `Bearer ${creds.accessToken}`, 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({
      entityId: creds.entityId, amount: '92.00', currency: 'EUR', paymentType: 'DB', paymentBrand: 'VISA',
      'card.number': '4200000000000000', 'card.holder': 'Jane Jones', 'card.expiryMonth': '05', 'card.expiryYear': '2034', 'card.cvv': '123',
    }).toString(),
  };
}

async function load(spec: LoadSpec): Promise<LoadResult> {
  return JSON.parse(await runNode([join(import.meta.dirname, 'load.ts'), JSON.stringify(spec)])) as LoadResult;
}

async function measure(label: string, target: Omit<LoadSpec, 'connections' | 'duration'>, connections: number): Promise<LoadResult> {
  if (settings.warmup > 0) {
    process.stderr.write(`${label}, ${connections} connections: warming up ${settings.warmup} s\n`);
    await load({ ...target, connections, duration: settings.warmup });
  }
  process.stderr.write(`${label}, ${connections} connections: measuring ${settings.duration} s\n`);
  return load({ ...target, connections, duration: settings.duration });
}

/** One cluster of `n` processes over a fresh schema, measured at each connection count; the first creates the schema's tables and the demo merchant. */
async function cluster(n: number): Promise<LoadResult[]> {
  const schema = `sy_bench_${randomBytes(5).toString('hex')}`;
  const dirs: string[] = [];
  await onDatabase(`CREATE SCHEMA "${schema}"`);
  try {
    const env = { DATABASE_URL: urlWithSchema(schema), SWITCHYARD_MASTER_KEY: randomBytes(32).toString('hex') };
    const nodes: Server[] = [];
    for (let i = 0; i < n; i++) {
      dirs.push(mkdtempSync(join(tmpdir(), 'switchyard-cluster-')));
      nodes.push(await startNode(env, dirs[i]!));
    }
    const creds = readFileSync(join(dirs[0]!, 'demo-merchant.env'), 'utf8');
    const value = (name: string) => new RegExp(`^export ${name}=(.+)$`, 'm').exec(creds)![1]!.trim();
    const target = paymentTarget(nodes.map((s) => s.ready[1]!), { entityId: value('ENTITY_ID'), accessToken: value('ACCESS_TOKEN') });
    const check = await fetch((target.url as string[])[0]!, { method: 'POST', headers: target.headers, body: target.body! });
    if (check.status !== 200) throw new Error(`a single payment answered HTTP ${check.status}: ${await check.text()}`);
    const r: LoadResult[] = [];
    for (const c of settings.connections) r.push(await measure(`postgres ×${n}`, target, c));
    for (const s of nodes) if (s.child.exitCode !== null || s.child.signalCode !== null) throw new Error(`a gateway died during the run\n${s.tail()}`);
    await stopAll();
    return r;
  } finally {
    await stopAll();
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
    await onDatabase(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
  }
}

const rows: [string, LoadResult][] = [];
try {
  const byCluster: [number, LoadResult[]][] = [];
  for (const n of settings.nodes) byCluster.push([n, await cluster(n)]);
  const bare = await startServer([join(import.meta.dirname, 'bare-server.ts')], { ...process.env, PORT: '0' }, /listening on (http:\/\/\S+)/);
  const baselines: LoadResult[] = [];
  // The bare server is sent the very request the gateway is (headers and the payment's form), as
  // the SQLite benchmark does, so both ratios stand on one baseline.
  const sameRequest = paymentTarget([bare.ready[1]!], { entityId: '8a8294174b7ecb28014b9699220015ca', accessToken: 'OGE4Mjk0MTc0YjdlY2IyODAxNGI5Njk5MjIwMDE1Y2N8c3k2S0pzVDg=' });
  for (const c of settings.connections) baselines.push(await measure('bare', sameRequest, c));
  console.log(`PostgreSQL cluster benchmark: ${settings.connections.join(' and ')} connections spread over the processes, ${settings.duration} s after ${settings.warmup} s warm-up`);
  console.log(['', 'req/s', 'p50 ms', 'p99 ms', 'errors', 'non-2xx', 'ratio to bare'].join('\t'));
  settings.connections.forEach((c, i) => {
    const baseline = baselines[i]!;
    for (const [n, results] of byCluster) rows.push([`postgres, ${n} process${n > 1 ? 'es' : ''}, ${c} conns`, results[i]!]);
    for (const [name, r] of [...rows.slice(-byCluster.length), [`bare node:http, ${c} conns`, baseline] as [string, LoadResult]]) {
      console.log([name, r.requestsPerSecond.toFixed(1), r.p50.toFixed(2), r.p99.toFixed(2), r.errors, r.non2xx, (r.requestsPerSecond / baseline.requestsPerSecond).toFixed(4)].join('\t'));
    }
  });
  const bad = rows.filter(([, r]) => r.errors > 0 || r.non2xx > 0);
  console.log(bad.length > 0 ? `RESULT: errors in ${bad.map(([n]) => n).join(', ')}` : 'RESULT: ok, every response was HTTP 200');
  if (bad.length > 0) process.exitCode = 1;
} finally {
  await stopAll();
}
