import { test } from 'node:test';
import assert from 'node:assert/strict';
import { judgeSkew } from './clock-skew.ts';

test('a reading decides only when its whole range is on one side of the bound', () => {
  assert.deepEqual(judgeSkew(1000, 1002, 1001, 50), { skewMs: 0, verdict: 'agrees' });
  assert.deepEqual(judgeSkew(1100, 1102, 1001, 50), { skewMs: 100, verdict: 'disagrees' }, 'ahead');
  assert.deepEqual(judgeSkew(900, 902, 1001, 50), { skewMs: -100, verdict: 'disagrees' }, 'behind');
  // A reading that took 200 ms cannot tell 0 from 120 ms ahead.
  assert.equal(judgeSkew(1000, 1200, 1000, 50).verdict, 'undecided');
  assert.equal(judgeSkew(1000, 1200, 900, 50).verdict, 'disagrees', 'ahead whenever the database read it');
});
