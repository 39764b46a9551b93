/**
 * The chaos suite's short form (scripts/chaos.ts, `npm run chaos` for the full one): a few races,
 * fuzz inputs and SIGKILL cycles against a real gateway process, on SQLite and on PostgreSQL.
 */
import { before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { campaign, options, reseed, summary } from '../scripts/chaos.ts';
import { postgresAvailable } from './support/harness.ts';
import { describeViolations } from './support/invariants.ts';
import type { StoreKind } from './support/stores.ts';

Object.assign(options, { cycles: 3, concurrency: 4, races: 8, fuzz: 60, faultRate: 0.15, loadMs: 800 });
reseed(Number(process.env.CHAOS_SEED ?? Math.floor(Math.random() * 2 ** 31)));
const pgUp = await postgresAvailable();

for (const store of ['sqlite', 'postgres'] as StoreKind[]) {
  describe(`chaos (short) on ${store}`, { skip: store === 'postgres' && !pgUp ? 'PostgreSQL unreachable' : false }, () => {
    let figures: Awaited<ReturnType<typeof campaign>>;
    before(async () => {
      figures = await campaign(store);
      // The figures and the seed that replays them (CHAOS_SEED), in the test output.
      console.log(summary([figures]));
    });

    test('the campaign ran its races, fuzz inputs and crash cycles', () => {
      assert.equal(figures.crashCycles, options.cycles);
      assert.equal(figures.races, options.races);
      assert.equal(figures.fuzzInputs, 2 * options.fuzz);
      assert.ok(figures.acknowledged > 0 && figures.operations > figures.acknowledged);
    });

    test('every payment acknowledged as approved is in the books exactly once; fuzzing found nothing', () => {
      const v = figures.violations.filter((x) => x.rule.startsWith('acknowledged_') || x.rule === 'fuzz');
      assert.deepEqual(v, [], describeViolations(v));
    });

    test('no invariant violation after reconciliation', () => {
      assert.deepEqual(figures.violations, [], describeViolations(figures.violations));
    });

    test('after kill -9 during load and a restart, `ledger verify` passes', () => {
      assert.equal(figures.ledgerVerified, true, describeViolations(figures.violations.filter((x) => x.rule === 'ledger_verify')));
    });

    test('no 5xx', () => {
      assert.equal(figures.fiveXX, 0, figures.fiveXXSamples.join('\n'));
    });
  });
}
