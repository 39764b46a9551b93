/** An action its PSP reports failed after confirming it (REFUND_FAILED, CAPTURE_FAILED), while a later capture runs. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Currency, Money } from '../money/money.ts';
import type { PaymentChange } from '../payments/change.ts';
import { paymentStatusOf, type OperationKind, type OperationStatus } from '../payments/model.ts';
import type { OperationRecord, PaymentRecord } from '../payments/store.ts';
import { canMove, type ActionRecord, type ExecutionRecord } from './model.ts';
import { applyStep, projectExecution } from './projection.ts';

const EUR = 'EUR' as Currency;
const eur = (amount: number): Money => ({ amount, currency: EUR });
const T0 = Date.UTC(2026, 0, 1);
const ops: OperationRecord[] = [];
function add(kind: OperationKind, status: OperationStatus, amount: number, context: Record<string, unknown> = {}) {
  const seq = ops.length;
  const op: OperationRecord = {
    id: `op${seq}`, paymentId: 'pay', seq, merchantId: 'm', entityId: undefined, kind, status, amount: eur(amount),
    referencedId: seq === 0 ? undefined : 'op0', resultCode: undefined, reason: undefined, pspReference: undefined,
    merchantTransactionId: undefined, shortId: `s${seq}`, context, details: {}, unknownSince: undefined, createdAt: T0, updatedAt: T0,
  };
  ops.push(op);
  return op;
}
const settle = (op: OperationRecord, status: OperationStatus) => { ops[op.seq] = { ...op, status, ...(status === 'failed' ? { reason: 'provider_error' as const } : {}) }; return ops[op.seq]!; };
function change(op: OperationRecord, undone = false): PaymentChange {
  const payment: PaymentRecord = {
    id: 'pay', merchantId: 'm', channel: 'executions', entityId: undefined, initialKind: 'authorize', status: paymentStatusOf(ops), amount: 10_000,
    currency: EUR, cardId: 'card', method: 'card', live: false, pspAccountId: undefined, workflowCode: 'payment-acceptance',
    version: 1, createdAt: T0, updatedAt: T0,
  };
  return { payment, operations: [...ops], attempts: [], operation: ops[op.seq]!, previousStatus: undefined, ...(undone ? { undone: true } : {}) } as PaymentChange;
}

let now = T0 + 10;
/** As the executions service records a step: a move outside the state machine is dropped (logged only). */
function observe(e: ExecutionRecord, c: PaymentChange): ExecutionRecord {
  const step = projectExecution(e, c, undefined, false);
  if (!step) return e;
  if (step.status !== e.status && !canMove(e.status, step.status)) return e;
  return applyStep(e, step, now += 5);
}

/** An execution authorized for 100.00 (its payment's operations start afresh), then 40.00 captured. */
function partlyCaptured(id: string): { e: ExecutionRecord; c1: OperationRecord } {
  ops.length = 0;
  let e: ExecutionRecord = {
    id, merchantId: 'm', workflowCode: 'payment-acceptance', merchantReference: `order-${id}`, holderReference: undefined, workspaceId: 'ws', meta: {},
    status: 'authorizeRequested', history: [{ code: 'created', time: T0 }, { code: 'authorizeRequested', time: T0 + 1 }],
    authorize: { amount: eur(10_000), returnInfo: { success: 'https://shop.example/ok' }, paymentMethodCode: 'card', instrumentId: 'i', cardId: 'card', baseUrl: 'https://gw.example', notifyPending: false },
    paymentId: 'pay', action: undefined, actions: [{ id: 'a0', name: 'authorize', requestedAt: T0 }], captureClosed: false, version: 2, createdAt: T0, updatedAt: T0 + 1,
  } as ExecutionRecord;
  e = observe(e, change(settle(add('authorize', 'pending', 10_000), 'succeeded')));
  assert.equal(e.status, 'authorized');
  const captured = actionDone(e, 'capture', 'c1', 4000);
  assert.equal(captured.e.status, 'partiallyCaptured');
  return { e: captured.e, c1: captured.op };
}

/** A capture or refund asked and confirmed by its PSP. */
function actionDone(e: ExecutionRecord, name: 'capture' | 'refund', id: string, amount: number): { e: ExecutionRecord; op: OperationRecord } {
  const asked = add(name, 'pending', amount, { executionAction: { id, name, requestedAt: now, amount: eur(amount) } as ActionRecord });
  const done = settle(asked, 'succeeded');
  return { e: observe(observe(e, change(asked)), change(done)), op: done };
}

/** A second capture asked (action `c2`), still at its PSP: the execution reads `captureRequested`. */
function captureAsked(e: ExecutionRecord, amount: number): { e: ExecutionRecord; c2: OperationRecord } {
  const c2 = add('capture', 'pending', amount, { executionAction: { id: 'c2', name: 'capture', requestedAt: now, amount: eur(amount) } as ActionRecord });
  const asked = observe(e, change(c2));
  assert.equal(asked.status, 'captureRequested');
  return { e: asked, c2 };
}

test('a refund undone (REFUND_FAILED after REFUND) while a later capture runs still reaches the execution (history refundFailed, action failed)', () => {
  let { e } = partlyCaptured('exec');
  let r1done: OperationRecord;
  ({ e, op: r1done } = actionDone(e, 'refund', 'r1', 1000));
  assert.equal(e.status, 'partiallyRefunded');
  ({ e } = captureAsked(e, 2000));
  // The scheme rejects the refund Adyen had confirmed, while the second capture is still at Adyen.
  const before = e.history.length;
  e = observe(e, change(settle(r1done, 'failed'), true));
  assert.equal(e.history.length, before + 1, `the undone refund was dropped: history ${e.history.map((h) => h.code)}`);
  assert.equal(e.history.at(-1)?.code, 'refundFailed');
  assert.equal(e.actions.find((a) => a.id === 'r1')?.success, false, 'the refund still counts as successful on the execution');
});

test('an earlier capture undone (CAPTURE_FAILED) while a later capture runs: the later capture\'s success still reaches the execution', () => {
  let { e, c1 } = partlyCaptured('exec2');
  let c2: OperationRecord;
  ({ e, c2 } = captureAsked(e, 3000));
  e = observe(e, change(settle(c1, 'failed'), true));
  e = observe(e, change(settle(c2, 'succeeded')));
  assert.equal(e.actions.find((a) => a.id === 'c2')?.success, true, `the second capture never completed on the execution: status ${e.status}, history ${e.history.map((h) => h.code)}`);
  assert.equal(e.status, 'partiallyCaptured');
});
