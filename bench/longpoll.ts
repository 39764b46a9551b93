/**
 * Long-poll benchmark: holds 10,000 concurrent `waitWhile` long-polls against a gateway process of
 * its own and prints what they cost the gateway (resident memory and heap per waiting request, read
 * from that process, not from this client), then wakes a sample with real authorizations and prints
 * how long their answers took; then holds as many requests against a bare node:http server
 * (bench/bare-hold.ts) for the floor Node itself sets. `BENCH_WAITERS` changes the count.
 *
 *   npm run bench:longpoll
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, startServer, stopAll } from './proc.ts';
import { authorizeBody, call, execution, instrument, tokenOf, wf, type Reachable } from '../test/support/executions.ts';

const n = Number(process.env.BENCH_WAITERS ?? 10_000);
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

/** Runs `count` calls of `fn`, `width` at a time. */
async function pool(count: number, width: number, fn: (i: number) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(Array.from({ length: width }, async () => { while (next < count) await fn(next++); }));
}

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
  const gateway = await startServer([join(root, 'src/main.ts')], env, /Switchyard listening on (http:\/\/\S+)/);
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

  await new Promise((r) => setTimeout(r, 2000));
  const before = { rss: rssOf(pid), heap: await gauge(url, 'nodejs_heap_size_used_bytes') };

  // One socket per long-poll, as 10,000 merchant backends (or one with a wide pool) would hold them.
  const agent = new http.Agent({ keepAlive: false, maxSockets: Infinity });
  let connected = 0;
  const waitWhile = encodeURIComponent('["created","authorizeRequested"]');
  const answers = ids.map((id) => new Promise<{ status: number; body: string; at: number }>((resolve, reject) => {
    const req = http.get(`${url}${wf}/${id}?waitWhile[status]=${waitWhile}`, { agent, headers: { authorization: `Bearer ${token}` } }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => { body += c; });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body, at: performance.now() }));
    });
    req.on('socket', (socket) => socket.once('connect', () => { connected++; }));
    req.on('error', reject);
  }));
  for (const a of answers) a.catch(() => {});
  let waiting = 0;
  const deadline = Date.now() + 120_000;
  while ((waiting = await gauge(url, 'switchyard_long_polls_waiting')) < n) {
    // A gateway from before the gauge existed: count what this client has connected instead.
    if (Number.isNaN(waiting)) { waiting = connected; if (waiting >= n) { await new Promise((r) => setTimeout(r, 3000)); break; } }
    if (Date.now() > deadline) throw new Error(`only ${waiting} of ${n} long-polls reached the gateway`);
    await new Promise((r) => setTimeout(r, 250));
  }
  await new Promise((r) => setTimeout(r, 2000));
  const held = { rss: rssOf(pid), heap: await gauge(url, 'nodejs_heap_size_used_bytes') };
  console.log(`long-polls waiting in the gateway: ${waiting}`);
  console.log(`gateway rss:  ${mb(before.rss)} MB → ${mb(held.rss)} MB, +${mb(held.rss - before.rss)} MB (${((held.rss - before.rss) / n / 1024).toFixed(1)} KiB per waiting request)`);
  console.log(`gateway heap: ${mb(before.heap)} MB → ${mb(held.heap)} MB, +${mb(held.heap - before.heap)} MB (${((held.heap - before.heap) / n / 1024).toFixed(1)} KiB per waiting request)`);
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
  agent.destroy();
  await stopAll();

  // The floor: what node:http alone spends on as many held requests, with the same headers.
  const bare = await startServer(['--expose-gc', join(import.meta.dirname, 'bare-hold.ts')], { ...process.env, PORT: '0' }, /listening on (http:\/\/\S+)/);
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
  console.log(`bare node:http holding ${n} requests (the floor): rss +${mb(bareHeldMemory.rss - bareBefore.rss)} MB (${((bareHeldMemory.rss - bareBefore.rss) / n / 1024).toFixed(1)} KiB per request), heap after a full GC +${((bareHeldMemory.heapUsed - bareBefore.heapUsed) / n / 1024).toFixed(1)} KiB per request, ${mb(bareHeldMemory.rss)} MB in all`);
  bareAgent.destroy();
} finally {
  await stopAll();
  rmSync(dataDir, { recursive: true, force: true });
}
process.exit(0);
