import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  claimableNames, failureText, isClaimable, isJobName, leaseLapsed, nextRunAt, registrationWindow, renewEveryMs, wakeAfterMs,
} from './model.ts';

const T = Date.UTC(2026, 0, 1);

test('nextRunAt keeps to the grid of due times: no drift from run time, no backlog after a long stop', () => {
  assert.equal(nextRunAt(T, 1000, T), T + 1000, 'an instant run: the next slot');
  assert.equal(nextRunAt(T, 1000, T + 350), T + 1000, 'a run taking 350 ms does not push the schedule');
  assert.equal(nextRunAt(T, 1000, T + 999), T + 1000);
  assert.equal(nextRunAt(T, 1000, T + 1000), T + 2000, 'finishing on a slot: the slot after');
  assert.equal(nextRunAt(T, 1000, T + 3_600_500), T + 3_601_000, 'an hour behind: one run at the next slot, not 3600');
  assert.equal(nextRunAt(T, 1000, T - 5), T + 1000, 'a node whose clock is behind the due time still moves it on');
  assert.throws(() => nextRunAt(T, 0, T), RangeError);
});

test('nextRunAt: always after the finish, at most one interval after it, on the grid', () => {
  fc.assert(fc.property(
    fc.integer({ min: 0, max: 2 ** 42 }), fc.integer({ min: 1, max: 86_400_000 }), fc.integer({ min: -10_000, max: 10 ** 9 }),
    (due, interval, elapsed) => {
      const finished = due + elapsed;
      const next = nextRunAt(due, interval, finished);
      assert.ok(next > finished && next > due);
      assert.ok(next - Math.max(finished, due) <= interval);
      assert.equal((next - due) % interval, 0);
    },
  ));
});

test('a lease holds until its instant; a job is claimable when due and its lease lapsed', () => {
  assert.equal(leaseLapsed(undefined, T), true);
  assert.equal(leaseLapsed(T + 1, T), false);
  assert.equal(leaseLapsed(T, T), true, 'at leaseUntil the lease has lapsed');
  assert.equal(isClaimable({ name: 'a', nextRunAt: T, leaseUntil: undefined }, T), true);
  assert.equal(isClaimable({ name: 'a', nextRunAt: T + 1, leaseUntil: undefined }, T), false, 'not due yet');
  assert.equal(isClaimable({ name: 'a', nextRunAt: T - 10, leaseUntil: T + 10 }, T), false, 'another node runs it');
  assert.equal(isClaimable({ name: 'a', nextRunAt: T - 10, leaseUntil: T - 1 }, T), true, 'its node died: take it over');
});

test('claimableNames leaves out what this node runs already', () => {
  const rows = [
    { name: 'a', nextRunAt: T, leaseUntil: undefined },
    { name: 'b', nextRunAt: T, leaseUntil: undefined },
    { name: 'c', nextRunAt: T + 5, leaseUntil: undefined },
    { name: 'd', nextRunAt: T, leaseUntil: T + 5 },
  ];
  assert.deepEqual(claimableNames(rows, T), ['a', 'b']);
  assert.deepEqual(claimableNames(rows, T, new Set(['a'])), ['b']);
});

test('wakeAfterMs: until the earliest due or lease end, within [min, max]; jobs running here do not count', () => {
  const rows = [
    { name: 'a', nextRunAt: T + 300, leaseUntil: undefined },
    { name: 'b', nextRunAt: T - 50, leaseUntil: T + 200 },
    { name: 'c', nextRunAt: T - 50, leaseUntil: undefined },
  ];
  assert.equal(wakeAfterMs(rows, T, new Set(['c']), 10, 1000), 200);
  assert.equal(wakeAfterMs(rows, T, new Set(['b', 'c']), 10, 1000), 300);
  assert.equal(wakeAfterMs(rows, T, new Set(), 10, 1000), 10, 'something is due: the minimum');
  assert.equal(wakeAfterMs(rows, T, new Set(['b', 'c']), 10, 100), 100);
  assert.equal(wakeAfterMs([], T, new Set(), 10, 1000), 1000);
});

test('registration: a new row is due at once; a row scheduled further than one interval out is brought forward', () => {
  assert.deepEqual(registrationWindow(T, 5000), { firstRunAt: T, latestRunAt: T + 5000 });
});

test('renewal comes three times per lease', () => {
  assert.equal(renewEveryMs(30_000), 10_000);
  assert.equal(renewEveryMs(1), 1);
});

test('job names are lowercase dashed words of at most 64 characters', () => {
  for (const ok of ['reconcile-payments', 'purge-idempotency', 'a', 'job2']) assert.ok(isJobName(ok), ok);
  for (const bad of ['', 'Reconcile', 'a--b', '-a', 'a-', 'a b', 'a'.repeat(65), 'a_b']) assert.ok(!isJobName(bad), bad);
});

test('failureText: the message, bounded, with card numbers scrubbed', () => {
  assert.equal(failureText(new TypeError('boom')), 'TypeError: boom');
  assert.equal(failureText('plain'), 'plain');
  const text = failureText(new Error('card 4111 1111 1111 1111 refused'));
  assert.ok(!text.includes('4111 1111 1111 1111'), text);
  assert.match(text, /PAN REDACTED/);
  const long = failureText(new Error('x'.repeat(5000)), 100);
  assert.equal(long.length, 100);
});
