/**
 * Long-poll benchmark: holds 10,000 concurrent `waitWhile` long-polls against a gateway process of
 * its own and prints what they cost the gateway (resident memory and heap per waiting request, read
 * from that process, not from this client), then wakes a sample with real authorizations and prints
 * how long their answers took; then holds as many requests against a bare node:http server
 * (bench/bare-hold.ts) for the floor Node itself sets. `BENCH_WAITERS` changes the count,
 * `BENCH_SKIP_BARE=1` leaves out the floor, `BENCH_SNAPSHOTS=DIR` writes the gateway's heap snapshots.
 *
 *   npm run bench:longpoll
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, startServer, stopAll, type Server } from './proc.ts';
import { authorizeBody, call, execution, instrument, tokenOf, wf, type Reachable } from '../test/support/executions.ts';

const n = Number(process.env.BENCH_WAITERS ?? 10_000);
/**
 * A folder to write the gateway's heap snapshots into (at rest, then with every long-poll waiting),
 * each after the figures of that moment are read; writing one grows the gateway's resident memory,
 * so the figures read after the first are for finding where memory goes, not for comparing.
 */
const snapshots = process.env.BENCH_SNAPSHOTS;
const sample = Math.min(200, n);
const root = join(import.meta.dirname, '..');
const dataDir = mkdtempSync(join(tmpdir(), 'switchyard-longpoll-'));

/** Resident memory of a process, from the kernel. */
function rssOf(pid: number): number {
  const kb = /^VmRSS:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
  return Number(kb) * 1024;
}

async function gauge(url: string, name: string): Promise<number> {
  const text = await (await fetch(`${url}/metrics`)).text();
  return Number(new RegExp(`^${name} (\\S+)$`, 'm').exec(text)?.[1] ?? NaN);
}

/** The gateway's memory: resident (from the kernel), then the heap as its own /metrics reports it. */
async function memoryOf(pid: number, url: string) {
  const rss = rssOf(pid);
  const text = await (await fetch(`${url}/metrics`)).text();
  const read = (name: string) => Number(new RegExp(`^${name.replace(/[{}]/g, '\\$&')} (\\S+)$`, 'm').exec(text)?.[1] ?? NaN);
  return {
    rss,
    heap: read('nodejs_heap_size_used_bytes'),
    committed: read('nodejs_heap_size_total_bytes'),
    young: read('nodejs_heap_space_size_total_bytes{space="new"}'),
    external: read('nodejs_external_memory_bytes'),
  };
}

/**
 * A full garbage collection in the gateway, asked through its inspector (opened by SIGUSR1 on the
 * port --inspect-port=0 gave it). Read without one, the heap still holds whatever garbage the burst
 * left since the last full collection, and the figure said more about when V8 last collected than
 * about what the requests keep (10.7 and 16.2 KiB per waiting request in two runs of the same code);
 * the bare server's figures are read after a full collection too.
 */
async function collectGarbage(gateway: Server): Promise<void> {
  const listening = /Debugger listening on (ws:\/\/\S+)/;
  if (!listening.test(gateway.tail())) process.kill(gateway.child.pid!, 'SIGUSR1');
  const until = Date.now() + 10_000;
  while (!listening.test(gateway.tail())) {
    if (Date.now() > until) throw new Error('the gateway did not open its inspector');
    await new Promise((r) => setTimeout(r, 50));
  }
  const ws = new WebSocket(listening.exec(gateway.tail())![1]!);
  await new Promise((resolve, reject) => { ws.onopen = resolve; ws.onerror = reject; });
  await new Promise<void>((resolve) => {
    ws.onmessage = (m) => { if (JSON.parse(String(m.data)).id === 1) resolve(); };
    ws.send(JSON.stringify({ id: 1, method: 'HeapProfiler.collectGarbage' }));
  });
  ws.close();
  await new Promise((r) => setTimeout(r, 1000));
}

/** Runs `count` calls of `fn`, `width` at a time. */
async function pool(count: number, width: number, fn: (i: number) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(Array.from({ length: width }, async () => { while (next < count) await fn(next++); }));
}

/** Signals the gateway to write a heap snapshot and waits until the file is complete. */
async function snapshot(pid: number): Promise<void> {
  const count = () => readdirSync(snapshots!).filter((f) => f.endsWith('.heapsnapshot')).length;
  const had = count();
  process.kill(pid, 'SIGUSR2');
  while (count() === had) await new Promise((r) => setTimeout(r, 250));
  // The file appears when writing starts; it is complete when its size stops changing.
  const last = () => { const f = readdirSync(snapshots!).filter((x) => x.endsWith('.heapsnapshot')).sort().at(-1)!; return statSync(join(snapshots!, f)).size; };
  for (let size = -1; size !== last();) { size = last(); await new Promise((r) => setTimeout(r, 1000)); }
}

/** BENCH_SKIP_BARE=1 ends the run before the bare node:http floor (while iterating on the gateway). */
class SkipBare extends Error {}

const mb = (b: number) => (b / 1024 / 1024).toFixed(1);

try {
  const env: NodeJS.ProcessEnv = {
    ...process.env, SWITCHYARD_DATA_DIR: dataDir, PORT: String(await freePort()), LOG_LEVEL: 'warn',
    SWITCHYARD_LONG_POLL_MS: '300000', SWITCHYARD_DEMO_PORT: '0',
  };
  // Each would point the run somewhere other than a fresh SQLite store in dataDir with its demo merchant.
  delete env.DATABASE_URL;
  delete env.SWITCHYARD_DEMO_FILE;
  delete env.HOST;
  const flags = snapshots ? ['--heapsnapshot-signal=SIGUSR2', `--diagnostic-dir=${snapshots}`] : [];
  // Started as `npm start` starts it (the launcher enables the compile cache).
  const gateway = await startServer(['--inspect-port=0', ...flags, join(root, 'scripts/launch.mjs'), join(root, 'src/main.ts')], env, /Switchyard listening on (http:\/\/\S+)/);
  const url = gateway.ready[1]!;
  const pid = gateway.child.pid!;
  const demo = readFileSync(join(dataDir, 'demo-merchant.env'), 'utf8');
  const value = (name: string) => new RegExp(`^export ${name}=(.+)$`, 'm').exec(demo)![1]!.trim();
  const gw = { url, merchant: { clientId: value('CLIENT_ID'), apiKey: value('API_KEY'), workspaceId: value('WORKSPACE_ID') } } as Reachable;

  const token = await tokenOf(gw);
  const ids: string[] = new Array(n);
  const made = performance.now();
  await pool(n, 32, async (i) => { ids[i] = await execution(gw, token); });
  console.log(`Switchyard long-poll benchmark: ${n} executions created in ${((performance.now() - made) / 1000).toFixed(1)} s`);

  // Read as found: a forced collection here would shrink the young generation the burst grew, and
  // change what the long-polls then cost.
  await new Promise((r) => setTimeout(r, 2000));
  const before = await memoryOf(pid, url);
  if (snapshots) await snapshot(pid);

  // One socket per long-poll, as 10,000 merchant backends (or one with a wide pool) would hold them.
  const agent = new http.Agent({ keepAlive: false, maxSockets: Infinity });
  let connected = 0;
  const waitWhile = encodeURIComponent('["created","authorizeRequested"]');
  let failed = 0;
  let retried = 0;
  /** Set when this client drops the long-polls on purpose: those are not made again. */
  let leaving = false;
  const firstError: string[] = [];
  type Answer = { status: number; body: string; at: number };
  // A connection reset under the burst of 10,000 connects (seen on a loaded machine) is made again,
  // as a client would: the figure is what 10,000 waiting requests cost, not how a burst is accepted.
  const longPoll = (id: string, tries: number) => new Promise<Answer>((resolve, reject) => {
    const req = http.get(`${url}${wf}/${id}?waitWhile[status]=${waitWhile}`, { agent, headers: { authorization: `Bearer ${token}` } }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => { body += c; });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body, at: performance.now() }));
    });
    req.on('socket', (socket) => socket.once('connect', () => { connected++; }));
    req.on('error', (err) => {
      if (tries > 1 && !leaving && !req.reusedSocket && (err as NodeJS.ErrnoException).code === 'ECONNRESET') { retried++; resolve(longPoll(id, tries - 1)); } else reject(err);
    });
  });
  const answers = ids.map((id) => longPoll(id, 5));
  for (const a of answers) a.catch((err: Error) => { if (failed++ === 0) firstError.push(err.message); });
  let waiting = 0;
  const deadline = Date.now() + 120_000;
  while ((waiting = await gauge(url, 'switchyard_long_polls_waiting')) < n) {
    // A gateway from before the gauge existed: count what this client has connected instead.
    if (Number.isNaN(waiting)) { waiting = connected; if (waiting >= n) { await new Promise((r) => setTimeout(r, 3000)); break; } }
    if (Date.now() > deadline) throw new Error(`only ${waiting} of ${n} long-polls reached the gateway (${failed} failed${failed ? `, the first with ${firstError[0]}` : ''})`);
    await new Promise((r) => setTimeout(r, 250));
  }
  await new Promise((r) => setTimeout(r, 2000));
  const held = await memoryOf(pid, url);
  if (snapshots) await snapshot(pid);
  await collectGarbage(gateway);
  const heldCollected = await memoryOf(pid, url);
  console.log(`long-polls waiting in the gateway: ${waiting}${retried ? ` (${retried} connections reset and made again)` : ''}`);
  console.log(`gateway rss:  ${mb(before.rss)} MB → ${mb(held.rss)} MB, +${mb(held.rss - before.rss)} MB (${((held.rss - before.rss) / n / 1024).toFixed(1)} KiB per waiting request); ${mb(heldCollected.rss)} MB after a full GC`);
  console.log(`gateway heap committed: ${mb(before.committed)} MB → ${mb(held.committed)} MB, of it the young generation ${mb(before.young)} MB → ${mb(held.young)} MB; external ${mb(before.external)} MB → ${mb(held.external)} MB`);
  console.log(`gateway rss with ${n} long-polls waiting: ${mb(held.rss)} MB in all (target: under 200 MB)`);

  // Wake a sample with real authorizations: each answer must come after its commit, carrying the new status.
  const woken = ids.slice(0, sample);
  // A card given with its CVV serves one authorization, as a shopper's would: one instrument each.
  const cards: string[] = [];
  for (let i = 0; i < woken.length; i++) cards.push(await instrument(gw, token));
  const sent = performance.now();
  await pool(woken.length, 16, async (i) => {
    const r = await call(gw, 'POST', `${wf}/${woken[i]}/authorize`, { token, body: authorizeBody(cards[i]!) });
    if (r.status >= 300) throw new Error(`authorize answered ${r.status}: ${JSON.stringify(r.body)}`);
  });
  const results = await Promise.all(answers.slice(0, sample));
  const statuses = new Set(results.map((r) => `${r.status} ${JSON.parse(r.body).status}`));
  console.log(`woke ${sample} by authorizing them: all answered within ${(Math.max(...results.map((r) => r.at)) - sent).toFixed(0)} ms of the first authorize; answers: ${[...statuses].join(', ')}`);
  // The others' clients go away: the gateway ends their waits, and its heap after a full GC is the
  // baseline for what each waiting request kept.
  leaving = true;
  agent.destroy();
  const gone = Date.now() + 60_000;
  while (await gauge(url, 'switchyard_long_polls_waiting') > 0) {
    if (Date.now() > gone) throw new Error('long-polls whose clients went away are still waiting');
    await new Promise((r) => setTimeout(r, 250));
  }
  await new Promise((r) => setTimeout(r, 2000));
  await collectGarbage(gateway);
  const after = await memoryOf(pid, url);
  console.log(`gateway heap after a full GC: ${mb(heldCollected.heap)} MB with ${n} waiting, ${mb(after.heap)} MB once they are gone (+${((heldCollected.heap - after.heap) / n / 1024).toFixed(1)} KiB per waiting request)`);
  await stopAll();
  if (process.env.BENCH_SKIP_BARE === '1') throw new SkipBare();

  // The floor: what node:http alone spends on as many held requests, with the same headers.
  const bare = await startServer(['--expose-gc', ...flags, join(import.meta.dirname, 'bare-hold.ts')], { ...process.env, PORT: '0' }, /listening on (http:\/\/\S+)/);
  const bareUrl = bare.ready[1]!;
  const memory = async () => (await (await fetch(`${bareUrl}/memory`)).json()) as { rss: number; heapUsed: number; held: number };
  const bareBefore = await memory();
  const bareAgent = new http.Agent({ keepAlive: false, maxSockets: Infinity });
  for (const id of ids) {
    const req = http.get(`${bareUrl}${wf}/${id}?waitWhile[status]=${waitWhile}`, { agent: bareAgent, headers: { authorization: `Bearer ${token}` } });
    req.on('error', () => {});
  }
  let bareHeld = 0;
  while ((bareHeld = (await memory()).held) < n) {
    if (Date.now() > deadline + 120_000) throw new Error(`only ${bareHeld} of ${n} requests reached the bare server`);
    await new Promise((r) => setTimeout(r, 250));
  }
  await new Promise((r) => setTimeout(r, 2000));
  const bareHeldMemory = await memory();
  if (snapshots) await snapshot(bare.child.pid!);
  console.log(`bare node:http holding ${n} requests (the floor): rss +${mb(bareHeldMemory.rss - bareBefore.rss)} MB (${((bareHeldMemory.rss - bareBefore.rss) / n / 1024).toFixed(1)} KiB per request), heap after a full GC +${((bareHeldMemory.heapUsed - bareBefore.heapUsed) / n / 1024).toFixed(1)} KiB per request, ${mb(bareHeldMemory.rss)} MB in all`);
  bareAgent.destroy();
} catch (err) {
  if (!(err instanceof SkipBare)) throw err;
} finally {
  await stopAll();
  rmSync(dataDir, { recursive: true, force: true });
}
process.exit(0);
