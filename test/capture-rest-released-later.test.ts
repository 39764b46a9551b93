/**
 * A final capture releases the rest of its authorization: the engine voids it right after the
 * capture settles. When that void cannot be recorded (the process stopped between the two, the
 * store went away), the `release-capture-rests` job voids it within minutes; without it the rest
 * stayed held on the shopper's card until the authorization expired, a week later. Also after the
 * gateway was down for longer than a day.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { sql } from 'kysely';
import { manualClock } from '../src/runtime/clock.ts';
import { startGateway, postgresAvailable, type Gateway } from './support/harness.ts';
import { authorizedExecution, call, tokenOf, wf } from './support/executions.ts';

const pgUp = await postgresAvailable();

/** Makes recording any void fail, as a store gone away would, until the returned function is called. */
async function refuseVoids(gw: Gateway, store: 'sqlite' | 'postgres'): Promise<() => Promise<void>> {
  const db = gw.app.storage.db;
  if (store === 'sqlite') {
    await sql`CREATE TRIGGER refuse_void BEFORE INSERT ON transactions WHEN NEW.type = 'void' BEGIN SELECT RAISE(ABORT, 'store unavailable'); END`.execute(db);
    return async () => { await sql`DROP TRIGGER refuse_void`.execute(db); };
  }
  await sql`CREATE OR REPLACE FUNCTION refuse_void() RETURNS trigger AS $$ BEGIN RAISE EXCEPTION 'store unavailable'; END $$ LANGUAGE plpgsql`.execute(db);
  await sql`CREATE TRIGGER refuse_void BEFORE INSERT ON transactions FOR EACH ROW WHEN (NEW.type = 'void') EXECUTE FUNCTION refuse_void()`.execute(db);
  return async () => { await sql`DROP TRIGGER refuse_void ON transactions`.execute(db); };
}

for (const store of ['sqlite', 'postgres'] as const) {
  describe(`a final capture's rest left held (${store})`, { skip: store === 'postgres' && !pgUp ? 'PostgreSQL unreachable' : false }, () => {
    const clock = manualClock(Date.now());
    let gw: Gateway;
    let token: string;
    before(async () => {
      gw = await startGateway({ store, clock });
      token = await tokenOf(gw);
    });
    after(() => gw?.close());

    test('is voided by the next pass of release-capture-rests, once, and the execution reads captured', async () => {
      const { id, paymentId } = await authorizedExecution(gw, token, `rest-${store}`, '4111111111111111', '100.00');
      const allow = await refuseVoids(gw, store);
      let captured;
      try {
        captured = await call(gw, 'POST', `${wf}/${id}/capture`, { token, key: randomUUID(), body: { amount: { value: '40.00', currency: 'EUR' }, final: true } });
      } finally {
        await allow();
      }
      assert.ok(captured.status < 300, JSON.stringify(captured.body));
      const voids = async () => (await gw.app.payments.details(paymentId))!.operations.filter((o) => o.kind === 'void');
      assert.deepEqual(await voids(), [], 'the release could not be recorded');
      assert.ok(gw.logs.some((l) => l.includes('could not be released now')), 'an operator is told');

      // Minutes later, not the week the expiry takes.
      clock.advance(5 * 60_000);
      await gw.app.jobs.runDue();
      const [released, ...more] = await voids();
      assert.equal(more.length, 0, 'one void');
      assert.equal(released?.status, 'succeeded');
      assert.equal(released?.amount.amount, 6000, 'the 60.00 the capture left');
      assert.equal(released?.context.expired, undefined, 'not the expiry job\'s');
      assert.equal((await call(gw, 'GET', `${wf}/${id}`, { token })).body.status, 'captured');
      assert.equal(await gw.app.ledger.verify(), undefined);
      const held = (await gw.app.ledger.balances(gw.merchant.merchantId)).filter((b) => b.kind === 'authorized' && b.balance !== 0);
      assert.deepEqual(held, [], 'nothing held in the books');

      // A later pass (its window reaching back over the last) releases nothing more.
      clock.advance(60_000);
      await gw.app.jobs.runDue();
      assert.equal((await voids()).length, 1);
    });

    test('a pass that could not record the void fails, and a later pass reaches back to it', async () => {
      const { id, paymentId } = await authorizedExecution(gw, token, `retry-${store}`, '4111111111111111', '100.00');
      const allow = await refuseVoids(gw, store);
      try {
        const captured = await call(gw, 'POST', `${wf}/${id}/capture`, { token, key: randomUUID(), body: { amount: { value: '40.00', currency: 'EUR' }, final: true } });
        assert.ok(captured.status < 300, JSON.stringify(captured.body));
        // The job's first pass meets the same refusal.
        clock.advance(5 * 60_000);
        const run = (await gw.app.jobs.runDue()).find((r) => r.name === 'release-capture-rests');
        assert.equal(run?.ok, false, 'a pass that left a rest held is not a success');
      } finally {
        await allow();
      }
      const voids = async () => (await gw.app.payments.details(paymentId))!.operations.filter((o) => o.kind === 'void');
      assert.deepEqual(await voids(), []);
      // Passes counted as successes meanwhile would have moved the window past the capture.
      for (let i = 0; i < 3; i++) {
        clock.advance(60_000);
        await gw.app.jobs.runDue();
      }
      const released = await voids();
      assert.deepEqual(released.map((v) => [v.status, v.amount.amount]), [['succeeded', 6000]], 'voided once the store takes the record');
    });

    test('a capture that is not final keeps its rest for the captures to come', async () => {
      const { id, paymentId } = await authorizedExecution(gw, token, `partial-${store}`, '4111111111111111', '100.00');
      const captured = await call(gw, 'POST', `${wf}/${id}/capture`, { token, key: randomUUID(), body: { amount: { value: '40.00', currency: 'EUR' }, final: false } });
      assert.ok(captured.status < 300, JSON.stringify(captured.body));
      clock.advance(5 * 60_000);
      await gw.app.jobs.runDue();
      assert.deepEqual((await gw.app.payments.details(paymentId))!.operations.filter((o) => o.kind === 'void'), []);
      assert.equal((await call(gw, 'GET', `${wf}/${id}`, { token })).body.status, 'partiallyCaptured');
    });
    // Last: the outage outlives the test's token.
    test('one left held before a 30-hour outage is voided by the first pass after it, however long ago the last pass ran', async () => {
      await gw.app.jobs.runDue();
      const { id, paymentId } = await authorizedExecution(gw, token, `down-${store}`, '4111111111111111', '100.00');
      const allow = await refuseVoids(gw, store);
      try {
        const captured = await call(gw, 'POST', `${wf}/${id}/capture`, { token, key: randomUUID(), body: { amount: { value: '40.00', currency: 'EUR' }, final: true } });
        assert.ok(captured.status < 300, JSON.stringify(captured.body));
      } finally {
        await allow();
      }
      const voids = async () => (await gw.app.payments.details(paymentId))!.operations.filter((o) => o.kind === 'void');
      assert.deepEqual(await voids(), [], 'the release could not be recorded');
      // A failed host, started again 30 hours later.
      clock.advance(30 * 3_600_000);
      await gw.app.jobs.runDue();
      assert.deepEqual((await voids()).map((v) => [v.status, v.amount.amount, v.context.expired]), [['succeeded', 6000, undefined]],
        'the 60.00 rest is released by release-capture-rests, not left to the authorization\'s expiry');
    });
  });
}
