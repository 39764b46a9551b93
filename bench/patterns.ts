/**
 * What untrusted text costs as it grows: for each check that reads a value a stranger or a merchant
 * chooses, the cost of an input four times as long against the shorter one. A linear check prints
 * about 4; a quadratic one about 16 (the payment filter's trim and the /v1 e-mail pattern were).
 *
 *   node bench/patterns.ts
 */
import { parseFilter } from '../src/search/model.ts';
import { compile } from '../src/runtime/json-schema.ts';
import { oppFields } from '../src/dialects/opp/fields.ts';
import { scrubJsonLine } from '../src/runtime/scrub.ts';

/** Nanoseconds per call: the fastest of five batches, the least disturbed by other work. */
function costOf(f: () => void, reps: number): number {
  let best = Infinity;
  for (let trial = 0; trial < 5; trial++) {
    const start = process.hrtime.bigint();
    for (let i = 0; i < reps; i++) f();
    best = Math.min(best, Number(process.hrtime.bigint() - start));
  }
  return best / reps;
}

const email = compile(oppFields['customer.email']!);
const cases: [string, (n: number) => string, (s: string) => void, number][] = [
  ['payment filter, a value of blanks', (n) => `a${' '.repeat(n)}a`, (s) => { parseFilter({ status: s }); }, 4096],
  ['/v1 customer.email, a domain of dots', (n) => `a@${'.'.repeat(n)}@`, (s) => { email(s); }, 1024],
  ['log scrubber, a URL of digit groups', (n) => JSON.stringify({ url: `/v1/query?x=${'1-1.'.repeat(n / 4)}` }), (s) => { scrubJsonLine(s); }, 4096],
];

console.log('check                                   n      cost(n)    cost(4n)   growth');
for (const [name, input, run, n] of cases) {
  const small = input(n);
  const large = input(4 * n);
  for (let i = 0; i < 3; i++) { run(small); run(large); }
  const a = costOf(() => run(small), 5);
  const b = costOf(() => run(large), 5);
  console.log(`${name.padEnd(38)} ${String(n).padStart(6)} ${(a / 1e6).toFixed(2).padStart(8)} ms ${(b / 1e6).toFixed(2).padStart(8)} ms ${(b / a).toFixed(1).padStart(6)}x`);
}
