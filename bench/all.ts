/**
 * `npm run bench`: every write-path figure in one run, one after the other on a quiet machine —
 * SQLite at 16 and 64 connections against the bare node:http ceiling (bench/payments.ts),
 * PostgreSQL with 1, 2 and 3 gateway processes at 16 and 64 connections (bench/cluster.ts), and 10,000 waiting long-polls
 * (bench/longpoll.ts). Flags go to each part through the environment (BENCH_DURATION, BENCH_WARMUP,
 * BENCH_CONNECTIONS, BENCH_WAITERS); each part also runs alone through its own npm script.
 */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';

const parts: [string, string[]][] = [
  ['SQLite', ['bench/payments.ts']],
  ['PostgreSQL', ['bench/cluster.ts']],
  ['long-polls', ['bench/longpoll.ts']],
];
let failed = 0;
for (const [name, args] of parts) {
  console.log(`\n=== ${name} ===`);
  const r = spawnSync(process.execPath, args, { cwd: join(import.meta.dirname, '..'), stdio: 'inherit' });
  if (r.status !== 0) { failed++; console.log(`(${name}: exit ${r.status ?? r.signal})`); }
}
process.exitCode = failed > 0 ? 1 : 0;
