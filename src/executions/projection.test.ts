import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import type { Currency, Money } from '../money/money.ts';
import type { PaymentChange } from '../payments/change.ts';
import { paymentStatusOf, type DeclineReason, type OperationKind, type OperationStatus } from '../payments/model.ts';
import type { OperationRecord, PaymentRecord } from '../payments/store.ts';
import { codeOfReason } from '../processors/result-codes.ts';
import { canMove, historyCodes, type ActionRecord, type ExecutionRecord, type HistoryCode } from './model.ts';
import { applyStep, projectExecution, type ExecutionStep } from './projection.ts';

const EUR = 'EUR' as Currency;
const eur = (amount: number): Money => ({ amount, currency: EUR });
const T0 = Date.UTC(2026, 0, 1);

const authorizeAction: ActionRecord = { id: 'act-auth', name: 'authorize', requestedAt: T0 };

function authorizing(status: 'authorizeRequested' | 'authorizePending' | 'unknown' = 'authorizeRequested', notifyPending = false): ExecutionRecord {
  return {
    id: 'exec', merchantId: 'm', workflowCode: 'payment-acceptance', merchantReference: 'order-1', holderReference: undefined,
    workspaceId: 'ws', meta: {}, status,
    history: [{ code: 'created', time: T0 }, { code: 'authorizeRequested', time: T0 + 1 }],
    authorize: {
      amount: eur(10_000), returnInfo: { success: 'https://shop.example/ok' }, paymentMethodCode: 'card', instrumentId: 'inst',
      cardId: 'card', baseUrl: 'https://gw.example', notifyPending,
    },
    paymentId: 'pay', action: undefined, actions: [authorizeAction], captureClosed: false, version: 2, createdAt: T0, updatedAt: T0 + 1,
  };
}

/** A payment's operations as the engine holds them, and the changes it tells its observers of. */
class Payment {
  readonly ops: OperationRecord[] = [];
  private status: PaymentRecord['status'] | undefined;

  add(kind: OperationKind, status: OperationStatus, amount: number, context: Record<string, unknown> = {}): OperationRecord {
    const seq = this.ops.length;
    const op: OperationRecord = {
      id: `op${seq}`, paymentId: 'pay', seq, merchantId: 'm', entityId: undefined, kind, status, amount: eur(amount),
      referencedId: seq === 0 ? undefined : 'op0', resultCode: undefined, reason: undefined, pspReference: undefined,
      merchantTransactionId: undefined, shortId: `s${seq}`, context, details: {}, unknownSince: undefined, createdAt: T0, updatedAt: T0,
    };
    this.ops.push(op);
    return op;
  }

  settle(op: OperationRecord, status: OperationStatus, extra: { reason?: DeclineReason; resultCode?: string } = {}): OperationRecord {
    const settled = { ...op, status, reason: extra.reason, resultCode: extra.resultCode };
    this.ops[op.seq] = settled;
    return settled;
  }

  change(op: OperationRecord, challenge?: PaymentChange['challenge']): PaymentChange {
    const next = paymentStatusOf(this.ops);
    const previousStatus = this.status;
    this.status = next;
    const payment: PaymentRecord = {
      id: 'pay', merchantId: 'm', channel: 'executions', entityId: undefined, initialKind: 'authorize', status: next, amount: 10_000,
      currency: EUR, cardId: 'card', method: 'card', live: false, pspAccountId: undefined, workflowCode: 'payment-acceptance',
      version: 1, createdAt: T0, updatedAt: T0,
    };
    return { payment, operations: [...this.ops], attempts: [], operation: this.ops[op.seq]!, previousStatus, ...(challenge ? { challenge } : {}) };
  }
}

/** What the executions service does with a change: project it, refuse a move outside the state machine, apply it. */
function observe(e: ExecutionRecord, change: PaymentChange, now: number, href?: string): { e: ExecutionRecord; step: ExecutionStep | undefined } {
  const step = projectExecution(e, change, href, e.authorize?.notifyPending === true);
  if (!step) return { e, step };
  if (step.status !== e.status) assert.ok(canMove(e.status, step.status), `${e.status} → ${step.status} is not a declared execution transition`);
  for (const entry of step.entries) assert.ok(historyCodes.includes(entry.code), entry.code);
  return { e: applyStep(e, step, now), step };
}

const codes = (e: ExecutionRecord): HistoryCode[] => e.history.map((h) => h.code);

/** An authorized execution with its payment, for the back-office tests. */
function authorized(): { e: ExecutionRecord; p: Payment } {
  const p = new Payment();
  const op = p.add('authorize', 'pending', 10_000);
  p.change(op);
  const { e } = observe(authorizing(), p.change(p.settle(op, 'succeeded')), T0 + 10);
  assert.equal(e.status, 'authorized');
  return { e, p };
}

const actionContext = (action: ActionRecord, extra: Record<string, unknown> = {}) => ({ executionAction: action, ...extra });

// ---------------------------------------------------------------------------------------------
// Authorization
// ---------------------------------------------------------------------------------------------

test('an approved authorization: authorized, the authorize action completed successfully', () => {
  const p = new Payment();
  const op = p.add('authorize', 'pending', 10_000);
  p.change(op);
  const { e, step } = observe(authorizing(), p.change(p.settle(op, 'succeeded')), T0 + 50);
  assert.equal(e.status, 'authorized');
  assert.deepEqual(step!.entries, [{ code: 'authorizeSuccessful' }]);
  assert.deepEqual(e.actions, [{ ...authorizeAction, success: true }]);
  assert.deepEqual(step!.event, { name: 'executionActionCompleted', action: authorizeAction, success: true });
  assert.deepEqual(codes(e), ['created', 'authorizeRequested', 'authorizeSuccessful']);
  assert.equal(e.version, 3);
  // A later change of the opening operation (none should come) no longer moves an authorized execution.
  assert.equal(projectExecution(e, p.change(op), undefined, false), undefined);
});

test('a declined authorization carries the acquirer\'s code, or its reason\'s when no PSP answered', () => {
  const p = new Payment();
  const op = p.add('authorize', 'pending', 10_000);
  const soft = observe(authorizing(), p.change(p.settle(op, 'failed', { reason: 'soft', resultCode: '800.100.171' })), T0 + 5);
  assert.equal(soft.e.status, 'authorizeFailed');
  assert.deepEqual(soft.step!.entries, [{ code: 'authorizeFailed', errors: [{ reason: 'declined_soft', resultCode: '800.100.171' }] }]);
  assert.deepEqual(soft.e.actions, [{ ...authorizeAction, success: false }]);
  assert.equal(soft.step!.event?.success, false);
  assert.equal(soft.e.authorize?.challengeDone, undefined, 'a decline at the PSP says nothing of a challenge');

  const lost = observe(authorizing(), p.change(p.settle(op, 'failed', { reason: 'not_received' })), T0 + 5);
  assert.deepEqual(lost.step!.entries[0]!.errors, [{ reason: 'provider_error', resultCode: codeOfReason.not_received }]);

  // The shopper's own choice carries no code, and ends the challenge for good.
  const abandoned = observe(authorizing('authorizePending'), p.change(p.settle(op, 'failed', { reason: 'cancelled_by_shopper' })), T0 + 5);
  assert.equal(abandoned.e.status, 'authorizeFailed');
  assert.deepEqual(abandoned.step!.entries[0]!.errors, [{ reason: 'cancelled_by_payer' }]);
  assert.equal(abandoned.e.authorize?.challengeDone, true);
});

test('an unknown authorization: unknown once, then settled by reconciliation', () => {
  const p = new Payment();
  const op = p.add('authorize', 'pending', 10_000);
  const first = observe(authorizing(), p.change(p.settle(op, 'unknown')), T0 + 5);
  assert.equal(first.e.status, 'unknown');
  assert.deepEqual(first.step!.entries, [{ code: 'authorizeUnknown' }]);
  assert.deepEqual(first.step!.event, { name: 'executionActionUpdated', action: authorizeAction });
  assert.equal(projectExecution(first.e, p.change(p.ops[0]!), undefined, false), undefined, 'still unknown: nothing new');
  const settled = observe(first.e, p.change(p.settle(op, 'succeeded')), T0 + 6);
  assert.equal(settled.e.status, 'authorized');
  assert.deepEqual(codes(settled.e), ['created', 'authorizeRequested', 'authorizeUnknown', 'authorizeSuccessful']);
});

test('an authorization awaiting a challenge: authorizePending with the hosted page, then the outcome after the challenge', () => {
  for (const notifyPending of [false, true]) {
    const p = new Payment();
    const op = p.add('authorize', 'awaiting', 10_000);
    const challenge = { id: 'ch1', purpose: '3ds' as const };
    // Without the page's address there is nothing to show the shopper.
    assert.equal(projectExecution(authorizing('authorizeRequested', notifyPending), p.change(op, challenge), undefined, notifyPending), undefined);
    const href = 'https://gw.example/hosted/3ds/ch1';
    const waiting = observe(authorizing('authorizeRequested', notifyPending), p.change(op, challenge), T0 + 5, href);
    assert.equal(waiting.e.status, 'authorizePending');
    assert.deepEqual(waiting.e.action, { kind: '3ds', challengeId: 'ch1', href });
    assert.deepEqual(waiting.step!.event, notifyPending ? { name: 'executionActionPending', action: authorizeAction } : undefined);
    // The shopper completed the challenge: the cascade runs on, the status stays, the page is gone.
    const resumed = observe(waiting.e, p.change(p.settle(op, 'pending')), T0 + 6);
    assert.equal(resumed.e.status, 'authorizePending');
    assert.deepEqual(resumed.step!.entries, []);
    assert.equal(resumed.e.action, undefined);
    assert.equal(resumed.e.authorize?.challengeDone, true);
    assert.equal(resumed.step!.event, undefined, 'a long-poll on authorizePending resolves only at the outcome');
    const done = observe(resumed.e, p.change(p.settle(op, 'succeeded')), T0 + 7);
    assert.equal(done.e.status, 'authorized');
    assert.deepEqual(codes(done.e), ['created', 'authorizeRequested', 'authorizePending', 'authorizeSuccessful']);
  }
});

// ---------------------------------------------------------------------------------------------
// Back-office actions
// ---------------------------------------------------------------------------------------------

test('a capture requested, then completed partially, then fully', () => {
  let { e, p } = authorized();
  const c1: ActionRecord = { id: 'act-c1', name: 'capture', requestedAt: T0 + 20, amount: eur(3000) };
  const cap1 = p.add('capture', 'pending', 3000, actionContext(c1));
  let r = observe(e, p.change(cap1), T0 + 20);
  assert.equal(r.e.status, 'captureRequested');
  assert.deepEqual(r.step!.entries, [{ code: 'captureRequested' }]);
  assert.deepEqual(r.step!.event, { name: 'executionActionRequested', action: c1, trigger: 'api' });
  assert.deepEqual(r.e.actions.at(-1), c1);
  // The PSP still processing: nothing to say yet.
  assert.equal(projectExecution(r.e, p.change(p.settle(cap1, 'pending')), undefined, false), undefined);
  r = observe(r.e, p.change(p.settle(cap1, 'succeeded')), T0 + 21);
  assert.equal(r.e.status, 'partiallyCaptured');
  assert.deepEqual(r.step!.entries, [{ code: 'captureSuccessful' }]);
  assert.deepEqual(r.step!.event, { name: 'executionActionCompleted', action: c1, success: true });
  assert.equal(r.e.actions.find((a) => a.id === c1.id)?.success, true);
  assert.equal(r.e.captureClosed, false);
  // Completed once: a replay of the same change is no news.
  assert.equal(projectExecution(r.e, p.change(p.ops[1]!), undefined, false), undefined);

  const c2: ActionRecord = { id: 'act-c2', name: 'capture', requestedAt: T0 + 30, amount: eur(7000) };
  const cap2 = p.add('capture', 'pending', 7000, actionContext(c2));
  r = observe(r.e, p.change(cap2), T0 + 30);
  assert.equal(r.e.status, 'captureRequested');
  r = observe(r.e, p.change(p.settle(cap2, 'succeeded')), T0 + 31);
  assert.equal(r.e.status, 'captured', 'the whole authorization captured');
  e = r.e;
  assert.deepEqual(codes(e).slice(3), ['captureRequested', 'captureSuccessful', 'captureRequested', 'captureSuccessful']);
});

test('a final partial capture: captured and closed; the release of the rest is no news', () => {
  const { e, p } = authorized();
  const c: ActionRecord = { id: 'act-c', name: 'capture', requestedAt: T0 + 20, amount: eur(2500) };
  const cap = p.add('capture', 'pending', 2500, actionContext(c, { final: true }));
  let r = observe(e, p.change(cap), T0 + 20);
  r = observe(r.e, p.change(p.settle(cap, 'succeeded')), T0 + 21);
  assert.equal(r.e.status, 'captured');
  assert.equal(r.e.captureClosed, true);
  // The engine then releases the rest with a void that carries the capture's action: no second completion.
  const release = p.add('void', 'pending', 7500, { ...actionContext(c), releases: cap.id });
  assert.equal(projectExecution(r.e, p.change(release), undefined, false), undefined);
  assert.equal(projectExecution(r.e, p.change(p.settle(release, 'succeeded')), undefined, false), undefined);
});

test('a failed capture: captureFailed with the acquirer\'s code; a capture may be asked again', () => {
  const { e, p } = authorized();
  const c: ActionRecord = { id: 'act-c', name: 'capture', requestedAt: T0 + 20, amount: eur(10_000) };
  const cap = p.add('capture', 'pending', 10_000, actionContext(c));
  let r = observe(e, p.change(cap), T0 + 20);
  r = observe(r.e, p.change(p.settle(cap, 'failed', { reason: 'provider_error', resultCode: '900.100.100' })), T0 + 21);
  assert.equal(r.e.status, 'captureFailed');
  assert.deepEqual(r.step!.entries, [{ code: 'captureFailed', errors: [{ reason: 'provider_error', resultCode: '900.100.100' }] }]);
  assert.deepEqual(r.step!.event, { name: 'executionActionCompleted', action: c, success: false, errors: [{ reason: 'provider_error', resultCode: '900.100.100' }] });
  assert.equal(r.e.actions.find((a) => a.id === c.id)?.success, false);
  const again: ActionRecord = { id: 'act-c2', name: 'capture', requestedAt: T0 + 30, amount: eur(10_000) };
  r = observe(r.e, p.change(p.add('capture', 'pending', 10_000, actionContext(again))), T0 + 30);
  assert.equal(r.e.status, 'captureRequested');
});

test('a cancel that refunds and voids completes only when both are final', () => {
  const cases: [OperationStatus, OperationStatus, 'refund first' | 'void first'][] = [
    ['succeeded', 'succeeded', 'refund first'], ['succeeded', 'succeeded', 'void first'], ['failed', 'succeeded', 'refund first'], ['succeeded', 'failed', 'void first'],
  ];
  for (const [refundOutcome, voidOutcome, order] of cases) {
    let { e, p } = authorized();
    const c: ActionRecord = { id: 'act-c', name: 'capture', requestedAt: T0 + 20, amount: eur(3000) };
    const cap = p.add('capture', 'pending', 3000, actionContext(c));
    e = observe(e, p.change(cap), T0 + 20).e;
    e = observe(e, p.change(p.settle(cap, 'succeeded')), T0 + 21).e;
    assert.equal(e.status, 'partiallyCaptured');

    const cancel: ActionRecord = { id: 'act-x', name: 'cancel', requestedAt: T0 + 30 };
    const refund = p.add('refund', 'pending', 3000, actionContext(cancel));
    const void_ = p.add('void', 'pending', 7000, actionContext(cancel));
    let r = observe(e, p.change(refund), T0 + 30);
    assert.equal(r.e.status, 'partiallyCaptured', 'a cancel requested does not change the status yet');
    assert.deepEqual(r.step!.entries, [{ code: 'cancelRequested' }]);
    assert.equal(projectExecution(r.e, p.change(void_), undefined, false), undefined, 'the second operation of the same action is no news');

    const [firstOp, firstOutcome, secondOp, secondOutcome] = order === 'refund first'
      ? [refund, refundOutcome, void_, voidOutcome] : [void_, voidOutcome, refund, refundOutcome];
    const halfway = p.change(p.settle(firstOp, firstOutcome, firstOutcome === 'failed' ? { reason: 'provider_error' } : {}));
    assert.equal(projectExecution(r.e, halfway, undefined, false), undefined, `${order}: one of two settled is not an outcome`);
    r = observe(r.e, p.change(p.settle(secondOp, secondOutcome, secondOutcome === 'failed' ? { reason: 'provider_error' } : {})), T0 + 40);
    const success = refundOutcome === 'succeeded' && voidOutcome === 'succeeded';
    // A failed cancel reads what the money says: the capture refunded (the void refused) is `refunded`;
    // nothing gone back (the refund refused) leaves the status it had.
    const expected = success ? 'cancelled' : refundOutcome === 'succeeded' ? 'refunded' : 'partiallyCaptured';
    assert.equal(r.e.status, expected, `${refundOutcome}/${voidOutcome}`);
    assert.equal(r.step!.entries[0]!.code, success ? 'cancelSuccessful' : 'cancelFailed');
    assert.equal(r.step!.event?.success, success);
    assert.equal(r.e.actions.find((a) => a.id === cancel.id)?.success, success);
  }
});

test('refunds: partial then full', () => {
  let { e, p } = authorized();
  const c: ActionRecord = { id: 'act-c', name: 'capture', requestedAt: T0 + 20, amount: eur(10_000) };
  const cap = p.add('capture', 'pending', 10_000, actionContext(c));
  e = observe(e, p.change(cap), T0 + 20).e;
  e = observe(e, p.change(p.settle(cap, 'succeeded')), T0 + 21).e;
  for (const [i, amount, status] of [[1, 4000, 'partiallyRefunded'], [2, 6000, 'refunded']] as const) {
    const a: ActionRecord = { id: `act-r${i}`, name: 'refund', requestedAt: T0 + 30 + i, amount: eur(amount) };
    const op = p.add('refund', 'pending', amount, actionContext(a));
    e = observe(e, p.change(op), T0 + 30 + i).e;
    e = observe(e, p.change(p.settle(op, 'succeeded')), T0 + 30 + i).e;
    assert.equal(e.status, status);
  }
});

// ---------------------------------------------------------------------------------------------
// History times
// ---------------------------------------------------------------------------------------------

test('history times strictly increase and the version counts steps, whatever the clock does', () => {
  const entry = fc.constantFrom(...historyCodes).map((code) => ({ code }));
  const stepAt = fc.record({
    entries: fc.array(entry, { maxLength: 3 }),
    // A clock that stands still, jumps back (another node, NTP) or leaps ahead.
    now: fc.oneof(fc.constant(T0), fc.integer({ min: T0 - 86_400_000, max: T0 + 86_400_000 }), fc.integer({ min: 0, max: 2 ** 45 })),
  });
  fc.assert(fc.property(fc.array(stepAt, { maxLength: 30 }), (steps) => {
    let e = authorizing();
    for (const s of steps) {
      const before = e;
      e = applyStep(e, { status: e.status, entries: s.entries, patch: {} }, s.now);
      assert.equal(e.version, before.version + 1);
      assert.equal(e.history.length, before.history.length + s.entries.length);
      assert.deepEqual(e.history.slice(0, before.history.length), before.history, 'history is only appended to');
      if (s.entries.length > 0) {
        assert.ok(e.history.at(-1)!.time >= s.now, 'never before the clock');
        assert.equal(e.updatedAt, e.history.at(-1)!.time);
      }
    }
    for (let i = 1; i < e.history.length; i++) assert.ok(e.history[i]!.time > e.history[i - 1]!.time, `entry ${i}`);
  }), { numRuns: 500 });
});

test('a later PSP\'s own challenge after a lost answer (unknown) reaches the execution as authorizePending with the page', () => {
  // The first PSP's answer was lost; reconciled as never received, the cascade went on to a PSP that
  // sends the shopper to its own 3-D Secure.
  const p = new Payment();
  const op = p.add('authorize', 'awaiting', 10_000);
  const href = 'https://gw.example/hosted/3ds/ch2';
  const waiting = observe(authorizing('unknown'), p.change(op, { id: 'ch2', purpose: '3ds' }), T0 + 5, href);
  assert.equal(waiting.e.status, 'authorizePending');
  assert.deepEqual(waiting.e.action, { kind: '3ds', challengeId: 'ch2', href });
});
