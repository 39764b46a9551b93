/**
 * Authorization expiry (issue 12), walked through with the injected clock over HTTP on each store:
 * an authorization left uncaptured past SWITCHYARD_AUTHORIZATION_EXPIRY_DAYS is voided by the
 * `expire-authorizations` job, its hold is released in the books, a later capture is refused in the
 * dialect's own words, and the void goes to the webhook outbox like any other.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { manualClock } from '../src/runtime/clock.ts';
import { opp, postgresAvailable, startGateway, testCard, type Gateway } from './support/harness.ts';
import { authorizeBody, call, execution, instrument, poll, tokenOf, wf } from './support/executions.ts';

const pgUp = await postgresAvailable();
const day = 86_400_000;

for (const store of ['sqlite', 'postgres'] as const) {
  describe(`authorization expiry (${store})`, { skip: store === 'postgres' && !pgUp ? 'PostgreSQL unreachable' : false }, () => {
    const clock = manualClock(Date.UTC(2026, 0, 5, 12));
    let gw: Gateway;
    before(async () => { gw = await startGateway({ clock, store, env: { SWITCHYARD_AUTHORIZATION_EXPIRY_DAYS: '7' } }); });
    after(async () => { await gw.close(); });

    const holds = async () => (await gw.app.ledger.balances(gw.merchant.merchantId))
      .filter((b) => b.kind === 'holds').reduce((s, b) => s + Math.abs(b.balance), 0);
    const expiryJob = async () => {
      const runs = await gw.app.jobs.runDue();
      assert.ok(runs.some((r) => r.name === 'expire-authorizations'), 'the job is registered and due');
      await gw.app.payments.idle();
    };

    test('a /v1 PA left uncaptured is voided after its expiry, and a later CP is refused', async () => {
      const mtx = `exp-${store}-${Date.now()}`;
      const pa = await opp(gw, 'POST', '/v1/payments', { amount: '40.00', currency: 'EUR', paymentType: 'PA', merchantTransactionId: mtx, ...testCard });
      assert.equal(pa.body.result.code, '000.100.110', JSON.stringify(pa.body));
      clock.advance(day);
      const fresh = await opp(gw, 'POST', '/v1/payments', { amount: '15.00', currency: 'EUR', paymentType: 'PA', ...testCard });
      assert.equal(fresh.body.result.code, '000.100.110');
      assert.ok(await holds() >= 5500, 'both holds are open');

      // A second short of the expiry nothing happens.
      clock.advance(6 * day - 1000);
      assert.equal(await gw.app.payments.expireAuthorizations(), 0);
      clock.advance(2000);
      await expiryJob();

      const q = await opp(gw, 'GET', '/v1/query', { merchantTransactionId: mtx });
      const kinds = q.body.payments.map((p: any) => `${p.paymentType}:${p.result.code}`).sort();
      assert.deepEqual(kinds, ['PA:000.100.110', 'RV:000.100.110'], JSON.stringify(q.body));
      assert.equal(await holds(), 1500, 'only the young authorization still holds money');

      const cp = await opp(gw, 'POST', `/v1/payments/${pa.body.id}`, { paymentType: 'CP', amount: '40.00', currency: 'EUR' });
      assert.equal(cp.status, 400);
      assert.equal(cp.body.result.code, '700.400.100', JSON.stringify(cp.body));
      const young = await opp(gw, 'POST', `/v1/payments/${fresh.body.id}`, { paymentType: 'CP', amount: '15.00', currency: 'EUR' });
      assert.equal(young.body.result.code, '000.100.110', 'an authorization within its expiry still captures');

      assert.equal(await gw.app.ledger.verify(), undefined);
      const events = await gw.app.storage.db.selectFrom('outbox').select(['type', 'payload']).where('type', '=', 'operation.succeeded').execute();
      const voids = events.map((e) => JSON.parse(e.payload)).filter((p) => p.kind === 'void' && p.paymentId === pa.body.id);
      assert.equal(voids.length, 1);
      assert.equal(voids[0].context.expired, true);
      // A second run finds nothing more to do.
      assert.equal(await gw.app.payments.expireAuthorizations(), 0);
    });

    test('an execution left authorized is cancelled on expiry, and a later capture is refused', async () => {
      let token = await tokenOf(gw);
      const id = await execution(gw, token);
      const inst = await instrument(gw, token);
      assert.equal((await call(gw, 'POST', `${wf}/${id}/authorize`, { token, body: authorizeBody(inst, '20.00') })).status < 300, true);
      await gw.app.payments.idle();
      await poll(gw, token, id, ['authorizeRequested', 'authorizePending']);
      assert.equal((await call(gw, 'GET', `${wf}/${id}`, { token })).body.status, 'authorized');

      clock.advance(7 * day + 1000);
      assert.equal(await gw.app.payments.expireAuthorizations(), 1);
      await gw.app.payments.idle();

      // The clock moved a week: the earlier access token has expired.
      token = await tokenOf(gw);
      const after = await call(gw, 'GET', `${wf}/${id}`, { token });
      assert.equal(after.body.status, 'cancelled', JSON.stringify(after.body));
      assert.equal(after.body.statusHistory.at(-1).code, 'cancelSuccessful', JSON.stringify(after.body.statusHistory));
      const capture = await call(gw, 'POST', `${wf}/${id}/capture`, { token, body: { amount: { value: '20.00', currency: 'EUR' } } });
      assert.equal(capture.status, 422, `capture after expiry: ${capture.status} ${JSON.stringify(capture.body)}`);
      assert.equal(capture.body.errors?.[0]?.code, 'workflow.action.not-allowed', JSON.stringify(capture.body));

      assert.equal(await gw.app.ledger.verify(), undefined);
      const events = await gw.app.storage.db.selectFrom('outbox').select(['type', 'payload']).where('subject_id', '=', id).execute();
      const updated = events.find((e) => e.type === 'execution.executionActionUpdated');
      assert.ok(updated, events.map((e) => e.type).join(', '));
      // As every action event, it names its action: the authorization that lapsed.
      const actions = JSON.parse((await gw.app.storage.db.selectFrom('executions').select('actions').where('id', '=', id).executeTakeFirstOrThrow()).actions) as { id: string; name: string }[];
      const { details } = JSON.parse(updated.payload);
      assert.equal(details?.action, 'authorize', updated.payload);
      assert.equal(details.actionId, actions.find((a) => a.name === 'authorize')?.id, updated.payload);
    });
    test('a partly captured execution is told its open rest was released: captured, its capture closed, the captured part refundable', async () => {
      let token = await tokenOf(gw);
      const id = await execution(gw, token);
      const inst = await instrument(gw, token);
      assert.equal((await call(gw, 'POST', `${wf}/${id}/authorize`, { token, body: authorizeBody(inst, '50.00') })).status < 300, true);
      await gw.app.payments.idle();
      await poll(gw, token, id, ['authorizeRequested', 'authorizePending']);
      const part = await call(gw, 'POST', `${wf}/${id}/capture`, { token, body: { amount: { value: '20.00', currency: 'EUR' }, final: false } });
      assert.equal(part.status, 202, JSON.stringify(part.body));
      await gw.app.payments.idle();
      assert.equal((await call(gw, 'GET', `${wf}/${id}`, { token })).body.status, 'partiallyCaptured');
      const told = async () => (await gw.app.storage.db.selectFrom('outbox').select(['type', 'payload']).where('subject_id', '=', id).execute())
        .filter((e) => e.type === 'execution.executionActionUpdated');
      assert.equal((await told()).length, 0);

      clock.advance(7 * day + 1000);
      await expiryJob();
      token = await tokenOf(gw);
      const view = await call(gw, 'GET', `${wf}/${id}`, { token });
      assert.equal(view.body.status, 'captured', JSON.stringify(view.body));
      assert.equal(view.body.links?.capture, undefined, 'no capture is offered');
      const updates = await told();
      assert.equal(updates.length, 1, 'the merchant is told');
      assert.equal(JSON.parse(updates[0]!.payload).details?.action, 'authorize', updates[0]!.payload);
      const rest = await call(gw, 'POST', `${wf}/${id}/capture`, { token, body: { amount: { value: '30.00', currency: 'EUR' } } });
      assert.equal(rest.status, 422, JSON.stringify(rest.body));
      const refund = await call(gw, 'POST', `${wf}/${id}/refund`, { token, body: { amount: { value: '20.00', currency: 'EUR' } } });
      assert.equal(refund.status, 202, JSON.stringify(refund.body));
      await gw.app.payments.idle();
      assert.equal((await call(gw, 'GET', `${wf}/${id}`, { token })).body.status, 'refunded');
      assert.equal(await gw.app.ledger.verify(), undefined);
    });

    test('a partly captured authorization expires too: its rest is voided, the captured part stays', async () => {
      const pa = await opp(gw, 'POST', '/v1/payments', { amount: '50.00', currency: 'EUR', paymentType: 'PA', ...testCard });
      assert.equal(pa.body.result.code, '000.100.110');
      const cp = await opp(gw, 'POST', `/v1/payments/${pa.body.id}`, { paymentType: 'CP', amount: '20.00', currency: 'EUR' });
      assert.equal(cp.body.result.code, '000.100.110');
      clock.advance(7 * day + 1000);
      await expiryJob();
      const postings = await gw.app.ledger.paymentPostings(pa.body.id);
      assert.deepEqual(postings.filter((p) => p.phase === 'voided').map((p) => p.amount), [3000], 'the open 30.00 is released');
      const again = await opp(gw, 'POST', `/v1/payments/${pa.body.id}`, { paymentType: 'CP', amount: '10.00', currency: 'EUR' });
      assert.equal(again.status, 400);
      assert.equal(again.body.result.code, '700.400.100', JSON.stringify(again.body));
      const rf = await opp(gw, 'POST', `/v1/payments/${cp.body.id}`, { paymentType: 'RF', amount: '20.00', currency: 'EUR' });
      assert.equal(rf.body.result.code, '000.100.110', 'what was captured can still be refunded');
      assert.equal(await gw.app.ledger.verify(), undefined);
      // Marked released: later runs never look at it again.
      const row = await gw.app.storage.db.selectFrom('payments').select('hold_released_at').where('id', '=', pa.body.id).executeTakeFirstOrThrow();
      assert.notEqual(row.hold_released_at, null);
    });

    test('per brand: a Diners authorization holds 30 days, a Visa one 7', async () => {
      const diners = { ...testCard, 'card.number': '36227206271667', paymentBrand: 'DINERS' };
      const d = await opp(gw, 'POST', '/v1/payments', { amount: '12.00', currency: 'EUR', paymentType: 'PA', ...diners });
      assert.equal(d.body.result.code, '000.100.110', JSON.stringify(d.body));
      const v = await opp(gw, 'POST', '/v1/payments', { amount: '13.00', currency: 'EUR', paymentType: 'PA', ...testCard });
      clock.advance(8 * day);
      await expiryJob();
      const voided = async (id: string) => (await gw.app.ledger.paymentPostings(id)).some((p) => p.phase === 'voided');
      assert.equal(await voided(v.body.id), true, 'Visa: expired after 7 days');
      assert.equal(await voided(d.body.id), false, 'Diners: still held after 8 days');
      clock.advance(22 * day);
      await expiryJob();
      assert.equal(await voided(d.body.id), true, 'Diners: expired after 30 days');
      assert.equal(await gw.app.ledger.verify(), undefined);
    });

    test('a capture its PSP fails after the job found the hold closed opens it again: the job releases it', async () => {
      const before = await holds();
      const pa = await opp(gw, 'POST', '/v1/payments', { amount: '40.00', currency: 'EUR', paymentType: 'PA', ...testCard });
      assert.equal(pa.body.result.code, '000.100.110');
      const cp = await opp(gw, 'POST', `/v1/payments/${pa.body.id}`, { paymentType: 'CP', amount: '40.00', currency: 'EUR' });
      assert.equal(cp.body.result.code, '000.100.110');
      // Past the expiry the job finds the hold closed (fully captured) and marks it so.
      clock.advance(8 * day);
      await gw.app.payments.expireAuthorizations();
      const capture = await gw.app.storage.db.selectFrom('attempts').select('id').where('transaction_id', '=', cp.body.id).executeTakeFirstOrThrow();
      const failed = { kind: 'declined' as const, reason: 'provider_error' as const, acquirerCode: 'CAPTURE_FAILED', message: 'rejected', pspReference: undefined, details: {} };
      assert.equal(await gw.app.payments.settleFromPsp('default', capture.id, failed, { reverses: true }), true);
      assert.equal(await holds(), before + 4000, 'the undone capture put its amount back on hold');
      clock.advance(day);
      await gw.app.payments.expireAuthorizations();
      await gw.app.payments.idle();
      assert.equal(await holds(), before, 'the expired authorization\'s hold is released');
      assert.equal(await gw.app.ledger.verify(), undefined);
    });
  });
}
