import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { OperationRecord } from '../payments/store.ts';
import { latestActionOf } from './action-outcome.ts';

let seq = 0;
const op = (kind: string, status: string, amount: number, action?: string, reason?: string) => ({
  id: `op-${++seq}`, seq, kind, status, amount: { amount, currency: 'EUR' }, reason,
  context: action ? { executionAction: { id: action, name: kind } } : {},
}) as unknown as OperationRecord;

test('one executions refund in parts is one action: its amount, and whether every part went through', () => {
  const capture = op('capture', 'succeeded', 8000);
  assert.equal(latestActionOf([capture, op('refund', 'succeeded', 5000, 'a1'), op('refund', 'succeeded', 3000, 'a1')], 'refund')?.text, 'Refund succeeded (80.00 EUR).');
  assert.equal(latestActionOf([capture, op('refund', 'succeeded', 5000, 'a1'), op('refund', 'failed', 3000, 'a1', 'provider_error')], 'refund')?.text,
    'Refund partly succeeded (50.00 EUR of 80.00 EUR): provider_error.');
  assert.equal(latestActionOf([capture, op('refund', 'failed', 5000, 'a1', 'provider_error'), op('refund', 'failed', 3000, 'a1', 'provider_error')], 'refund')?.status, 'failed');
  assert.equal(latestActionOf([capture, op('refund', 'succeeded', 5000, 'a1'), op('refund', 'pending', 3000, 'a1')], 'refund')?.status, 'pending');
});

test('an earlier action of the same kind, or a /v1 operation, is not counted with the latest', () => {
  const capture = op('capture', 'succeeded', 8000);
  const earlier = op('refund', 'succeeded', 1000, 'a1');
  const latest = latestActionOf([capture, earlier, op('refund', 'succeeded', 2000, 'a2')], 'refund');
  assert.equal(latest?.text, 'Refund succeeded (20.00 EUR).');
  assert.deepEqual(latestActionOf([capture, op('refund', 'succeeded', 1000), op('refund', 'failed', 2000, undefined, 'provider_error')], 'refund')?.text,
    'Refund failed (20.00 EUR): provider_error.');
  assert.equal(latestActionOf([capture], 'refund'), undefined);
});
