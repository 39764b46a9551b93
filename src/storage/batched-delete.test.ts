import { test } from 'node:test';
import assert from 'node:assert/strict';
import { deleteInBatches } from './batched-delete.ts';

test('a backlog goes a batch at a time, with a pause after each full batch, until a batch comes back short', async () => {
  let left = 1_250;
  const asked: number[] = [];
  const pauses: number[] = [];
  const total = await deleteInBatches(async (limit) => {
    asked.push(limit);
    const n = Math.min(limit, left);
    left -= n;
    return n;
  }, 500, async (ms) => { pauses.push(ms); });
  assert.equal(total, 1_250);
  assert.deepEqual(asked, [500, 500, 500]);
  assert.equal(pauses.length, 2, 'no pause after the last, short batch');
  assert.ok(pauses.every((ms) => ms >= 5));
});

test('nothing to delete: one look, no pause', async () => {
  const pauses: number[] = [];
  assert.equal(await deleteInBatches(async () => 0, 500, async (ms) => { pauses.push(ms); }), 0);
  assert.deepEqual(pauses, []);
});
