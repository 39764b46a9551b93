/**
 * Back-office actions on one execution that overlap (shrunk from random sequences of actions
 * checked against a model of the money): a cancel while a capture of the open rest is at the PSP,
 * and a final capture beside a non-final one, on one node and on two nodes over one PostgreSQL
 * database.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { createSimulatedAcquirer } from '../src/processors/simulator/connector.ts';
import type { Connector, ConnectorRequest } from '../src/processors/connector.ts';
import type { App } from '../src/app.ts';
import { postgresAvailable, secondNode, startGateway, type Gateway } from './support/harness.ts';
import { authorizeBody, call, execution, instrument, poll, tokenOf, wf, type Reachable } from './support/executions.ts';
import { checkInvariants, describeViolations } from './support/invariants.ts';

const pgUp = await postgresAvailable();

/** While `held` is set, a capture waits at the PSP until it resolves (`reached` is told it arrived). */
let held: PromiseWithResolvers<void> | undefined;
let reached: () => void = () => {};
function holdingCaptures(psp: Connector): Connector {
  return {
    ...psp,
    async execute(req: ConnectorRequest) {
      const gate = held;
      if (gate && req.operation === 'capture') { reached(); await gate.promise; }
      return psp.execute(req);
    },
  };
}
const eur = (value: string) => ({ value, currency: 'EUR' });

async function authorized(gw: Gateway, token: string): Promise<string> {
  const inst = await instrument(gw, token);
  const id = await execution(gw, token);
  await call(gw, 'POST', `${wf}/${id}/authorize`, { token, body: authorizeBody(inst, '100.00') });
  assert.equal((await poll(gw, token, id, ['created', 'authorizeRequested'])).status, 'authorized');
  return id;
}

async function moneyOf(gw: Gateway, paymentId: string) {
  const rows = await gw.app.storage.db.selectFrom('transactions').select(['type', 'status', 'amount']).where('payment_id', '=', paymentId).orderBy('seq').execute();
  const sum = (type: string) => rows.filter((r) => r.type === type && r.status === 'succeeded').reduce((s, r) => s + Number(r.amount), 0);
  return { captured: sum('capture'), refunded: sum('refund'), voided: sum('void'), rows: rows.map((r) => `${r.type}:${r.status}:${Number(r.amount)}`).join(' ') };
}

for (const store of ['sqlite', 'postgres'] as const) {
  describe(`actions at once (${store})`, { skip: store === 'postgres' && !pgUp ? 'PostgreSQL unreachable' : false }, () => {
    let gw: Gateway;
    let token: string;
    before(async () => {
      gw = await startGateway({ store, processor: holdingCaptures(createSimulatedAcquirer({ latencyMs: 30, jitterMs: 30, timeoutRate: 0, errorRate: 0 })) });
      token = await tokenOf(gw);
    });
    after(() => gw?.close());

    test('a cancel while a capture of the open rest is at the PSP is refused; the money stays as the capture leaves it', async () => {
      const id = await authorized(gw, token);
      assert.equal((await call(gw, 'POST', `${wf}/${id}/capture`, { token, key: randomUUID(), body: { amount: eur('40.00'), final: false } })).status, 202);
      await gw.app.payments.idle();
      held = Promise.withResolvers<void>();
      const atPsp = Promise.withResolvers<void>();
      reached = atPsp.resolve;
      // The capture's request waits for its PSP's answer (up to the PSP timeout) before its acknowledgment.
      const capture = call(gw, 'POST', `${wf}/${id}/capture`, { token, key: randomUUID(), body: { amount: eur('60.00'), final: false } });
      await atPsp.promise;
      // The execution's own status (captureRequested) refuses a cancel sent now; two requests
      // that both read it before either was recorded reach the engine as this one does.
      const cancel = await call(gw, 'POST', `${wf}/${id}/cancel`, { token, key: randomUUID(), body: {} });
      assert.equal(cancel.status, 422);
      assert.equal(cancel.body.errors[0].code, 'workflow.action.not-allowed');
      const paymentId = (await call(gw, 'GET', `${wf}/${id}`, { token })).body.paymentComposition[0].paymentId as string;
      const merchant = (await gw.app.merchants.byId(gw.merchant.merchantId))!;
      const engine = await gw.app.payments.cancel({ merchant, scope: { channel: 'executions' }, paymentId, context: { executionAction: { id: randomUUID(), name: 'cancel', requestedAt: Date.now() } } });
      held.resolve();
      held = undefined;
      assert.equal((await capture).status, 202);
      await gw.app.payments.idle();
      const e = (await call(gw, 'GET', `${wf}/${id}`, { token })).body;
      const m = await moneyOf(gw, paymentId);
      assert.deepEqual(engine.ok ? 'accepted' : engine.error, 'reference_pending', `then ${e.status}: ${m.rows}`);
      assert.deepEqual([e.status, m.captured, m.refunded], ['captured', 10000, 0], m.rows);
      // What the capture took can be given back.
      assert.equal((await call(gw, 'POST', `${wf}/${id}/cancel`, { token, key: randomUUID(), body: {} })).status, 202);
      await gw.app.payments.idle();
      const after = (await call(gw, 'GET', `${wf}/${id}`, { token })).body;
      const back = await moneyOf(gw, after.paymentComposition[0].paymentId);
      assert.deepEqual([after.status, back.refunded], ['cancelled', 10000], back.rows);
      const broken = await checkInvariants(gw.app.storage.db);
      assert.deepEqual(broken, [], describeViolations(broken));
    });

    test('a final capture beside a non-final one: the execution ends captured whichever ends last', async () => {
      for (let i = 0; i < 4; i++) {
        const id = await authorized(gw, token);
        await Promise.all([
          call(gw, 'POST', `${wf}/${id}/capture`, { token, key: randomUUID(), body: { amount: eur('40.00'), final: false } }),
          call(gw, 'POST', `${wf}/${id}/capture`, { token, key: randomUUID(), body: { amount: eur('50.00') } }),
        ]);
        await gw.app.payments.idle();
        const e = (await call(gw, 'GET', `${wf}/${id}`, { token })).body;
        const m = await moneyOf(gw, e.paymentComposition[0].paymentId);
        // Both taken (the final one closed the rest), or the second refused while the first ran.
        if (m.captured + m.voided === 10000) {
          assert.equal(e.status, 'captured', m.rows);
          assert.equal(e.links.capture, undefined);
        } else {
          assert.deepEqual([m.captured, e.status], [4000, 'partiallyCaptured'], m.rows);
        }
      }
    });
  });
}

describe('a final capture beside a non-final one on two nodes', { skip: pgUp ? false : 'PostgreSQL unreachable' }, () => {
  let a: Gateway;
  let b: App;
  let nodeB: Reachable;
  let token: string;
  const sim = createSimulatedAcquirer({ latencyMs: 30, jitterMs: 30, timeoutRate: 0, errorRate: 0 });
  before(async () => {
    a = await startGateway({ store: 'postgres', processor: sim });
    const second = await secondNode(a, { processor: sim });
    b = second.app;
    nodeB = second;
    token = await tokenOf(a);
  });
  after(async () => { await b?.close(); await a?.close(); });

  test('the execution ends captured, whichever node ends last', async () => {
    for (let i = 0; i < 4; i++) {
      const id = await authorized(a, token);
      await Promise.all([
        call(a, 'POST', `${wf}/${id}/capture`, { token, key: randomUUID(), body: { amount: eur('40.00'), final: false } }),
        call(nodeB, 'POST', `${wf}/${id}/capture`, { token, key: randomUUID(), body: { amount: eur('50.00') } }),
      ]);
      await a.app.payments.idle();
      await b.payments.idle();
      const e = (await call(a, 'GET', `${wf}/${id}`, { token })).body;
      const m = await moneyOf(a, e.paymentComposition[0].paymentId);
      if (m.captured + m.voided === 10000) assert.equal(e.status, 'captured', m.rows);
      else assert.ok([4000, 5000].includes(m.captured) && e.status === (m.captured === 4000 ? 'partiallyCaptured' : 'captured'), `${e.status}: ${m.rows}`);
    }
  });
});
