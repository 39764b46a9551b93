/**
 * A request whose key was taken over (it looked abandoned: in flight for more than 5 minutes, as a
 * stalled node's would) must not commit its own effect when it resumes: the later request's answer
 * stands, so one merchant request (one key) never captures or refunds twice.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { manualClock } from '../src/runtime/clock.ts';
import { postgresAvailable, startGateway, type Gateway } from './support/harness.ts';
import { authorizeBody, call, execution, instrument, poll, tokenOf, wf } from './support/executions.ts';

const pgSkip = (await postgresAvailable()) ? undefined : 'no PostgreSQL';

for (const store of ['sqlite', 'postgres'] as const) describe(`a stalled request whose key was taken over (${store})`, { skip: store === 'postgres' ? pgSkip : undefined }, () => {
  let gw: Gateway;
  let token: string;
  const clock = manualClock(Date.now());
  before(async () => { gw = await startGateway({ store, clock }); token = await tokenOf(gw); });
  after(() => gw.close());

  for (const action of ['capture', 'refund'] as const) {
    test(`${action}: one key, the first request stalls past 5 minutes, the retry takes over; only one ${action} may happen`, async () => {
      const inst = await instrument(gw, token);
      const id = await execution(gw, token);
      assert.equal((await call(gw, 'POST', `${wf}/${id}/authorize`, { token, body: authorizeBody(inst, '100.00') })).status, 200);
      assert.equal((await poll(gw, token, id, ['created', 'authorizeRequested'])).status, 'authorized');
      if (action === 'refund') {
        assert.equal((await call(gw, 'POST', `${wf}/${id}/capture`, { token, body: { final: true } })).status, 202);
        await new Promise((r) => setTimeout(r, 200));
      }
      const paymentId = (await gw.app.storage.db.selectFrom('executions').select('payment_id').where('id', '=', id).executeTakeFirstOrThrow()).payment_id!;
      // The first request stalls after it claimed its key, before its unit of work (a frozen node,
      // a lock wait, a long GC pause): its next read waits until the test lets it go.
      const payments = gw.app.payments;
      const details = payments.details;
      let release!: () => void;
      const gate = new Promise<void>((r) => { release = r; });
      let stalled = false;
      let reached!: () => void;
      const atGate = new Promise<void>((r) => { reached = r; });
      payments.details = async (pid: string) => {
        if (!stalled && pid === paymentId) { stalled = true; reached(); await gate; }
        return details.call(payments, pid);
      };
      const key = randomUUID();
      const body = { amount: { value: '10.00', currency: 'EUR' }, ...(action === 'capture' ? { final: false } : {}) };
      try {
        const first = call(gw, 'POST', `${wf}/${id}/${action}`, { token, key, body });
        await atGate;
        clock.advance(6 * 60_000);
        token = await tokenOf(gw);
        // The merchant's client timed out long ago and retries with the same key.
        const retry = await call(gw, 'POST', `${wf}/${id}/${action}`, { token, key, body });
        assert.equal(retry.status, 202, JSON.stringify(retry.body));
        release();
        const firstAnswer = await first;
        await new Promise((r) => setTimeout(r, 300));
        const ops = (await details.call(payments, paymentId))!.operations.filter((o) => o.kind === action);
        assert.equal(ops.length, 1,
          `one key, ${ops.length} ${action}s of 10.00 (${ops.map((o) => o.status)}); first answered ${firstAnswer.status}, retry ${retry.status}`);
        assert.equal(firstAnswer.status, 409, JSON.stringify(firstAnswer.body));
        assert.equal(firstAnswer.body.errors[0].code, 'request.conflict');
        const replay = await call(gw, 'POST', `${wf}/${id}/${action}`, { token, key, body });
        assert.deepEqual([replay.status, replay.body], [retry.status, retry.body], 'the key answers with the request that acted');
      } finally {
        payments.details = details;
        release();
      }
    });
  }
});
