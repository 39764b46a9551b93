/**
 * A PSP that approves an attempt after the gateway ended it as failed (it said it never received
 * it, or the attempt expired): the merchant was told the payment failed, so the gateway takes the
 * money back at the PSP itself, once, with the same idempotency key on every try.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { manualClock } from '../src/runtime/clock.ts';
import { createSimulatedAcquirer } from '../src/processors/simulator/connector.ts';
import type { Connector, ConnectorRequest } from '../src/processors/connector.ts';
import type { Outcome } from '../src/processors/outcome.ts';
import { opp, pay, startGateway, type Gateway } from './support/harness.ts';

const success = '000.100.110';
const unknownCode = '900.100.300';
type Answer = 'approve' | 'decline' | 'hang';

/** The default acquirer: SHOPPER_lose never answers (and its lookup never finds it); voids and refunds are answered from a queue. */
function acquirer() {
  const sim = createSimulatedAcquirer({ latencyMs: 0, jitterMs: 0, timeoutRate: 0, errorRate: 0 });
  const lost = new Set<string>();
  const reversals: ConnectorRequest[] = [];
  const answers: Answer[] = [];
  const processor: Connector = {
    name: 'late-acquirer',
    operations: sim.operations,
    execute(req: ConnectorRequest): Promise<Exclude<Outcome, { kind: 'unknown' }>> {
      if (req.testParameters['SHOPPER_lose']) { lost.add(req.attemptId); return new Promise(() => {}); }
      // The merchants here send no voids or refunds of their own that reach the PSP: these are the gateway's reversals.
      if (req.operation === 'void' || req.operation === 'refund') {
        reversals.push(req);
        const answer = answers.shift() ?? 'approve';
        if (answer === 'hang') return new Promise(() => {});
        return Promise.resolve(answer === 'approve'
          ? { kind: 'approved', pspReference: `REV-${reversals.length}`, acquirerCode: success, details: {} }
          : { kind: 'declined', reason: 'provider_error', acquirerCode: '900.100.100', message: 'try later', pspReference: undefined, details: {} });
      }
      return sim.execute(req);
    },
    async lookup(id: string) {
      return lost.has(id) ? undefined : sim.lookup(id);
    },
  };
  return { processor, reversals, answers };
}

async function gateway() {
  const clock = manualClock(Date.now());
  const a = acquirer();
  const gw = await startGateway({ clock, processor: a.processor, env: { SWITCHYARD_PSP_TIMEOUT_MS: '200' } });
  return { gw, clock, ...a };
}

/** A payment whose PSP answer is lost, ended `not_received` by the reconciler: its attempt's id. */
async function endedAsNeverReceived(gw: Gateway, clock: ReturnType<typeof manualClock>, params: Record<string, string>, path = '/v1/payments') {
  const p = await opp(gw, 'POST', path, { currency: 'EUR', 'customParameters[SHOPPER_lose]': '1', ...params });
  assert.equal(p.body.result.code, unknownCode, JSON.stringify(p.body));
  clock.advance(60_000);
  await gw.app.payments.reconcile();
  await gw.app.payments.idle();
  const attempt = await gw.app.storage.db.selectFrom('attempts').select(['id', 'status', 'reason'])
    .where('transaction_id', '=', p.body.id).executeTakeFirstOrThrow();
  assert.deepEqual({ status: attempt.status, reason: attempt.reason }, { status: 'failed', reason: 'not_received' });
  return { id: p.body.id as string, attemptId: attempt.id };
}

const row = (gw: Gateway, attemptId: string) => gw.app.storage.db.selectFrom('late_approvals').selectAll().where('attempt_id', '=', attemptId).executeTakeFirst();
const approved = (pspReference: string) => ({ kind: 'approved' as const, pspReference, acquirerCode: success, details: {} });

test('an authorization the PSP approves after the gateway ended it is voided at the PSP once, however often the PSP says so', async () => {
  const { gw, clock, reversals } = await gateway();
  try {
    const p = await endedAsNeverReceived(gw, clock, { paymentType: 'PA', amount: '10.00', ...cardOf() });
    // The PSP's notification, delivered twice.
    assert.equal(await gw.app.payments.settleFromPsp('default', p.attemptId, approved('LATE1')), false);
    assert.equal(await gw.app.payments.settleFromPsp('default', p.attemptId, approved('LATE1')), false);
    assert.equal(await gw.app.payments.lateApprovalsUnsettled(), 1);
    assert.ok(gw.logs.some((l) => l.includes('a PSP approved an attempt the gateway had ended as failed')));
    assert.equal(await gw.app.payments.reverseLateApprovals(), 1);
    assert.equal(reversals.length, 1);
    const [v] = reversals;
    assert.equal(v!.operation, 'void');
    assert.equal(v!.originalReference, 'LATE1');
    assert.deepEqual(v!.amount, { amount: 1000, currency: 'EUR' });
    assert.equal(v!.live, false);
    const r = await row(gw, p.attemptId);
    assert.equal(r?.status, 'reversed');
    assert.equal(v!.attemptId, r?.reversal_id, 'the reversal is sent under the key the row keeps');
    assert.notEqual(v!.attemptId, p.attemptId);
    assert.equal(await gw.app.payments.lateApprovalsUnsettled(), 0);
    // Nothing is owed any more, and the payment stays as the merchant was told.
    clock.advance(3_600_000);
    assert.equal(await gw.app.payments.reverseLateApprovals(), 0);
    assert.equal(reversals.length, 1);
    const q = await opp(gw, 'GET', `/v1/query/${p.id}`);
    assert.notEqual(q.body.result.code, success);
    const payment = await gw.app.storage.db.selectFrom('payments').select('status').where('id', '=', p.id).executeTakeFirstOrThrow();
    assert.equal(payment.status, 'declined');
  } finally { await gw.close(); }
});

test('a sale is refunded; refusals are tried again on a backoff under the same key; an unanswered try is not a refusal', async () => {
  const { gw, clock, reversals, answers } = await gateway();
  try {
    const p = await endedAsNeverReceived(gw, clock, { paymentType: 'DB', amount: '25.00', ...cardOf() });
    await gw.app.payments.settleFromPsp('default', p.attemptId, approved('LATE2'));
    answers.push('decline', 'hang', 'decline', 'approve');
    assert.equal(await gw.app.payments.reverseLateApprovals(), 0);
    let r = await row(gw, p.attemptId);
    assert.equal(r?.status, 'reversing');
    assert.equal(r?.refusals, 1);
    assert.match(r?.last_result ?? '', /refund refused: provider_error/);
    // Not due before its backoff (two minutes after one refusal).
    clock.advance(60_000);
    await gw.app.payments.reverseLateApprovals();
    assert.equal(reversals.length, 1);
    clock.advance(61_000);
    await gw.app.payments.reverseLateApprovals(); // unanswered within the PSP timeout
    r = await row(gw, p.attemptId);
    assert.equal(reversals.length, 2);
    assert.equal(r?.refusals, 1, 'an unanswered reversal may have been made: not counted as refused');
    assert.equal(r?.status, 'reversing');
    clock.advance(1_000);
    await gw.app.payments.reverseLateApprovals(); // refused again
    clock.advance(4 * 60_000);
    assert.equal(await gw.app.payments.reverseLateApprovals(), 1);
    assert.equal(reversals.length, 4);
    assert.ok(reversals.every((x) => x.operation === 'refund' && x.originalReference === 'LATE2' && x.amount.amount === 2500));
    assert.equal(new Set(reversals.map((x) => x.attemptId)).size, 1, 'one idempotency key for every try');
    assert.equal((await row(gw, p.attemptId))?.status, 'reversed');
  } finally { await gw.close(); }
});

test('a reversal the PSP refuses five times is left to an operator, loudly, and tried no more', async () => {
  const { gw, clock, reversals, answers } = await gateway();
  try {
    const p = await endedAsNeverReceived(gw, clock, { paymentType: 'PA', amount: '7.00', ...cardOf() });
    await gw.app.payments.settleFromPsp('default', p.attemptId, approved('LATE3'));
    answers.push('decline', 'decline', 'decline', 'decline', 'decline', 'approve');
    for (let i = 0; i < 8; i++) {
      await gw.app.payments.reverseLateApprovals();
      clock.advance(60 * 60_000);
    }
    assert.equal(reversals.length, 5);
    const r = await row(gw, p.attemptId);
    assert.equal(r?.status, 'operator');
    assert.equal(r?.refusals, 5);
    assert.ok(gw.logs.some((l) => l.includes('refused a late approval') && l.includes('"level":50')), 'logged as an error');
    assert.equal(await gw.app.payments.lateApprovalsUnsettled(), 1, 'still owed: the gauge shows it');
  } finally { await gw.close(); }
});

test('a late capture is refunded through the payment it captured; a late refund cannot be undone by the gateway and goes to an operator', async () => {
  const { gw, clock, reversals } = await gateway();
  try {
    const pa = await pay(gw, { paymentType: 'PA', amount: '30.00' });
    assert.equal(pa.body.result.code, success);
    const authorization = await gw.app.storage.db.selectFrom('transactions').select('psp_reference').where('id', '=', pa.body.id).executeTakeFirstOrThrow();
    const cp = await endedAsNeverReceived(gw, clock, { paymentType: 'CP', amount: '30.00' }, `/v1/payments/${pa.body.id}`);
    await gw.app.payments.settleFromPsp('default', cp.attemptId, approved('LATE-CP'));
    assert.equal(await gw.app.payments.reverseLateApprovals(), 1);
    assert.equal(reversals.length, 1);
    assert.equal(reversals[0]!.operation, 'refund');
    assert.equal(reversals[0]!.originalReference, authorization.psp_reference);
    assert.equal(reversals[0]!.amount.amount, 3000);

    const db = await pay(gw, { paymentType: 'DB', amount: '40.00' });
    const rf = await endedAsNeverReceived(gw, clock, { paymentType: 'RF', amount: '40.00' }, `/v1/payments/${db.body.id}`);
    await gw.app.payments.settleFromPsp('default', rf.attemptId, approved('LATE-RF'));
    assert.equal(await gw.app.payments.reverseLateApprovals(), 0);
    assert.equal(reversals.length, 1, 'nothing sent for the refund');
    const r = await row(gw, rf.attemptId);
    assert.equal(r?.status, 'operator');
    assert.match(r?.last_result ?? '', /cannot be undone/);
  } finally { await gw.close(); }
});

function cardOf() {
  return { 'card.number': '4200000000000000', 'card.holder': 'Jane Jones', 'card.expiryMonth': '05', 'card.expiryYear': '2034', 'card.cvv': '123', paymentBrand: 'VISA' };
}
