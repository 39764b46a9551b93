import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import { createWaiters } from './waiters.ts';

const id = (n: number) => `00000000-0000-4000-8000-${String(n).padStart(12, '0')}`;

/** A stand-in for a response: `closed` once it has emitted `close`, as http.ServerResponse does. */
class Response extends EventEmitter {
  closed = false;
  close() { this.closed = true; this.emit('close'); }
}

test('wake resolves every waiter of that id with true, and only those', async () => {
  const w = createWaiters();
  const a1 = w.wait(id(1), 10_000);
  const a2 = w.wait(id(1), 10_000);
  const b = w.wait(id(2), 10_000);
  assert.equal(w.size, 3);
  w.wake(id(1));
  assert.deepEqual(await Promise.all([a1, a2]), [true, true]);
  assert.equal(w.size, 1);
  w.wake(id(3));
  assert.equal(w.size, 1);
  w.wakeAll();
  assert.equal(await b, true);
  assert.equal(w.size, 0);
});

test('each waiter times out on its own deadline with false, earliest first, whatever order they came in', async () => {
  const w = createWaiters();
  const t0 = performance.now();
  const ended: number[] = [];
  const waits = [300, 60, 180, 120].map((ms, i) => w.wait(id(i), ms).then((woken) => { ended.push(ms); return { woken, took: performance.now() - t0, ms }; }));
  const results = await Promise.all(waits);
  assert.deepEqual(ended, [60, 120, 180, 300]);
  for (const r of results) {
    assert.equal(r.woken, false);
    assert.ok(r.took >= r.ms - 1, `${r.ms} ms wait ended after ${r.took.toFixed(1)} ms`);
  }
  assert.equal(w.size, 0);
});

test('a waiter woken early leaves the others to their deadlines, and a wait of 0 ends at once', async () => {
  const w = createWaiters();
  const short = w.wait(id(1), 50);
  const long = w.wait(id(2), 150);
  w.wake(id(1));
  assert.equal(await short, true);
  const t0 = performance.now();
  assert.equal(await long, false);
  assert.ok(performance.now() - t0 >= 90);
  assert.equal(await w.wait(id(3), 0), false);
  assert.equal(w.size, 0);
});

test('a client that goes away ends its wait with false and leaves no listener behind', async () => {
  const w = createWaiters();
  const gone = new Response();
  const stays = new Response();
  const left = w.wait(id(1), 10_000, gone);
  const kept = w.wait(id(1), 10_000, stays);
  assert.equal(gone.listenerCount('close'), 1);
  gone.close();
  assert.equal(await left, false);
  assert.equal(gone.listenerCount('close'), 0);
  assert.equal(w.size, 1);
  w.wake(id(1));
  assert.equal(await kept, true);
  assert.equal(stays.listenerCount('close'), 0, 'a woken wait stops listening');
  // A client already gone does not wait at all.
  assert.equal(await w.wait(id(2), 10_000, gone), false);
  assert.equal(w.size, 0);
});

test('many waiters with interleaved wakes and deadlines all end exactly once', async () => {
  const w = createWaiters();
  const n = 2000;
  const settled = new Array<number>(n).fill(0);
  const waits = Array.from({ length: n }, (_, i) => w.wait(id(i), (i * 7919) % 200, undefined).then((woken) => { settled[i]!++; return woken; }));
  for (let i = 0; i < n; i += 3) w.wake(id(i));
  const results = await Promise.all(waits);
  for (let i = 0; i < n; i += 3) assert.equal(results[i], true);
  assert.ok(settled.every((c) => c === 1));
  assert.equal(w.size, 0);
});

test('no timer is left pending once nobody waits (a stopping process is not held open)', async () => {
  const w = createWaiters();
  const p = w.wait(id(1), 60_000, new Response());
  const timers = () => process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;
  const during = timers();
  w.wake(id(1));
  await p;
  assert.equal(timers(), during - 1);
});

test('leave ends that one wait with false; the other waiters of its id keep waiting, and its close listener goes', async () => {
  const w = createWaiters();
  const res = new Response();
  const mine = w.wait(id(1), 10_000, res);
  const other = w.wait(id(1), 10_000);
  let otherDone = false;
  void other.then(() => { otherDone = true; });
  w.leave(mine);
  assert.equal(await mine, false);
  assert.equal(res.listenerCount('close'), 0);
  await new Promise((r) => setImmediate(r));
  assert.equal(otherDone, false, 'the other waiter was not woken');
  assert.equal(w.size, 1);
  w.leave(mine); // a second leave, or one after the wait ended, changes nothing
  assert.equal(w.size, 1);
  w.wake(id(1));
  assert.equal(await other, true);
  assert.equal(w.size, 0);
});

test('stop: every wait ends now as if its time were up, and every later one at once (shutting down)', async () => {
  const w = createWaiters();
  const held = [w.wait('a', 60_000), w.wait('b', 60_000), w.wait('a', 60_000)];
  w.stop();
  assert.deepEqual(await Promise.all(held), [false, false, false]);
  assert.equal(w.size, 0);
  assert.equal(await w.wait('c', 60_000), false);
  assert.equal(w.size, 0);
});
