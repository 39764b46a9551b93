/**
 * Payments benchmark: synchronous DB payments against a fresh gateway, next to a bare node:http
 * server under the same load, so the gateway's cost per payment can be read off the ratio.
 *
 *   npm run bench:sqlite [-- --connections 16,64 --duration 10 --warmup 2]
 *   BENCH_CONNECTIONS, BENCH_DURATION, BENCH_WARMUP (seconds) do the same; flags win. Each
 *   connection count is measured against the gateway and against the bare server.
 *   SWITCHYARD_SIM_* and SWITCHYARD_PSP_TIMEOUT_MS are passed on to the gateway.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { availableParallelism, cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { freePort, runNode, startServer, stopAll, type Server } from './proc.ts';
import type { LoadResult, LoadSpec } from './load.ts';

const root = join(import.meta.dirname, '..');
const script = (name: string) => join(import.meta.dirname, name);

function setting(flag: string | undefined, envName: string, fallback: number, min: number): number {
  const raw = flag ?? process.env[envName];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min) throw new Error(`${envName} must be an integer >= ${min}, got ${JSON.stringify(raw)}`);
  return n;
}

/** A comma-separated list of connection counts, e.g. "16,64". */
function connectionCounts(flag: string | undefined): number[] {
  const raw = flag ?? process.env.BENCH_CONNECTIONS ?? '16,64';
  return raw.split(',').map((part) => setting(part.trim(), 'BENCH_CONNECTIONS', 16, 1));
}

function readSettings() {
  const { values } = parseArgs({
    options: { connections: { type: 'string' }, duration: { type: 'string' }, warmup: { type: 'string' } },
  });
  return {
    connections: connectionCounts(values.connections),
    duration: setting(values.duration, 'BENCH_DURATION', 10, 1),
    warmup: setting(values.warmup, 'BENCH_WARMUP', 2, 0),
  };
}
type Settings = ReturnType<typeof readSettings>;

/** Gateway settings taken from the caller's environment, shown so a run can be reproduced. */
const passedOn = Object.entries(process.env)
  .filter(([k, v]) => (k.startsWith('SWITCHYARD_SIM_') || k === 'SWITCHYARD_PSP_TIMEOUT_MS') && v)
  .map(([k, v]) => `${k}=${v}`);

async function startGateway(dataDir: string): Promise<Server> {
  const env: NodeJS.ProcessEnv = {
    ...process.env, SWITCHYARD_DATA_DIR: dataDir, PORT: String(await freePort()), LOG_LEVEL: 'warn',
  };
  // Each would point the run somewhere other than a fresh SQLite store in dataDir with its demo merchant.
  delete env.DATABASE_URL;
  delete env.SWITCHYARD_DEMO_FILE;
  delete env.HOST;
  // As `npm start` runs it: through the launcher, with its memory settings and compile cache.
  return startServer([join(root, 'scripts/launch.mjs'), join(root, 'src/main.ts')], env, /Switchyard listening on (http:\/\/\S+)/);
}

function demoCredentials(dataDir: string): { entityId: string; accessToken: string } {
  const text = readFileSync(join(dataDir, 'demo-merchant.env'), 'utf8');
  const value = (name: string) => {
    const m = new RegExp(`^export ${name}=(.+)$`, 'm').exec(text);
    if (!m) throw new Error(`demo-merchant.env has no ${name}`);
    return m[1]!.trim();
  };
  return { entityId: value('ENTITY_ID'), accessToken: value('ACCESS_TOKEN') };
}

type Target = Omit<LoadSpec, 'connections' | 'duration' | 'url'> & { url: string };

function paymentRequest(url: string, creds: { entityId: string; accessToken: string }): Target {
  const body = new URLSearchParams({
    entityId: creds.entityId, amount: '92.00', currency: 'EUR', paymentType: 'DB', paymentBrand: 'VISA',
    'card.number': '4200000000000000', 'card.holder': 'Jane Jones', 'card.expiryMonth': '05', 'card.expiryYear': '2034',
    'card.cvv': '123',
  }).toString();
  // The gateway answers a lost PSP call once its PSP timeout passes; only silence beyond that is an error.
  const pspTimeoutMs = Number(process.env.SWITCHYARD_PSP_TIMEOUT_MS || 10_000);
  return {
    url: `${url}/v1/payments`,
    timeout: Math.ceil(pspTimeoutMs / 1000) + 10,
    method: 'POST',
    headers: { authorization: `Bearer ${creds.accessToken}`, 'content-type': 'application/x-www-form-urlencoded' },
    body,
  };
}

/** One payment before the load, so a broken setup fails with the gateway's own answer rather than a wall of non-2xx. */
async function checkOnce(req: Target): Promise<void> {
  const res = await fetch(req.url, { method: req.method, headers: req.headers, body: req.body ?? null });
  const text = await res.text();
  if (res.status !== 200) throw new Error(`a single payment answered HTTP ${res.status}, not 200:\n${text}`);
}

async function load(spec: LoadSpec): Promise<LoadResult> {
  return JSON.parse(await runNode([script('load.ts'), JSON.stringify(spec)])) as LoadResult;
}

/** A discarded warm-up pass (JIT, caches, SQLite pages), then the measured one. */
async function measure(label: string, req: Target, s: Settings, connections: number): Promise<LoadResult> {
  if (s.warmup > 0) {
    process.stderr.write(`${label}, ${connections} connections: warming up ${s.warmup} s\n`);
    await load({ ...req, connections, duration: s.warmup });
  }
  process.stderr.write(`${label}, ${connections} connections: measuring ${s.duration} s\n`);
  return load({ ...req, connections, duration: s.duration });
}

/** The group commit's running totals, read off the gateway's own /metrics. */
async function commitTotals(gatewayUrl: string): Promise<{ commits: number; units: number; seconds: number }> {
  const text = await (await fetch(`${gatewayUrl}/metrics`)).text();
  const value = (name: string) => Number(new RegExp(`^${name} (\\S+)$`, 'm').exec(text)?.[1] ?? NaN);
  return {
    commits: value('switchyard_commit_batch_size_count'),
    units: value('switchyard_commit_batch_size_sum'),
    seconds: value('switchyard_commit_duration_seconds_sum'),
  };
}

/**
 * CPU time the gateway process has used, in ms: its main thread (where every request and every
 * SQLite statement runs) and all its threads. Read from Linux's per-thread scheduler statistics,
 * which count nanoseconds; undefined elsewhere. On a machine shared with other work, CPU per
 * payment moves far less than payments per second do.
 */
function cpuMs(pid: number | undefined): { main: number; all: number } | undefined {
  if (pid === undefined) return undefined;
  try {
    let all = 0;
    let main = 0;
    for (const task of readdirSync(`/proc/${pid}/task`)) {
      let ns: number;
      try { ns = Number(readFileSync(`/proc/${pid}/task/${task}/schedstat`, 'utf8').split(' ')[0]); } catch { continue; } // the thread ended
      all += ns;
      if (task === String(pid)) main = ns;
    }
    return { main: main / 1e6, all: all / 1e6 };
  } catch {
    return undefined;
  }
}

/** What went wrong in a run, empty when every response was an HTTP 200. */
function problems(r: LoadResult): string[] {
  const out: string[] = [];
  if (r.non2xx > 0) out.push(`${r.non2xx} non-2xx responses`);
  if (r.errors > 0) out.push(`${r.errors} connection errors (${r.timeouts} timeouts)`);
  const others = Object.entries(r.statusCodes).filter(([code]) => code !== '200');
  if (others.length > 0) out.push(`status codes other than 200: ${others.map(([c, n]) => `${c}×${n}`).join(', ')}`);
  if (r.total === 0) out.push('no responses at all');
  return out;
}

function table(rows: [string, LoadResult][]): string {
  const head = ['', 'req/s', 'p50 ms', 'p99 ms', 'requests', 'non-2xx', 'errors'];
  const body = rows.map(([name, r]) => [
    name, r.requestsPerSecond.toFixed(1), r.p50.toFixed(2), r.p99.toFixed(2), String(r.total), String(r.non2xx), String(r.errors),
  ]);
  const widths = head.map((_, i) => Math.max(...[head, ...body].map((row) => row[i]!.length)));
  return [head, ...body]
    .map((row) => row.map((cell, i) => (i === 0 ? cell.padEnd(widths[i]!) : cell.padStart(widths[i]!))).join('  '))
    .join('\n');
}

async function main(dataDir: string): Promise<boolean> {
  const s = readSettings();
  console.log('Switchyard payments benchmark (SQLite, the embedded store)');
  console.log(`  node ${process.version}, ${availableParallelism()} CPUs (${cpus()[0]?.model.trim() ?? 'unknown'}), ${process.platform}/${process.arch}`);
  console.log(`  ${s.connections.join(' and ')} connections, ${s.duration} s measured after ${s.warmup} s warm-up each, load from a separate process`);
  console.log(`  gateway env: ${passedOn.length > 0 ? passedOn.join(' ') : 'simulator defaults (no SWITCHYARD_SIM_* set)'}`);

  const gateway = await startGateway(dataDir);
  const gatewayUrl = gateway.ready[1]!;
  const payment = paymentRequest(gatewayUrl, demoCredentials(dataDir));
  await checkOnce(payment);
  const runs: { connections: number; gw: LoadResult; commits: number; units: number; commitMs: number; cpu: { main: number; all: number } | undefined }[] = [];
  for (const connections of s.connections) {
    if (s.warmup > 0) await load({ ...payment, connections, duration: s.warmup });
    const before = await commitTotals(gatewayUrl);
    const cpuBefore = cpuMs(gateway.child.pid);
    process.stderr.write(`gateway, ${connections} connections: measuring ${s.duration} s\n`);
    const gw = await load({ ...payment, connections, duration: s.duration });
    const cpuAfter = cpuMs(gateway.child.pid);
    const after = await commitTotals(gatewayUrl);
    const commits = after.commits - before.commits;
    const cpu = cpuBefore && cpuAfter ? { main: cpuAfter.main - cpuBefore.main, all: cpuAfter.all - cpuBefore.all } : undefined;
    runs.push({ connections, gw, commits, units: after.units - before.units, commitMs: (1000 * (after.seconds - before.seconds)) / commits, cpu });
    if (gateway.child.exitCode !== null || gateway.child.signalCode !== null) {
      throw new Error(`the gateway died during the run\n--- its output ---\n${gateway.tail()}`);
    }
  }

  const bare = await startServer([script('bare-server.ts')], { ...process.env, PORT: '0' }, /listening on (http:\/\/\S+)/);
  const baselines = new Map<number, LoadResult>();
  for (const connections of s.connections) baselines.set(connections, await measure('bare', { ...payment, url: `${bare.ready[1]!}/v1/payments` }, s, connections));

  console.log('');
  console.log(table(s.connections.flatMap((c) => [
    [`gateway (DB payments), ${c} conns`, runs.find((r) => r.connections === c)!.gw] as [string, LoadResult],
    [`bare node:http, ${c} conns`, baselines.get(c)!] as [string, LoadResult],
  ])));
  console.log('');
  for (const r of runs) {
    const baseline = baselines.get(r.connections)!;
    const ratio = baseline.requestsPerSecond > 0 ? r.gw.requestsPerSecond / baseline.requestsPerSecond : NaN;
    if (r.cpu && r.gw.total > 0) {
      const per = (ms: number) => (ms * 1000 / r.gw.total).toFixed(0);
      console.log(`${r.connections} connections: gateway CPU per payment ${per(r.cpu.main)} µs on its main thread, ${per(r.cpu.all)} µs in all its threads (main thread busy ${(100 * r.cpu.main / (s.duration * 1000)).toFixed(0)} % of the run)`);
    }
    console.log(`${r.connections} connections: gateway/bare ${ratio.toPrecision(3)}; group commit: ${r.commits} commits carried ${r.units} units of work (${(r.units / r.commits).toFixed(2)} per commit, ${(r.units / r.gw.total).toFixed(2)} per payment), ${r.commitMs.toFixed(2)} ms per commit`);
  }
  if (gateway.linesSinceReady() > 0) {
    console.log(`gateway logged ${gateway.linesSinceReady()} lines at warn or worse; last output:\n${gateway.tail().split('\n').slice(-6).join('\n')}`);
  }

  const failures = [
    ...runs.flatMap((r) => problems(r.gw).map((p) => `gateway, ${r.connections} connections: ${p}`)),
    ...[...baselines].flatMap(([c, b]) => problems(b).map((p) => `bare, ${c} connections: ${p}`)),
  ];
  for (const f of failures) console.log(`ERROR ${f}`);
  console.log(failures.length > 0 ? 'RESULT: RUN HAD ERRORS, the figures above are not a clean measurement' : 'RESULT: ok, every response was HTTP 200');
  return failures.length === 0;
}

const dataDir = mkdtempSync(join(tmpdir(), 'switchyard-bench-'));
let cleaning: Promise<void> | undefined;
// Shared by the normal exit and the signal handlers, so children die and the folder goes either way.
const cleanup = () => (cleaning ??= stopAll().finally(() => rmSync(dataDir, { recursive: true, force: true })));
let interrupted = false;
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    interrupted = true;
    console.error(`${signal}: stopping children, removing ${dataDir}`);
    void cleanup().finally(() => process.exit(130));
  });
}

try {
  if (!(await main(dataDir))) process.exitCode = 1;
} catch (err) {
  // After a signal, the children it stopped fail the run; that is not worth reporting.
  if (!interrupted) console.error(`bench failed: ${err instanceof Error ? err.message : String(err)}`);
  process.exitCode = 1;
} finally {
  await cleanup();
}
