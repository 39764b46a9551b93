import { test } from 'node:test';
import assert from 'node:assert/strict';
import { eachIsolated } from './isolated.ts';

function recordingLogger() {
  const lines: { obj: Record<string, unknown>; msg: string }[] = [];
  return { lines, logger: { error: (obj: Record<string, unknown>, msg: string) => { lines.push({ obj, msg }); } } as never };
}

test('a row that throws is logged with the label and its key, counted, and the other rows still run', async () => {
  const { lines, logger } = recordingLogger();
  const seen: number[] = [];
  const tally = await eachIsolated([1, 2, 3, 4], async (n) => {
    seen.push(n);
    if (n === 2) throw new Error('corrupt row');
  }, logger, 'reconcile-payments', (n) => `row-${n}`);
  assert.deepEqual(seen, [1, 2, 3, 4]);
  assert.deepEqual(tally, { succeeded: 3, failed: 1 });
  assert.equal(lines.length, 1);
  assert.equal(lines[0]!.obj.job, 'reconcile-payments');
  assert.equal(lines[0]!.obj.row, 'row-2');
  assert.match(String(lines[0]!.obj.err), /corrupt row/);
});

test('never throws: synchronous throws, a throwing key function, a throwing logger, a broken row source', async () => {
  const throwingLogger = { error: () => { throw new Error('log sink down'); } } as never;
  const tally = await eachIsolated(['a', 'b'], (s) => { if (s === 'a') throw new Error('sync'); }, throwingLogger, 'x', () => { throw new Error('no key'); });
  assert.deepEqual(tally, { succeeded: 1, failed: 1 });

  const { lines, logger } = recordingLogger();
  async function* broken() { yield 1; yield 2; throw new Error('cursor closed'); }
  const handled: number[] = [];
  const t2 = await eachIsolated(broken(), (n) => { handled.push(n); }, logger, 'purge-idempotency');
  assert.deepEqual(handled, [1, 2]);
  assert.deepEqual(t2, { succeeded: 2, failed: 1 });
  assert.match(String(lines[0]!.obj.err), /cursor closed/);
});

test('rows are handled one after another, in order, and never logged themselves', async () => {
  const { lines, logger } = recordingLogger();
  const order: string[] = [];
  let active = 0;
  const rows = [{ id: 'r1', card: '4111111111111111' }, { id: 'r2', card: '4111111111111111' }];
  await eachIsolated(rows, async (r) => {
    active++;
    assert.equal(active, 1, 'one row at a time');
    await new Promise((resolve) => setTimeout(resolve, 5));
    order.push(r.id);
    active--;
    throw new Error('declined');
  }, logger, 'expire-awaiting');
  assert.deepEqual(order, ['r1', 'r2']);
  assert.equal(lines.length, 2);
  assert.ok(!JSON.stringify(lines).includes('4111111111111111'));
  assert.equal(lines[0]!.obj.row, undefined, 'no key function: no key');
});

test('no rows: nothing done, nothing failed', async () => {
  const { logger } = recordingLogger();
  assert.deepEqual(await eachIsolated([], () => { throw new Error('never'); }, logger, 'x'), { succeeded: 0, failed: 0 });
});
