/**
 * Summarises a V8 CPU profile (`node --cpu-prof`): where the samples fall by self time, grouped by
 * source file (node_modules folded into their package) and by function, so a closing note can say
 * where a request's time goes without opening DevTools.
 *
 *   node bench/profile-summary.ts FILE.cpuprofile [--top 25]
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}
interface Profile { nodes: ProfileNode[]; samples: number[]; timeDeltas: number[] }

const { values, positionals } = parseArgs({ allowPositionals: true, options: { top: { type: 'string' } } });
const file = positionals[0];
if (!file) {
  console.error('usage: node bench/profile-summary.ts FILE.cpuprofile [--top N]');
  process.exit(2);
}
const top = Number(values.top ?? 25);
const profile = JSON.parse(readFileSync(file, 'utf8')) as Profile;
const byId = new Map(profile.nodes.map((n) => [n.id, n]));

/** A short place name: a package for anything under node_modules, the path under src/ otherwise. */
function place(url: string): string {
  if (!url) return '(native)';
  const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (pkg) return `pkg:${pkg[1]}`;
  if (url.startsWith('node:')) return url;
  const src = /\/(src|bench|test)\/(.+)$/.exec(url);
  return src ? `${src[1]}/${src[2]}` : url;
}

const selfByNode = new Map<number, number>();
let total = 0;
profile.samples.forEach((id, i) => {
  const dt = profile.timeDeltas[i] ?? 0;
  selfByNode.set(id, (selfByNode.get(id) ?? 0) + dt);
  total += dt;
});

const byPlace = new Map<string, number>();
const byFunction = new Map<string, number>();
let idle = 0;
for (const [id, us] of selfByNode) {
  const { callFrame } = byId.get(id)!;
  const name = callFrame.functionName || '(anonymous)';
  if (name === '(idle)') { idle += us; continue; }
  const where = place(callFrame.url);
  byPlace.set(where, (byPlace.get(where) ?? 0) + us);
  const key = `${name}  ${where}${callFrame.url ? `:${callFrame.lineNumber + 1}` : ''}`;
  byFunction.set(key, (byFunction.get(key) ?? 0) + us);
}

const busy = total - idle;
const pct = (us: number) => `${((100 * us) / busy).toFixed(1).padStart(5)} %`;
console.log(`${file}`);
console.log(`sampled ${(total / 1e6).toFixed(2)} s, idle ${((100 * idle) / total).toFixed(1)} %; shares below are of the busy time`);
const print = (title: string, m: Map<string, number>) => {
  console.log(`\n${title}`);
  for (const [k, us] of [...m].sort((a, b) => b[1] - a[1]).slice(0, top)) console.log(`  ${pct(us)}  ${k}`);
};
print('self time by place', byPlace);
print('self time by function', byFunction);
