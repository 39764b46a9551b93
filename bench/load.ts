/**
 * Load worker: runs one autocannon pass and prints a LoadResult as JSON on stdout. It runs in its
 * own process so the load generator never competes with the measured server for an event loop.
 * Usage: node bench/load.ts '<LoadSpec as JSON>'
 */
import type { EventEmitter } from 'node:events';
import { createRequire } from 'node:module';
import { createHistogram } from 'node:perf_hooks';

export interface LoadSpec {
  /** Several URLs spread the connections across them (one gateway process each). */
  url: string | string[];
  connections: number;
  /** Seconds. */
  duration: number;
  /** Seconds without an answer before autocannon counts a timeout. */
  timeout: number;
  method: 'GET' | 'POST';
  headers: Record<string, string>;
  body?: string;
}

export interface LoadResult {
  /** Mean of autocannon's per-second samples. */
  requestsPerSecond: number;
  /** Latency of every response, in ms. */
  p50: number;
  p99: number;
  /** Responses received. */
  total: number;
  non2xx: number;
  /** Connection errors, timeouts included. */
  errors: number;
  timeouts: number;
  statusCodes: Record<string, number>;
  seconds: number;
}

/** The slice of autocannon's result this worker reads (the package ships no types). */
interface AutocannonResult {
  requests: { average: number; total: number };
  non2xx: number;
  errors: number;
  timeouts: number;
  statusCodeStats: Record<string, { count: number }>;
  duration: number;
}
type Autocannon = (opts: LoadSpec, done: (err: Error | null, r: AutocannonResult) => void) => EventEmitter;

// Loaded through require with a local signature rather than an ambient module declaration, which
// would clash with @types/autocannon should it ever be installed.
const autocannon = createRequire(import.meta.url)('autocannon') as Autocannon;

const spec = JSON.parse(process.argv[2] ?? '') as LoadSpec;
// autocannon's own percentiles are whole milliseconds, too coarse for a bare server's sub-ms
// answers; this histogram keeps microseconds.
const latencyUs = createHistogram();
const r = await new Promise<AutocannonResult>((resolve, reject) => {
  const run = autocannon(spec, (err, res) => (err ? reject(err) : resolve(res)));
  run.on('response', (_client: unknown, _status: number, _bytes: number, ms: number) => {
    latencyUs.record(Math.max(1, Math.round(ms * 1000)));
  });
});
const result: LoadResult = {
  requestsPerSecond: r.requests.average,
  p50: latencyUs.percentile(50) / 1000,
  p99: latencyUs.percentile(99) / 1000,
  total: r.requests.total,
  non2xx: r.non2xx,
  errors: r.errors,
  timeouts: r.timeouts,
  statusCodes: Object.fromEntries(Object.entries(r.statusCodeStats).map(([code, s]) => [code, s.count])),
  seconds: r.duration,
};
process.stdout.write(JSON.stringify(result) + '\n');
