/**
 * Holds 1,000 concurrent `waitWhile` long-polls in one gateway process and prints what they cost:
 * heap and RSS growth per waiting request, then wakes them all with real changes and prints how
 * long the answers took after the commits. `BENCH_WAITERS` changes the count.
 */
import { startGateway } from '../test/support/harness.ts';
import { call, execution, instrument, authorizeBody, tokenOf, wf } from '../test/support/executions.ts';

const n = Number(process.env.BENCH_WAITERS ?? 1000);
const gw = await startGateway({ env: { SWITCHYARD_LONG_POLL_MS: '120000', LOG_LEVEL: 'warn' } });
const token = await tokenOf(gw);
const inst = await instrument(gw, token);
const ids: string[] = [];
for (let i = 0; i < n; i++) ids.push(await execution(gw, token));

const settle = async () => { for (let i = 0; i < 3; i++) { global.gc?.(); await new Promise((r) => setTimeout(r, 100)); } };
await settle();
const before = process.memoryUsage();
const answers = ids.map((id) => call(gw, 'GET', `${wf}/${id}?waitWhile[status]=${encodeURIComponent('["created","authorizeRequested"]')}`, { token }));
while (gw.app.waiters.size < n) await new Promise((r) => setTimeout(r, 20));
await settle();
const held = process.memoryUsage();
const mb = (b: number) => (b / 1024 / 1024).toFixed(1);
console.log(`long-polls waiting: ${gw.app.waiters.size}`);
console.log(`heap: ${mb(before.heapUsed)} MB → ${mb(held.heapUsed)} MB  (+${((held.heapUsed - before.heapUsed) / n / 1024).toFixed(1)} KiB per waiting request, client sockets included)`);
console.log(`rss:  ${mb(before.rss)} MB → ${mb(held.rss)} MB  (+${((held.rss - before.rss) / n / 1024).toFixed(1)} KiB per waiting request)`);
const t0 = performance.now();
await Promise.all(ids.map((id) => call(gw, 'POST', `${wf}/${id}/authorize`, { token, body: authorizeBody(inst) })));
const results = await Promise.all(answers);
console.log(`all ${results.length} answered ${(performance.now() - t0).toFixed(0)} ms after the first authorize was sent; statuses: ${[...new Set(results.map((r) => r.body.status))].join(', ')}`);

// Wake-up latency of one long-poll: from the moment the service wakes the waiter after its commit
// to the answer arriving at the client (the "within 100 ms of the change" target).
const gaps: number[] = [];
const original = gw.app.waiters.wake.bind(gw.app.waiters);
for (let i = 0; i < 50; i++) {
  const id = await execution(gw, token);
  let wokenAt = 0;
  gw.app.waiters.wake = (x: string) => { if (x === id && !wokenAt) wokenAt = performance.now(); original(x); };
  const waiting = call(gw, 'GET', `${wf}/${id}?waitWhile[status]=${encodeURIComponent('["created"]')}`, { token });
  while (gw.app.waiters.size === 0) await new Promise((r) => setTimeout(r, 2));
  await call(gw, 'POST', `${wf}/${id}/authorize`, { token, body: authorizeBody(inst) });
  await waiting;
  gaps.push(performance.now() - wokenAt);
}
gw.app.waiters.wake = original;
gaps.sort((a, b) => a - b);
console.log(`wake-up to answer over ${gaps.length} long-polls: p50 ${gaps[Math.floor(gaps.length / 2)]!.toFixed(1)} ms, max ${gaps.at(-1)!.toFixed(1)} ms`);
await gw.close();
process.exit(0);
