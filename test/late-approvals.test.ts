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
import { beforeNextUnitOfWork, opp, pay, startGateway, type Gateway } from './support/harness.ts';
import { runCli } from './support/process.ts';
import { parseSettlementReport } from '../src/processors/settlement-report.ts';

const success = '000.100.110';
const unknownCode = '900.100.300';
/** How the PSP treats a reversal: made and answered, refused, made but the answer lost, or lost before it arrived. */
type Answer = 'approve' | 'pending' | 'decline' | 'made-unanswered' | 'never-received';

/**
 * The default acquirer: SHOPPER_lose never answers (and its lookup never finds it); SHOPPER_3ds
 * sends the shopper to its own 3-D Secure; voids and refunds (the gateway's reversals here) are
 * answered from a queue, and looked up as the PSP made them.
 */
function acquirer() {
  const sim = createSimulatedAcquirer({ latencyMs: 0, jitterMs: 0, timeoutRate: 0, errorRate: 0 });
  const lost = new Set<string>();
  const reversals: ConnectorRequest[] = [];
  const made = new Map<string, Exclude<Outcome, { kind: 'unknown' }>>();
  const approvedLater = new Set<string>();
  const answers: Answer[] = [];
  /** Authorizations held unanswered until the test answers them. */
  const held: { attemptId: string; answer: () => void }[] = [];
  let heldArrived = () => {};
  const nextHeld = () => new Promise<void>((r) => { heldArrived = r; });
  /** Reversals made twice for one charge: what no test may see. */
  const doubles: string[] = [];
  const processor: Connector = {
    name: 'late-acquirer',
    operations: sim.operations,
    execute(req: ConnectorRequest): Promise<Exclude<Outcome, { kind: 'unknown' }>> {
      if (req.testParameters['SHOPPER_lose']) { lost.add(req.attemptId); return new Promise(() => {}); }
      if (req.testParameters['SHOPPER_hold']) {
        return new Promise((resolve) => { held.push({ attemptId: req.attemptId, answer: () => resolve({ kind: 'approved', pspReference: 'HELD-1', acquirerCode: success, details: {} }) }); heldArrived(); });
      }
      if (req.testParameters['SHOPPER_3ds']) {
        return Promise.resolve({ kind: 'pending', action: 'three_ds', pspReference: 'ACS1', acquirerCode: '000.200.000', details: {},
          redirect: { url: 'https://acs.example/challenge', method: 'GET', parameters: [] } });
      }
      // The merchants here send no voids or refunds of their own that reach the PSP: these are the gateway's reversals.
      if (req.operation === 'void' || req.operation === 'refund') {
        reversals.push(req);
        const answer = answers.shift() ?? 'approve';
        if (answer === 'never-received') return new Promise(() => {});
        const outcome: Exclude<Outcome, { kind: 'unknown' }> = answer === 'decline'
          ? { kind: 'declined', reason: 'provider_error', acquirerCode: '900.100.100', message: 'try later', pspReference: undefined, details: {} }
          : answer === 'pending' ? { kind: 'pending', action: undefined, pspReference: `REV-${reversals.length}`, acquirerCode: '[refund-received]', details: {} }
          : { kind: 'approved', pspReference: `REV-${reversals.length}`, acquirerCode: success, details: {} };
        if (made.has(req.attemptId)) throw new Error(`reversal ${req.attemptId} sent again after the PSP made it`);
        // The money this PSP has given back already for that charge, under another key: a second refund.
        const earlier = [...made].find(([key, o]) => key !== req.attemptId && o.kind === 'approved' && reversals.find((r) => r.attemptId === key)?.originalReference === req.originalReference);
        if (earlier) doubles.push(`${req.operation} of ${req.originalReference} under ${req.attemptId} after ${earlier[0]}`);
        made.set(req.attemptId, outcome);
        return answer === 'made-unanswered' ? new Promise(() => {}) : Promise.resolve(outcome);
      }
      return sim.execute(req);
    },
    async lookup(id: string) {
      if (approvedLater.has(id)) return { kind: 'approved' as const, pspReference: 'LATE-3DS', acquirerCode: success, details: {} };
      if (lost.has(id)) return undefined;
      return made.get(id) ?? sim.lookup(id);
    },
  };
  return { processor, reversals, answers, approvedLater, doubles, held, nextHeld };
}

async function gateway() {
  const clock = manualClock(Date.now());
  const a = acquirer();
  const started = await startGateway({ clock, processor: a.processor, env: { SWITCHYARD_PSP_TIMEOUT_MS: '200' } });
  const gw: Gateway = {
    ...started,
    async close() {
      await started.close();
      assert.deepEqual(a.doubles, [], 'no charge is reversed twice');
    },
  };
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

test('a sale is refunded; a refusal is tried again on a backoff under a new key; an unanswered try is looked up, and sent again under its key only if the PSP never received it', async () => {
  const { gw, clock, reversals, answers } = await gateway();
  try {
    const p = await endedAsNeverReceived(gw, clock, { paymentType: 'DB', amount: '25.00', ...cardOf() });
    await gw.app.payments.settleFromPsp('default', p.attemptId, approved('LATE2'));
    answers.push('decline', 'never-received', 'decline', 'made-unanswered');
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
    await gw.app.payments.reverseLateApprovals(); // lost on its way: no answer within the PSP timeout
    r = await row(gw, p.attemptId);
    assert.equal(reversals.length, 2);
    assert.notEqual(reversals[1]!.attemptId, reversals[0]!.attemptId, 'a refused try moved no money: the next has a key of its own');
    assert.deepEqual([r?.refusals, r?.in_doubt, r?.status], [1, 1, 'reversing'], 'an unanswered reversal may have been made: in doubt, not refused');
    clock.advance(1_000);
    await gw.app.payments.reverseLateApprovals(); // looked up: never received, so sent again under its key, and refused
    assert.equal(reversals.length, 3);
    assert.equal(reversals[2]!.attemptId, reversals[1]!.attemptId, 'sent again under the key the PSP never received');
    r = await row(gw, p.attemptId);
    assert.deepEqual([r?.refusals, r?.in_doubt], [1, 1], 'a refusal of a try sent again may mean "that key is taken": still in doubt');
    clock.advance(1_000);
    await gw.app.payments.reverseLateApprovals(); // looked up: refused, but perhaps only the repeat was
    r = await row(gw, p.attemptId);
    assert.deepEqual([r?.refusals, r?.in_doubt, reversals.length], [1, 1, 3], 'a lookup may list the repeat\'s refusal alone');
    // The PSP's notification is its word on the try itself.
    const refused = { kind: 'declined' as const, reason: 'provider_error' as const, acquirerCode: 'REFUND_FAILED', message: undefined, pspReference: undefined, details: {} };
    assert.equal(await gw.app.payments.settleFromPsp('default', reversals[2]!.attemptId, refused), true);
    r = await row(gw, p.attemptId);
    assert.deepEqual([r?.refusals, r?.in_doubt, reversals.length], [2, 0, 3]);
    clock.advance(4 * 60_000);
    await gw.app.payments.reverseLateApprovals(); // made by the PSP, its answer lost
    assert.equal(reversals.length, 4);
    assert.equal((await row(gw, p.attemptId))?.in_doubt, 1);
    clock.advance(1_000);
    assert.equal(await gw.app.payments.reverseLateApprovals(), 1, 'the lookup finds it made: reversed without sending it again');
    assert.equal(reversals.length, 4);
    assert.ok(reversals.every((x) => x.operation === 'refund' && x.originalReference === 'LATE2' && x.amount.amount === 2500));
    r = await row(gw, p.attemptId);
    assert.deepEqual([r?.status, r?.in_doubt, r?.reversal_id], ['reversed', 0, reversals[3]!.attemptId]);
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
    // The operator finds it, reverses the charge in the PSP's portal, and says so.
    const listed = runCli(gw.dataDir, 'late-approvals', 'list', '--json');
    assert.equal(listed.status, 0, listed.stderr);
    assert.deepEqual(JSON.parse(listed.stdout).map((x: Record<string, unknown>) => [x.attemptId, x.status, x.amount, x.currency, x.pspReference]),
      [[p.attemptId, 'operator', '7.00', 'EUR', 'LATE3']]);
    assert.equal(runCli(gw.dataDir, 'late-approvals', 'resolve', p.attemptId).status, 2, 'a note is required');
    const resolved = runCli(gw.dataDir, 'late-approvals', 'resolve', p.attemptId, '--note', 'voided in the PSP portal');
    assert.equal(resolved.status, 0, resolved.stderr);
    assert.equal(runCli(gw.dataDir, 'late-approvals', 'resolve', p.attemptId, '--note', 'again').status, 1, 'resolved once');
    assert.equal(await gw.app.payments.lateApprovalsUnsettled(), 0);
    assert.deepEqual(JSON.parse(runCli(gw.dataDir, 'late-approvals', 'list', '--json').stdout), []);
    assert.match(JSON.parse(runCli(gw.dataDir, 'late-approvals', 'list', '--all', '--json').stdout)[0].lastResult, /resolved by an operator: voided in the PSP portal/);
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

test('only what the gateway ended is reversed: an approval of an attempt its PSP declined, or of a capture its PSP took back, is left alone', async () => {
  const { gw, clock, reversals } = await gateway();
  try {
    const declined = await pay(gw, { paymentType: 'DB', amount: '12.00', 'card.number': '4000000000000002' });
    const att = await gw.app.storage.db.selectFrom('attempts').select(['id', 'status', 'reason']).where('transaction_id', '=', declined.body.id).executeTakeFirstOrThrow();
    assert.equal(att.status, 'failed');
    await gw.app.payments.settleFromPsp('default', att.id, approved('X1'));
    assert.equal(await row(gw, att.id), undefined, `not recorded for a ${att.reason} decline`);

    const pa = await pay(gw, { paymentType: 'PA', amount: '30.00' });
    const cp = await opp(gw, 'POST', `/v1/payments/${pa.body.id}`, { paymentType: 'CP', amount: '30.00', currency: 'EUR' });
    assert.equal(cp.body.result.code, success, JSON.stringify(cp.body));
    const capture = await gw.app.storage.db.selectFrom('attempts').select('id').where('transaction_id', '=', cp.body.id).executeTakeFirstOrThrow();
    // CAPTURE_FAILED (the card scheme rejected it): the gateway undoes the capture; then the earlier CAPTURE item comes again.
    const failed = { kind: 'declined' as const, reason: 'provider_error' as const, acquirerCode: 'CAPTURE_FAILED', message: 'rejected', pspReference: 'CAP1', details: {} };
    assert.equal(await gw.app.payments.settleFromPsp('default', capture.id, failed, { reverses: true }), true);
    await gw.app.payments.settleFromPsp('default', capture.id, approved('CAP1'));
    assert.equal(await row(gw, capture.id), undefined, 'a capture that never took money is not refunded');
    clock.advance(60_000);
    assert.equal(await gw.app.payments.reverseLateApprovals(), 0);
    assert.equal(reversals.length, 0);
  } finally { await gw.close(); }
});

test('a late rebill is refunded through its own charge', async () => {
  const { gw, clock, reversals } = await gateway();
  try {
    const db = await pay(gw, { paymentType: 'DB', amount: '40.00' });
    assert.equal(db.body.result.code, success);
    const rb = await endedAsNeverReceived(gw, clock, { paymentType: 'RB', amount: '15.00' }, `/v1/payments/${db.body.id}`);
    await gw.app.payments.settleFromPsp('default', rb.attemptId, approved('LATE-RB'));
    assert.equal(await gw.app.payments.reverseLateApprovals(), 1);
    assert.deepEqual(reversals.map((r) => [r.operation, r.originalReference, r.amount.amount]), [['refund', 'LATE-RB', 1500]]);
  } finally { await gw.close(); }
});

test('an approval that arrives while the reconciler ends its attempt is recorded as late, not dropped', async () => {
  const { gw, clock, reversals } = await gateway();
  try {
    const p = await opp(gw, 'POST', '/v1/payments', { paymentType: 'PA', amount: '9.00', currency: 'EUR', 'customParameters[SHOPPER_lose]': '1', ...cardOf() });
    assert.equal(p.body.result.code, unknownCode);
    const attempt = await gw.app.storage.db.selectFrom('attempts').select('id').where('transaction_id', '=', p.body.id).executeTakeFirstOrThrow();
    clock.advance(60_000);
    // The notification read the attempt open; the reconciler ends it before the notification's unit of work.
    const unhook = beforeNextUnitOfWork(gw, async () => { await gw.app.payments.reconcile(); await gw.app.payments.idle(); });
    try {
      assert.equal(await gw.app.payments.settleFromPsp('default', attempt.id, approved('LATE-RACE')), false);
    } finally { unhook(); }
    const ended = await gw.app.storage.db.selectFrom('attempts').select(['status', 'reason']).where('id', '=', attempt.id).executeTakeFirstOrThrow();
    assert.deepEqual({ ...ended }, { status: 'failed', reason: 'not_received' });
    assert.equal((await row(gw, attempt.id))?.status, 'reversing');
    assert.equal(await gw.app.payments.reverseLateApprovals(), 1);
    assert.equal(reversals[0]?.originalReference, 'LATE-RACE');
  } finally { await gw.close(); }
});

test('the PSP\'s own answer, approving an attempt another node ended meanwhile, is recorded as late, not dropped', async () => {
  const { gw, held, nextHeld, reversals } = await gateway();
  try {
    const arrived = nextHeld();
    const pending = opp(gw, 'POST', '/v1/payments', { paymentType: 'PA', amount: '7.00', currency: 'EUR', 'customParameters[SHOPPER_hold]': '1', ...cardOf() });
    await arrived;
    const attemptId = held[0]!.attemptId;
    // Another node's reconciler (its PSP's lookup lagging) ends the attempt while the call is under way.
    assert.equal(await gw.app.payments.settleFromPsp('default', attemptId, {
      kind: 'declined', reason: 'not_received', acquirerCode: undefined, message: undefined, pspReference: undefined, details: {},
    }), true);
    held[0]!.answer();
    const p = await pending;
    assert.notEqual(p.body.result.code, success, 'the merchant was told it failed');
    assert.equal((await row(gw, attemptId))?.status, 'reversing', 'the charge the PSP made is owed back');
    assert.equal(await gw.app.payments.reverseLateApprovals(), 1);
    assert.equal(reversals[0]?.originalReference, 'HELD-1');
  } finally { await gw.close(); }
});

test('a shopper back from the PSP\'s own 3-D Secure after the payment expired: the PSP is asked, and a charge it made is reversed', async () => {
  const { gw, clock, reversals, approvedLater } = await gateway();
  try {
    const p = await pay(gw, { paymentType: 'PA', amount: '18.00', 'customParameters[SHOPPER_3ds]': '1', shopperResultUrl: 'https://shop.example/done' });
    const attempt = await gw.app.storage.db.selectFrom('attempts').select('id').where('transaction_id', '=', p.body.id).executeTakeFirstOrThrow();
    const op = await gw.app.storage.db.selectFrom('transactions').select('status').where('id', '=', p.body.id).executeTakeFirstOrThrow();
    assert.equal(op.status, 'awaiting', JSON.stringify(p.body));
    clock.advance(24 * 3_600_000);
    await gw.app.payments.expireAwaiting();
    const expired = await gw.app.storage.db.selectFrom('attempts').select(['status', 'reason']).where('id', '=', attempt.id).executeTakeFirstOrThrow();
    assert.deepEqual({ ...expired }, { status: 'failed', reason: 'expired' });
    // The shopper finished at the PSP, which then authorized; the shopper comes back.
    approvedLater.add(attempt.id);
    await gw.app.payments.completePspReturn(p.body.id, attempt.id, {});
    assert.equal((await row(gw, attempt.id))?.psp_reference, 'LATE-3DS');
    assert.equal(await gw.app.payments.reverseLateApprovals(), 1);
    assert.deepEqual(reversals.map((r) => [r.operation, r.originalReference]), [['void', 'LATE-3DS']]);
  } finally { await gw.close(); }
});

test('a reversal the PSP takes as pending is owed until the PSP\'s notification about it, which names it by its key', async () => {
  const { gw, clock, reversals, answers } = await gateway();
  try {
    const p = await endedAsNeverReceived(gw, clock, { paymentType: 'DB', amount: '21.00', ...cardOf() });
    await gw.app.payments.settleFromPsp('default', p.attemptId, approved('LATE-P'));
    answers.push('pending');
    assert.equal(await gw.app.payments.reverseLateApprovals(), 0);
    assert.equal(await gw.app.payments.lateApprovalsUnsettled(), 1, 'not back yet');
    const key = reversals[0]!.attemptId;
    assert.equal(await gw.app.payments.settleFromPsp('other-account', key, approved('REV-1')), false);
    assert.equal(await gw.app.payments.settleFromPsp('default', key, approved('REV-1')), true);
    assert.equal((await row(gw, p.attemptId))?.status, 'reversed');
    assert.equal(await gw.app.payments.lateApprovalsUnsettled(), 0);
  } finally { await gw.close(); }
});

function cardOf() {
  return { 'card.number': '4200000000000000', 'card.holder': 'Jane Jones', 'card.expiryMonth': '05', 'card.expiryYear': '2034', 'card.cvv': '123', paymentBrand: 'VISA' };
}

test('a settlement report listing a late charge and its reversal names them late approvals of their payment, not unknown references', async () => {
  const { gw, clock } = await gateway();
  try {
    const p = await endedAsNeverReceived(gw, clock, { paymentType: 'DB', amount: '25.00', ...cardOf() });
    await gw.app.payments.settleFromPsp('default', p.attemptId, approved('LATE-S'));
    assert.equal(await gw.app.payments.reverseLateApprovals(), 1);
    const r = await row(gw, p.attemptId);
    const account = await gw.app.settlement.account('default', undefined);
    assert.ok(account.ok);
    const line = (reference: string, type: string, gross: string) => ({ reference, type, gross, fee: '0.00', net: gross, currency: 'EUR', valueDate: '2026-03-11' });
    const parsed = parseSettlementReport({
      format: 'switchyard-settlement-report/1', pspAccount: 'default', day: '2026-03-10',
      lines: [line(p.id, 'capture', '25.00'), line(r!.reversal_id, 'refund', '-25.00'), line('f'.repeat(32), 'capture', '1.00')],
      payouts: [{ currency: 'EUR', amount: '1.00', valueDate: '2026-03-11' }],
    });
    assert.ok(parsed.ok, parsed.ok ? '' : parsed.error);
    const out = await gw.app.settlement.reconcile(account.value, parsed.value);
    assert.ok(out.ok);
    assert.deepEqual(out.value.discrepancies.map((d) => [d.kind, d.reference, d.paymentId ?? null]),
      [['late_approval', p.id, r!.payment_id], ['late_approval', r!.reversal_id, r!.payment_id], ['unknown_reference', 'f'.repeat(32), null]]);
    assert.equal(out.value.discrepancies[0]!.merchantId, gw.merchant.merchantId, 'the merchant is told through its webhooks');
    assert.equal(await gw.app.ledger.verify(), undefined, 'nothing posted');
  } finally { await gw.close(); }
});

test('late-approvals resolve refuses a note holding a card number (exit 2), as every other operator note does; nothing is stored or listed', async () => {
  const { gw, clock, answers } = await gateway();
  try {
    const p = await endedAsNeverReceived(gw, clock, { paymentType: 'PA', amount: '7.00', ...cardOf() });
    await gw.app.payments.settleFromPsp('default', p.attemptId, approved('LATE9'));
    answers.push('decline', 'decline', 'decline', 'decline', 'decline');
    for (let i = 0; i < 6; i++) { await gw.app.payments.reverseLateApprovals(); clock.advance(60 * 60_000); }
    assert.equal((await row(gw, p.attemptId))?.status, 'operator');
    const pan = /4111[ -]?1111[ -]?1111[ -]?1111/;
    const refused = runCli(gw.dataDir, 'late-approvals', 'resolve', p.attemptId, '--note', 'refunded to card 4111 1111 1111 1111 in the PSP portal');
    assert.equal(refused.status, 2, refused.stderr);
    assert.match(refused.stderr, /--note holds what looks like a card number/);
    assert.doesNotMatch(refused.stderr, pan);
    assert.equal((await row(gw, p.attemptId))?.status, 'operator', 'still left to the operator');
    const resolved = runCli(gw.dataDir, 'late-approvals', 'resolve', p.attemptId, '--note', 'refunded by hand to the card ending 1111');
    assert.equal(resolved.status, 0, resolved.stderr);
    const listed = runCli(gw.dataDir, 'late-approvals', 'list', '--all', '--json');
    assert.doesNotMatch(listed.stdout, pan);
    assert.match(String((await row(gw, p.attemptId))?.last_result), /ending 1111/);
  } finally { await gw.close(); }
});
