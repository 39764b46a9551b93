import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Currency } from '../money/money.ts';
import { authorizationExpired, decideFollowUp, type Operation, type OperationKind, type OperationStatus } from './model.ts';

/** Which payments the `expire-authorizations` job voids: the selection rule alone, on the clock it is given. */

const EUR = 'EUR' as Currency;
const day = 86_400_000;
const madeAt = 1_000_000;
const cutoff = madeAt + 7 * day;

function ops(...specs: [OperationKind, OperationStatus, number][]): Operation[] {
  return specs.map(([kind, status, amount], i) => ({
    id: `op${i}`, paymentId: 'pay', kind, status, amount: { amount, currency: EUR },
    referencedId: i === 0 ? undefined : 'op0', createdAt: madeAt + i * day,
  }));
}

test('an approved authorization with its whole amount open is due once its age reaches the expiry', () => {
  const p = ops(['authorize', 'succeeded', 1000]);
  assert.equal(authorizationExpired(p, cutoff), true);
  // The cutoff is now minus the expiry: an authorization made at the cutoff is exactly that old.
  assert.equal(authorizationExpired(p, madeAt), true, 'exactly at the expiry');
  assert.equal(authorizationExpired(p, madeAt - 1), false, 'a millisecond short of it');
});

test('its age counts from its approval (the shopper\'s 3-D Secure challenge), not from the request; its first approving attempt counts', () => {
  const p = ops(['authorize', 'succeeded', 1000]);
  const wait = 30 * 60_000;
  const approvedAt = madeAt + 25 * 60_000;
  const attempts = [
    { operationId: 'op0', status: 'failed' as const, createdAt: madeAt, updatedAt: madeAt + 1000 },
    { operationId: 'op0', status: 'succeeded' as const, createdAt: madeAt, updatedAt: approvedAt },
    { operationId: 'op1', status: 'succeeded' as const, createdAt: madeAt, updatedAt: approvedAt + day },
  ];
  assert.equal(authorizationExpired(p, approvedAt - 1, attempts, wait), false, 'a millisecond short of its age since the approval');
  assert.equal(authorizationExpired(p, approvedAt, attempts, wait), true);
  assert.equal(authorizationExpired(p, approvedAt - 1), true, 'without its attempts, from the request');
});

test('an approval settled past the shopper\'s wait (a lost answer the reconciler found hours later) counts from the end of that wait at most', () => {
  const p = ops(['authorize', 'succeeded', 1000]);
  const wait = 30 * 60_000;
  const attempts = [{ operationId: 'op0', status: 'succeeded' as const, createdAt: madeAt, updatedAt: madeAt + 6 * 3_600_000 }];
  assert.equal(authorizationExpired(p, madeAt + wait, attempts, wait), true);
  assert.equal(authorizationExpired(p, madeAt + wait - 1, attempts, wait), false);
});

test('a partly captured authorization is due for its open rest; a fully captured one is not', () => {
  assert.equal(authorizationExpired(ops(['authorize', 'succeeded', 1000], ['capture', 'succeeded', 400]), cutoff), true);
  assert.equal(authorizationExpired(ops(['authorize', 'succeeded', 1000], ['capture', 'succeeded', 1000]), cutoff), false);
});

test('nothing is due while a capture or a void is on its way, or after a void, a failed capture aside', () => {
  for (const s of ['pending', 'unknown'] as const) {
    assert.equal(authorizationExpired(ops(['authorize', 'succeeded', 1000], ['capture', s, 400]), cutoff), false, `capture ${s}`);
    assert.equal(authorizationExpired(ops(['authorize', 'succeeded', 1000], ['void', s, 1000]), cutoff), false, `void ${s}`);
  }
  assert.equal(authorizationExpired(ops(['authorize', 'succeeded', 1000], ['void', 'succeeded', 1000]), cutoff), false);
  assert.equal(authorizationExpired(ops(['authorize', 'succeeded', 1000], ['capture', 'failed', 1000]), cutoff), true);
  // A void the PSP refused leaves the authorization open: the next run tries again.
  assert.equal(authorizationExpired(ops(['authorize', 'succeeded', 1000], ['void', 'failed', 1000]), cutoff), true);
});

test('sales, credits and authorizations without an approval never expire', () => {
  assert.equal(authorizationExpired(ops(['sale', 'succeeded', 1000]), cutoff), false);
  assert.equal(authorizationExpired(ops(['credit', 'succeeded', 1000]), cutoff), false);
  for (const s of ['awaiting', 'pending', 'unknown', 'failed'] as const) {
    assert.equal(authorizationExpired(ops(['authorize', s, 1000]), cutoff), false, s);
  }
});

test('a due authorization is one the amount rules let void, and the void refuses every later capture', () => {
  const p = ops(['authorize', 'succeeded', 1000], ['capture', 'succeeded', 300]);
  assert.equal(authorizationExpired(p, cutoff), true);
  const v = decideFollowUp(p, { kind: 'void', amount: undefined, target: p[0]!, awaitsReceipt: false });
  assert.deepEqual(v, { ok: true, value: { amount: 700, currency: EUR } });
  const after = [...p, { ...p[1]!, id: 'op2', kind: 'void' as const, amount: { amount: 700, currency: EUR } }];
  assert.equal(authorizationExpired(after, cutoff), false);
  const capture = decideFollowUp(after, { kind: 'capture', amount: { amount: 100, currency: EUR }, target: p[0]!, awaitsReceipt: false });
  assert.equal(capture.ok, false);
});
