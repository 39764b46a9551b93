/**
 * The reconcile job on PostgreSQL while one payment's row is held locked by another client (an
 * operator's `SELECT ... FOR UPDATE` left open in psql): the job settles the other payments
 * without waiting out the unit deadline on that row, and settles the held one once it is let go.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import pg from 'pg';
import { manualClock } from '../src/runtime/clock.ts';
import { createSimulatedAcquirer } from '../src/processors/simulator/connector.ts';
import type { Connector, ConnectorRequest } from '../src/processors/connector.ts';
import { pay, postgresAvailable, startGateway, testPostgresUrl } from './support/harness.ts';

const pgUp = await postgresAvailable();
const unknownCode = '900.100.300';

/** `SHOPPER_lose`: the PSP never answers, and its lookup never finds the attempt (never received). */
function losingAcquirer(): Connector {
  const sim = createSimulatedAcquirer({ latencyMs: 0, jitterMs: 0, timeoutRate: 0, errorRate: 0 });
  const lost = new Set<string>();
  return {
    name: 'losing-acquirer', operations: sim.operations,
    execute(req: ConnectorRequest) {
      if (req.testParameters['SHOPPER_lose']) { lost.add(req.attemptId); return new Promise(() => {}); }
      return sim.execute(req);
    },
    async lookup(id: string) { return lost.has(id) ? undefined : sim.lookup(id); },
  };
}

test('a payment row held locked elsewhere holds the reconcile job back for seconds at most, not the unit deadline', { skip: pgUp ? false : 'PostgreSQL unreachable', timeout: 180_000 }, async () => {
  const clock = manualClock(Date.now());
  // The unit deadline (and so the session's lock_timeout) at its default, 60 s.
  const gw = await startGateway({ store: 'postgres', clock, processor: losingAcquirer(), env: { SWITCHYARD_PSP_TIMEOUT_MS: '200' } });
  const operator = new pg.Client({ connectionString: testPostgresUrl });
  await operator.connect();
  try {
    const held = await pay(gw, { paymentType: 'PA', amount: '10.00', 'customParameters[SHOPPER_lose]': '1' });
    const others = [];
    for (let i = 0; i < 3; i++) others.push(await pay(gw, { paymentType: 'PA', amount: `1${i}.50`, 'customParameters[SHOPPER_lose]': '1' }));
    for (const p of [held, ...others]) assert.equal(p.body.result.code, unknownCode);
    clock.advance(60_000);
    await operator.query('begin');
    await operator.query(`select id from "${gw.app.storage.schema}".payments where id = $1 for update`, [held.body.id]);
    const status = async (id: string) => (await gw.app.storage.db.selectFrom('transactions').select('status').where('id', '=', id).executeTakeFirstOrThrow()).status;
    const started = Date.now();
    const runs = await gw.app.jobs.runDue();
    const took = Date.now() - started;
    assert.ok(runs.some((r) => r.name === 'reconcile-payments' && r.ok), JSON.stringify(runs));
    await gw.app.payments.idle();
    assert.deepEqual(await Promise.all(others.map((o) => status(o.body.id))), ['failed', 'failed', 'failed']);
    assert.equal(await status(held.body.id), 'unknown', 'the held payment is left for the next pass');
    assert.ok(took < 20_000, `the job's pass took ${took} ms behind one held row`);

    // Let go: the next pass settles it.
    await operator.query('rollback');
    clock.advance(60_000);
    await gw.app.jobs.runDue();
    await gw.app.payments.idle();
    assert.equal(await status(held.body.id), 'failed');
  } finally {
    await operator.query('rollback').catch(() => {});
    await operator.end();
    await gw.close();
  }
});
