/**
 * Money moved by requests and jobs at the same moment on one payment, on both stores: refunds
 * beyond what was taken, a refund and a chargeback, captures and a void, the same idempotency key
 * five times, notifications and the reconciler settling one operation, the expiry job and a
 * capture, a cancel and refunds. Each race is run several times (the simulator's latency makes the
 * requests overlap at the PSP); the payments' invariants and the ledger are checked after each.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { manualClock } from '../src/runtime/clock.ts';
import { createSimulatedAcquirer } from '../src/processors/simulator/connector.ts';
import { opp, pay, postgresAvailable, startGateway, type Gateway } from './support/harness.ts';
import { authorizeBody, call, execution, instrument, poll, tokenOf, wf } from './support/executions.ts';
import { checkInvariants, describeViolations } from './support/invariants.ts';

const success = '000.100.110';
const pgUp = await postgresAvailable();
const bo = (gw: Gateway, id: string, paymentType: string, params: Record<string, string> = {}) =>
  opp(gw, 'POST', `/v1/payments/${id}`, { paymentType, ...params });
const eur = (amount: string) => ({ amount, currency: 'EUR' });

for (const store of ['sqlite', 'postgres'] as const) {
  describe(`back-office requests at once (${store})`, { skip: store === 'postgres' && !pgUp ? 'PostgreSQL unreachable' : false }, () => {
    let gw: Gateway;
    before(async () => {
      gw = await startGateway({ store, processor: createSimulatedAcquirer({ latencyMs: 150, jitterMs: 50, timeoutRate: 0, errorRate: 0 }) });
    });
    after(() => gw?.close());
    const books = async () => {
      const v = await checkInvariants(gw.app.storage.db);
      assert.deepEqual(v, [], describeViolations(v));
      assert.equal(await gw.app.ledger.verify(), undefined);
    };

    test('two RF of 60 on a 100 DB at once: one wins', async () => {
      for (let i = 0; i < 3; i++) {
        const db = await pay(gw, { amount: '100.00' });
        const rs = await Promise.all([bo(gw, db.body.id, 'RF', eur('60.00')), bo(gw, db.body.id, 'RF', eur('60.00')), bo(gw, db.body.id, 'RF', eur('60.00'))]);
        assert.equal(rs.filter((r) => r.body.result.code === success).length, 1, JSON.stringify(rs.map((r) => r.body.result)));
      }
      await books();
    });

    test('RF and CB at once on a 100 DB: not both for the full amount', async () => {
      for (let i = 0; i < 3; i++) {
        const db = await pay(gw, { amount: '100.00' });
        const rs = await Promise.all([bo(gw, db.body.id, 'RF', eur('100.00')), bo(gw, db.body.id, 'CB', eur('100.00'))]);
        assert.ok(rs.filter((r) => r.body.result.code.startsWith('000.')).length <= 1, JSON.stringify(rs.map((r) => r.body.result)));
      }
      await books();
    });

    test('CP and RV at once, CP in parts and RV at once', async () => {
      for (let i = 0; i < 3; i++) {
        const pa = await pay(gw, { paymentType: 'PA', amount: '100.00' });
        const rs = await Promise.all([bo(gw, pa.body.id, 'CP', eur('40.00')), bo(gw, pa.body.id, 'CP', eur('40.00')), bo(gw, pa.body.id, 'RV'), bo(gw, pa.body.id, 'CP', eur('40.00'))]);
        for (const r of rs) assert.ok(r.status < 500, JSON.stringify(r.body));
      }
      await books();
    });

    test('executions: same idempotency key 5 times on authorize, capture, refund', async () => {
      const token = await tokenOf(gw);
      const inst = await instrument(gw, token);
      const id = await execution(gw, token);
      const k1 = randomUUID();
      const auth = await Promise.all(Array.from({ length: 5 }, () => call(gw, 'POST', `${wf}/${id}/authorize`, { token, key: k1, body: authorizeBody(inst, '100.00') })));
      for (const r of auth) assert.ok(r.status < 500, JSON.stringify(r.body));
      const e = await poll(gw, token, id, ['created', 'authorizeRequested']);
      assert.equal(e.status, 'authorized');
      const paymentId = e.paymentComposition[0].paymentId;
      const k2 = randomUUID();
      const caps = await Promise.all(Array.from({ length: 5 }, () => call(gw, 'POST', `${wf}/${id}/capture`, { token, key: k2, body: { amount: { value: '30.00', currency: 'EUR' } } })));
      for (const r of caps) assert.ok(r.status < 500, JSON.stringify(r.body));
      await gw.app.payments.idle();
      const k3 = randomUUID();
      const refs = await Promise.all(Array.from({ length: 5 }, () => call(gw, 'POST', `${wf}/${id}/refund`, { token, key: k3, body: { amount: { value: '10.00', currency: 'EUR' } } })));
      for (const r of refs) assert.ok(r.status < 500, JSON.stringify(r.body));
      await gw.app.payments.idle();
      const ops = await gw.app.storage.db.selectFrom('transactions').select(['type', 'status', 'amount']).where('payment_id', '=', paymentId).orderBy('seq').execute();
      assert.deepEqual(ops.map((o) => [o.type, Number(o.amount)]), [['authorize', 10000], ['capture', 3000], ['void', 7000], ['refund', 1000]], JSON.stringify(ops)
        + JSON.stringify([auth, caps, refs].map((l) => l.map((r) => r.status))));
      await books();
    });
  });
}

for (const store of ['sqlite', 'postgres'] as const) {
  describe(`notifications and the reconciler at once (${store})`, { skip: store === 'postgres' && !pgUp ? 'PostgreSQL unreachable' : false }, () => {
    const sim = createSimulatedAcquirer({ latencyMs: 20, jitterMs: 0, timeoutRate: 0, errorRate: 0 });
    // The PSP's status API says approved for anything it has seen.
    const processor = { ...sim, name: sim.name, operations: sim.operations, execute: sim.execute.bind(sim), async lookup(id: string) {
      const k = await sim.lookup(id);
      return k ? { kind: 'approved' as const, pspReference: k.pspReference ?? `psp-${id}`, acquirerCode: success, details: {} } : k;
    } };
    let gw: Gateway;
    const clock = manualClock(Date.now());
    before(async () => { gw = await startGateway({ store, clock, processor: processor as never, env: { SWITCHYARD_PSP_TIMEOUT_MS: '1000' } }); });
    after(() => gw?.close());

    test('a pending capture settled at once by 5 notifications and the reconciler: one outcome, one event, one movement', async () => {
      for (let round = 0; round < 3; round++) {
        const pa = await pay(gw, { paymentType: 'PA', amount: '50.00' });
        const cp = await bo(gw, pa.body.id, 'CP', { ...eur('50.00'), 'customParameters[forceResultCode]': '800.400.500' });
        assert.equal(cp.body.result.code, '800.400.500');
        const att = await gw.app.storage.db.selectFrom('attempts').selectAll().where('transaction_id', '=', cp.body.id).executeTakeFirstOrThrow();
        clock.advance(10_000);
        const outcome = { kind: 'approved' as const, pspReference: att.psp_reference ?? 'ref', acquirerCode: success, details: {} };
        const rs = await Promise.all([
          ...Array.from({ length: 5 }, () => gw.app.payments.settleFromPsp(att.account_id, att.id, outcome as never)),
          gw.app.payments.reconcile(), gw.app.payments.reconcile(),
        ]);
        await gw.app.payments.idle();
        assert.equal(rs.slice(0, 5).filter((x) => x === true).length <= 1, true, JSON.stringify(rs));
        const op = await gw.app.storage.db.selectFrom('transactions').selectAll().where('id', '=', cp.body.id).executeTakeFirstOrThrow();
        assert.equal(op.status, 'succeeded');
        const events = await gw.app.storage.db.selectFrom('outbox').select(['type', 'payload']).where('subject_id', 'in', [cp.body.id, pa.body.id]).execute();
        const postings = await gw.app.ledger.paymentPostings(pa.body.id);
        assert.equal(await gw.app.payments.lateApprovalsUnsettled(), 0, 'a late approval was recorded');
        const ofCapture = events.filter((e) => e.payload.includes(cp.body.id)).map((e) => e.type);
        assert.equal(ofCapture.filter((t) => t === 'operation.succeeded').length, 1, ofCapture.join(','));
        assert.equal(postings.filter((p) => p.operationId === cp.body.id).length > 0, true, 'the capture is in the books');
      }
      assert.equal(await gw.app.ledger.verify(), undefined);
      const v = await checkInvariants(gw.app.storage.db);
      assert.deepEqual(v, [], describeViolations(v));
    });
  });
}

for (const store of ['sqlite', 'postgres'] as const) {
  describe(`the authorization expiry job and captures at once (${store})`, { skip: store === 'postgres' && !pgUp ? 'PostgreSQL unreachable' : false }, () => {
    let gw: Gateway;
    const clock = manualClock(Date.now());
    before(async () => { gw = await startGateway({ store, clock, processor: createSimulatedAcquirer({ latencyMs: 100, jitterMs: 50, timeoutRate: 0, errorRate: 0 }) }); });
    after(() => gw?.close());

    test('CP, RV and the expiry job at once: the books agree with what was answered', async () => {
      const ids: string[] = [];
      for (let i = 0; i < 4; i++) ids.push((await pay(gw, { paymentType: 'PA', amount: '100.00' })).body.id);
      clock.advance(8 * 86_400_000);
      const rs = await Promise.all([
        gw.app.payments.expireAuthorizations(),
        ...ids.map((id, i) => bo(gw, id, 'CP', eur(i % 2 ? '100.00' : '30.00'))),
        bo(gw, ids[3]!, 'RV'),
      ]);
      await gw.app.payments.idle();
      for (const [i, id] of ids.entries()) {
        const ops = await gw.app.storage.db.selectFrom('transactions').select(['type', 'status', 'amount']).where('payment_id', '=', id).orderBy('seq').execute();
        const cp = rs[1 + i] as Awaited<ReturnType<typeof bo>>;
        const captured = ops.filter((o) => o.type === 'capture' && o.status === 'succeeded').reduce((s, o) => s + Number(o.amount), 0);
        const voided = ops.filter((o) => o.type === 'void' && o.status === 'succeeded').reduce((s, o) => s + Number(o.amount), 0);
        assert.ok(captured + voided <= 10000, JSON.stringify(ops));
        assert.equal(captured > 0, cp.body.result.code === success, JSON.stringify({ ops, cp: cp.body.result }));
      }
      assert.equal(await gw.app.ledger.verify(), undefined);
      const v = await checkInvariants(gw.app.storage.db, { now: clock.now() });
      assert.deepEqual(v, [], describeViolations(v));
    });
  });
}

for (const store of ['sqlite', 'postgres'] as const) {
  describe(`executions cancel and refunds at once (${store})`, { skip: store === 'postgres' && !pgUp ? 'PostgreSQL unreachable' : false }, () => {
    let gw: Gateway;
    before(async () => { gw = await startGateway({ store, processor: createSimulatedAcquirer({ latencyMs: 100, jitterMs: 50, timeoutRate: 0, errorRate: 0 }) }); });
    after(() => gw?.close());
    test('capture+cancel, then refund+cancel+refund at once: never more returned than captured', async () => {
      const token = await tokenOf(gw);
      for (let i = 0; i < 3; i++) {
        const id = await execution(gw, token);
        await call(gw, 'POST', `${wf}/${id}/authorize`, { token, body: authorizeBody(await instrument(gw, token), '100.00') });
        const e = await poll(gw, token, id, ['created', 'authorizeRequested']);
        const paymentId = e.paymentComposition[0].paymentId;
        const a = await Promise.all([call(gw, 'POST', `${wf}/${id}/capture`, { token, body: { amount: { value: '60.00', currency: 'EUR' }, final: false } }), call(gw, 'POST', `${wf}/${id}/cancel`, { token, body: {} })]);
        await gw.app.payments.idle();
        const b = await Promise.all([call(gw, 'POST', `${wf}/${id}/refund`, { token, body: {} }), call(gw, 'POST', `${wf}/${id}/cancel`, { token, body: {} }), call(gw, 'POST', `${wf}/${id}/refund`, { token, body: { amount: { value: '10.00', currency: 'EUR' } } })]);
        await gw.app.payments.idle();
        for (const r of [...a, ...b]) assert.ok(r.status < 500, JSON.stringify(r.body));
        const ops = await gw.app.storage.db.selectFrom('transactions').select(['type', 'status', 'amount']).where('payment_id', '=', paymentId).orderBy('seq').execute();
        const sum = (t: string) => ops.filter((o) => o.type === t && o.status === 'succeeded').reduce((s, o) => s + Number(o.amount), 0);
        assert.ok(sum('refund') <= sum('capture') && sum('capture') + sum('void') <= 10000, JSON.stringify(ops));
      }
      assert.equal(await gw.app.ledger.verify(), undefined);
      const v = await checkInvariants(gw.app.storage.db);
      assert.deepEqual(v, [], describeViolations(v));
    });
  });
}
