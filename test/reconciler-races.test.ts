/**
 * The reconciler and follow-ups against PSPs that answer late, cannot answer, or settle a payment
 * while the merchant acts on it: races a review found, each of which ended with money moved that
 * the books or the merchant did not show.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { manualClock } from '../src/runtime/clock.ts';
import { createSimulatedAcquirer } from '../src/processors/simulator/connector.ts';
import type { Connector, ConnectorRequest } from '../src/processors/connector.ts';
import { beforeNextUnitOfWork, opp, pay, startGateway } from './support/harness.ts';
import { configureCascade } from './support/executions.ts';

const success = '000.100.110';
const unknownCode = '900.100.300';

/** Default acquirer: SHOPPER_lose never answers; lookup answers per a switchable table; SHOPPER_stuck lookups throw. */
function acquirer(options: { lookupLagMs?: number } = {}) {
  const sim = createSimulatedAcquirer({ latencyMs: 0, jitterMs: 0, timeoutRate: 0, errorRate: 0 });
  const lost = new Set<string>();
  const stuck = new Set<string>();
  const lookupAnswers = new Map<string, 'notfound' | 'approved'>();
  const processor: Connector = {
    name: 'review-acquirer',
    operations: sim.operations,
    ...options,
    execute(req: ConnectorRequest) {
      if (req.testParameters['SHOPPER_stuck']) { stuck.add(req.attemptId); return new Promise(() => {}); }
      if (req.testParameters['SHOPPER_lose']) { lost.add(req.attemptId); return new Promise(() => {}); }
      return sim.execute(req);
    },
    async lookup(id: string) {
      if (stuck.has(id)) throw new Error('status API unavailable for this attempt');
      if (lost.has(id)) {
        return lookupAnswers.get(id) === 'approved'
          ? { kind: 'approved' as const, pspReference: 'LATE1', acquirerCode: success, details: {} } : undefined;
      }
      return sim.lookup(id);
    },
  };
  return { processor, lookupAnswers };
}

test('a PSP whose lookup lags: "not found" within its lag is "not yet" (an approval reported then settles the payment); after it, the attempt was never received', async () => {
  const clock = manualClock(Date.now());
  const a = acquirer({ lookupLagMs: 10 * 60_000 });
  const gw = await startGateway({ clock, processor: a.processor, env: { SWITCHYARD_PSP_TIMEOUT_MS: '200' } });
  try {
    const status = async (id: string) => ({ ...await gw.app.storage.db.selectFrom('transactions').select(['status', 'reason']).where('id', '=', id).executeTakeFirstOrThrow() });
    const late = await pay(gw, { paymentType: 'PA', amount: '10.00', 'customParameters[SHOPPER_lose]': '1' });
    const lost = await pay(gw, { paymentType: 'PA', amount: '11.00', 'customParameters[SHOPPER_lose]': '1' });
    assert.equal(late.body.result.code, unknownCode);
    clock.advance(60_000);
    await gw.app.payments.reconcile();
    await gw.app.payments.idle();
    assert.deepEqual(await status(late.body.id), { status: 'unknown', reason: null }, 'not found a minute after: not yet');
    // The PSP (whose search indexes new payments late) then reports it approved.
    const attempt = await gw.app.storage.db.selectFrom('attempts').select('id').where('transaction_id', '=', late.body.id).executeTakeFirstOrThrow();
    assert.equal(await gw.app.payments.settleFromPsp('default', attempt.id, { kind: 'approved', pspReference: 'LATE1', acquirerCode: success, details: {} }), true);
    assert.equal((await opp(gw, 'GET', `/v1/query/${late.body.id}`)).body.result.code, success);
    // The other is never found: once the lag has passed, it was never received.
    clock.advance(10 * 60_000);
    await gw.app.payments.reconcile();
    await gw.app.payments.idle();
    assert.deepEqual(await status(lost.body.id), { status: 'failed', reason: 'not_received' });
  } finally { await gw.close(); }
});

test('100 operations whose lookup throws do not hide a newer one from the reconciler: every open operation is looked at on every pass', async () => {
  const clock = manualClock(Date.now());
  const a = acquirer();
  const gw = await startGateway({ clock, processor: a.processor, env: { SWITCHYARD_PSP_TIMEOUT_MS: '200', SWITCHYARD_BREAKER_FAILURES: '100000' } });
  try {
    for (let batch = 0; batch < 10; batch++) {
      await Promise.all(Array.from({ length: 10 }, () => pay(gw, { paymentType: 'PA', amount: '5.00', 'customParameters[SHOPPER_stuck]': '1' })));
    }
    clock.advance(1_000);
    const p = await pay(gw, { paymentType: 'PA', amount: '10.00', 'customParameters[SHOPPER_lose]': '1' });
    assert.equal(p.body.result.code, unknownCode, JSON.stringify(p.body));
    a.lookupAnswers.set(p.body.id, 'approved');
    for (let pass = 0; pass < 5; pass++) {
      clock.advance(60_000);
      await gw.app.payments.reconcile();
      await gw.app.payments.idle();
    }
    const q = await opp(gw, 'GET', `/v1/query/${p.body.id}`);
    assert.equal(q.body.result.code, success, 'the lost approval is reconciled behind the 100 stuck rows');
  } finally { await gw.close(); }
});

test('a capture recorded while the authorization settles at a cascade account goes to that account, not to the default acquirer', async () => {
  const gw = await startGateway({ env: { SWITCHYARD_PSP_TIMEOUT_MS: '200' } });
  try {
    await configureCascade(gw, { 'psp-a': { timeouts: [{ amounts: [4242] }] } }, ['psp-a']);
    const p = await pay(gw, { paymentType: 'PA', amount: '42.42' });
    assert.equal(p.body.result.code, unknownCode);
    const att = await gw.app.storage.db.selectFrom('attempts').select(['id', 'account_id']).where('payment_id', '=', p.body.id).executeTakeFirstOrThrow();
    assert.notEqual(att.account_id, 'default');
    // The settlement (reconciler or PSP webhook) commits between followUp's read of the payment and its lock.
    const unhook = beforeNextUnitOfWork(gw, () => gw.app.payments.settleFromPsp(att.account_id, att.id, { kind: 'approved', pspReference: 'PSPA1', acquirerCode: success, details: {} }));
    const cp = await opp(gw, 'POST', `/v1/payments/${p.body.id}`, { paymentType: 'CP', amount: '42.42', currency: 'EUR' });
    unhook();
    const capAttempt = await gw.app.storage.db.selectFrom('attempts').select(['account_id', 'status']).where('transaction_id', '=', cp.body.id).executeTakeFirst();
    assert.equal(capAttempt?.account_id, att.account_id, `capture (${cp.body.result?.code}) was sent to ${capAttempt?.account_id}, not to the account holding the authorization`);
  } finally { await gw.close(); }
});

test('a PSP-pending operation past the async timeout is asked once more before it expires: approved since, it is approved', async () => {
  const clock = manualClock(Date.now());
  const sim = createSimulatedAcquirer({ latencyMs: 0, jitterMs: 0, timeoutRate: 0, errorRate: 0 });
  let approvedAtPsp = false;
  const processor: Connector = {
    name: 'pending-acquirer', operations: sim.operations,
    async execute(req: ConnectorRequest) {
      if (req.testParameters['SHOPPER_pending']) return { kind: 'pending' as const, action: undefined, pspReference: 'P1', acquirerCode: '000.200.000', details: {} };
      return sim.execute(req);
    },
    async lookup(id: string) {
      return approvedAtPsp ? { kind: 'approved' as const, pspReference: 'P1', acquirerCode: success, details: {} } : { kind: 'pending' as const, action: undefined, pspReference: 'P1', acquirerCode: '000.200.000', details: {} };
    },
  };
  const gw = await startGateway({ clock, processor, env: { SWITCHYARD_PSP_TIMEOUT_MS: '200', SWITCHYARD_ASYNC_TIMEOUT_MS: '1800000' } });
  try {
    const p = await pay(gw, { paymentType: 'PA', amount: '10.00', 'customParameters[SHOPPER_pending]': '1' });
    for (let m = 0; m < 29; m += 1) { clock.advance(60_000); await gw.app.payments.reconcile(); }
    approvedAtPsp = true; // the PSP approves in the last minute
    clock.advance(120_000);
    await gw.app.payments.reconcile();
    const q = await opp(gw, 'GET', `/v1/query/${p.body.id}`);
    assert.equal(q.body.result.code, success, `PSP approved, the engine says ${q.body.result.code} ${q.body.result.description}`);
  } finally { await gw.close(); }
});

test('an attempt recorded less than twice the PSP timeout ago is left alone, however old its operation (another node may be sending it); later it is looked up', async () => {
  const clock = manualClock(Date.now());
  const a = acquirer();
  const gw = await startGateway({ clock, processor: a.processor, env: { SWITCHYARD_PSP_TIMEOUT_MS: '200' } });
  try {
    const p = await pay(gw, { paymentType: 'PA', amount: '10.00', 'customParameters[SHOPPER_lose]': '1' });
    assert.equal(p.body.result.code, unknownCode);
    // The operation was last touched long ago, its attempt just now: as when another node's cascade
    // has just recorded its next attempt and is calling that PSP.
    await gw.app.storage.db.updateTable('transactions').set({ updated_at: clock.now() - 60_000 }).where('id', '=', p.body.id).execute();
    await gw.app.payments.reconcile();
    await gw.app.payments.idle();
    const attempt = () => gw.app.storage.db.selectFrom('attempts').select(['status', 'reason']).where('transaction_id', '=', p.body.id).executeTakeFirstOrThrow();
    assert.deepEqual({ ...await attempt() }, { status: 'unknown', reason: null }, 'not asked about while it may still be at its PSP');
    clock.advance(400);
    await gw.app.payments.reconcile();
    await gw.app.payments.idle();
    assert.deepEqual({ ...await attempt() }, { status: 'failed', reason: 'not_received' }, 'asked once it is older');
  } finally { await gw.close(); }
});
