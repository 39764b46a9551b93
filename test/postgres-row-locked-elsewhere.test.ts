/**
 * A row lock held by another client (an operator's `SELECT ... FOR UPDATE` in psql, left open) on a
 * payment row. A unit of work waiting for it gives up at its deadline (SWITCHYARD_UNIT_DEADLINE_MS)
 * and answers its caller, and its lane serves others: the wait for the lock ends with the deadline
 * (a statement's lock timeout), not when the other client lets go.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import pg from 'pg';
import { opp, pay, postgresAvailable, startGateway, testPostgresUrl, type Gateway } from './support/harness.ts';

const skip = (await postgresAvailable()) ? undefined : 'PostgreSQL unreachable';

const within = <T>(p: Promise<T>, ms: number) => Promise.race([
  p.then((v) => ({ settled: true as const, v }), (e: unknown) => ({ settled: true as const, e })),
  new Promise<{ settled: false }>((r) => setTimeout(() => r({ settled: false }), ms)),
]);

describe('a payment row locked by another client (PostgreSQL, unit deadline 2 s)', { skip }, () => {
  let gw: Gateway;
  let operator: pg.Client;
  before(async () => {
    gw = await startGateway({ store: 'postgres', env: { SWITCHYARD_UNIT_DEADLINE_MS: '2000', SWITCHYARD_PG_STATEMENT_DEADLINE_MS: '1000' } });
    operator = new pg.Client({ connectionString: testPostgresUrl });
    await operator.connect();
  });
  after(async () => {
    await operator.query('rollback').catch(() => {});
    await operator.end().catch(() => {});
    await gw.close();
  });

  const lockPayment = async (id: string) => {
    await operator.query('begin');
    const locked = await operator.query(`select id from "${gw.app.storage.schema}".payments where id = $1 for update`, [id]);
    assert.equal(locked.rowCount, 1);
  };

  test('a capture of the locked payment is answered within a bound, not only once the lock is released', async () => {
    const pa = await pay(gw, { paymentType: 'PA' });
    assert.equal(pa.status, 200, JSON.stringify(pa.body));
    const id = pa.body.id as string;
    await lockPayment(id);
    const started = Date.now();
    const capture = opp(gw, 'POST', `/v1/payments/${id}`, { paymentType: 'CP', amount: '92.00', currency: 'EUR' });
    const outcome = await within(capture, 8_000);
    await operator.query('rollback');
    const later = await within(capture, 10_000);
    assert.ok(outcome.settled, `the capture got no answer in 8 s while the row was locked (unit deadline 2 s); it was answered ${later.settled ? `${(later as any).v?.status} only after the lock was released, ${Date.now() - started} ms after it was sent` : 'not even after release'}`);
    // Answered as the database's being unavailable for a moment, not as a rejection: nothing was captured.
    const answered = (outcome as { v?: { status: number; body: any } }).v!;
    assert.equal(answered.status, 503, JSON.stringify(answered.body));
    assert.equal(answered.body.result.code, '900.100.100');
    assert.equal((await opp(gw, 'GET', `/v1/query/${id}`)).body.result.code.startsWith('000.'), true);
    const rows = await gw.app.storage.db.selectFrom('transactions').select('type').where('payment_id', '=', id).execute();
    assert.deepEqual(rows.map((r) => r.type), ['authorize'], 'the capture was not recorded');
  });

  test('six requests on the locked payment do not stop unrelated payments of the node (every lane waits on the lock)', async () => {
    const pa = await pay(gw, { paymentType: 'PA' });
    assert.equal(pa.status, 200, JSON.stringify(pa.body));
    const id = pa.body.id as string;
    await lockPayment(id);
    // A merchant's backend retrying a capture (each a new request), or several partial captures.
    const captures = Array.from({ length: 6 }, () => opp(gw, 'POST', `/v1/payments/${id}`, { paymentType: 'CP', amount: '10.00', currency: 'EUR' }));
    await new Promise((r) => setTimeout(r, 500));
    const unrelated = pay(gw);
    const outcome = await within(unrelated, 8_000);
    await operator.query('rollback');
    const later = await within(unrelated, 15_000);
    await Promise.allSettled(captures);
    assert.ok(later.settled && (later as any).v?.status === 200, 'the node recovers once the lock is released');
    assert.ok(outcome.settled, 'an unrelated payment got no answer in 8 s (unit deadline 2 s): all six lanes wait on the lock another client holds on one payment row, and the deadline frees none of them');
  });
});
