/**
 * The unit of work that records a PSP's answer loses its database connection (its backend ended
 * with pg_terminate_backend after its writes were sent, before its COMMIT): the PSP has acted, the
 * gateway could not write down what it said. The merchant is answered with the payment, in doubt,
 * and the reconciler settles it with the PSP, as after a lost answer.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { sql } from 'kysely';
import pg from 'pg';
import { opp, postgresAvailable, startGateway, testCard, testPostgresUrl, type Gateway } from './support/harness.ts';
import { authorizeBody, call, execution, instrument, tokenOf, wf } from './support/executions.ts';
import { createSimulatedAcquirer } from '../src/processors/simulator/connector.ts';
import { answer, openRedirect } from './support/shopper.ts';
import type { ConnectorOperation } from '../src/processors/connector.ts';

const skip = (await postgresAvailable()) ? undefined : 'PostgreSQL unreachable';

async function terminate(pid: number) {
  const c = new pg.Client({ connectionString: testPostgresUrl });
  await c.connect();
  try {
    await c.query('select pg_terminate_backend($1)', [pid]);
    for (let i = 0; i < 50; i++) {
      if ((await c.query('select 1 from pg_stat_activity where pid = $1', [pid])).rowCount === 0) return;
      await new Promise((r) => setTimeout(r, 20));
    }
  } finally { await c.end(); }
}

describe('the unit of work recording a PSP\'s answer loses its connection before COMMIT (PostgreSQL)', { skip }, () => {
  let gw: Gateway;
  const sim = createSimulatedAcquirer({ latencyMs: 0, jitterMs: 0 } as never);
  const executed: ConnectorOperation[] = [];
  /** The operation whose PSP call arms the kill of the next unit of work (the one recording its answer). */
  let armedFor: ConnectorOperation | undefined;
  let killNext = false;
  let killed = 0;
  before(async () => {
    const original = sim.execute.bind(sim);
    (sim as { execute: typeof sim.execute }).execute = async (req) => {
      const r = await original(req);
      executed.push(req.operation);
      if (armedFor === req.operation) { armedFor = undefined; killNext = true; }
      return r;
    };
    gw = await startGateway({ store: 'postgres', processor: sim, env: { SWITCHYARD_PSP_TIMEOUT_MS: '500' } });
    const uow = gw.app.storage.uow as { run: (fn: (tx: any) => Promise<unknown>, o?: unknown) => Promise<unknown> };
    const run = uow.run.bind(uow);
    uow.run = (fn, o) => {
      if (!killNext) return run(fn, o);
      killNext = false;
      return run(async (tx) => {
        const pid = (await sql<{ pid: number }>`select pg_backend_pid() as pid`.execute(tx)).rows[0]!.pid;
        const value = await fn(tx);
        killed++;
        await terminate(pid);
        return value;
      }, o);
    };
  });
  after(() => gw.close());

  const statusOf = async (id: string) => (await sql<{ status: string }>`select status from transactions where id = ${id}`.execute(gw.app.storage.db)).rows[0]?.status;
  /** Twice the PSP timeout on, the reconciler asks the PSP about what is open. */
  const reconcile = async () => { await new Promise((r) => setTimeout(r, 1100)); await gw.app.payments.reconcile(); await gw.app.payments.idle(); };

  test('/v1: a DB the PSP charged is answered in doubt with its id (900.100.300), and the reconciler settles it succeeded', async () => {
    // Answered as a payment whose PSP answer was lost is (the no-answer test card).
    const lost = await opp(gw, 'POST', '/v1/payments', { amount: '10.00', currency: 'EUR', paymentType: 'DB', ...testCard, 'card.number': '4000000000003006' });
    assert.equal(lost.body.result.code, '900.100.300');
    executed.length = 0;
    const before = killed;
    armedFor = 'sale';
    const mtx = `lost-${randomUUID()}`;
    const first = await opp(gw, 'POST', '/v1/payments', { amount: '10.00', currency: 'EUR', paymentType: 'DB', merchantTransactionId: mtx, ...testCard });
    assert.equal(killed, before + 1, 'the outcome\'s unit of work lost its connection');
    assert.equal(first.body?.result?.code, '900.100.300', `answered ${first.status} ${JSON.stringify(first.body)} for a payment the PSP charged and the gateway recorded`);
    assert.equal(first.status, lost.status);
    assert.match(first.body.id, /^[0-9a-f]{32}$/);
    await reconcile();
    assert.equal(await statusOf(first.body.id), 'succeeded');
    const status = await opp(gw, 'GET', `/v1/payments/${first.body.id}`, {});
    assert.match(status.body.result.code, /^000\.100\.11/, JSON.stringify(status.body.result));
    assert.deepEqual(executed, ['sale'], 'charged once');
  });

  test('/v1: a refund the PSP made is answered in doubt with its id, and the reconciler settles it succeeded', async () => {
    const sale = await opp(gw, 'POST', '/v1/payments', { amount: '10.00', currency: 'EUR', paymentType: 'DB', ...testCard });
    assert.match(sale.body.result.code, /^000\.100\.11/);
    executed.length = 0;
    const before = killed;
    armedFor = 'refund';
    const rf = await opp(gw, 'POST', `/v1/payments/${sale.body.id}`, { amount: '4.00', currency: 'EUR', paymentType: 'RF' });
    assert.equal(killed, before + 1, 'the outcome\'s unit of work lost its connection');
    assert.equal(rf.body?.result?.code, '900.100.300', `answered ${rf.status} ${JSON.stringify(rf.body)} for a refund the PSP made`);
    assert.match(rf.body.id, /^[0-9a-f]{32}$/);
    await reconcile();
    assert.equal(await statusOf(rf.body.id), 'succeeded');
    assert.deepEqual(executed, ['refund'], 'refunded once');
  });

  test('/v1: the shopper back from the challenge, whose authorization the PSP made but the gateway could not write, is sent on to the shop; the payment is in doubt, then settled', async () => {
    const pa = await opp(gw, 'POST', '/v1/payments', {
      amount: '10.00', currency: 'EUR', paymentType: 'PA', ...testCard, 'card.number': '4200000000000042', shopperResultUrl: 'https://shop.example/back',
    });
    assert.equal(pa.body.result.code, '000.200.000', JSON.stringify(pa.body.result));
    const page = await openRedirect(pa.body.redirect);
    executed.length = 0;
    const before = killed;
    armedFor = 'authorize';
    const back = await answer(page, 'completed');
    assert.equal(killed, before + 1, 'the outcome\'s unit of work lost its connection');
    assert.equal(back.status, 303, `the shopper got ${back.status} instead of being sent back to the shop: ${back.html.slice(0, 200)}`);
    assert.match(back.location ?? '', /^https:\/\/shop\.example\/back/);
    const status = await opp(gw, 'GET', `/v1/payments/${pa.body.id}`, {});
    assert.match(status.body.result.code, /^(000\.200|900\.100\.300)/, `not final yet: ${JSON.stringify(status.body.result)}`);
    await reconcile();
    assert.equal(await statusOf(pa.body.id), 'succeeded');
    assert.deepEqual(executed, ['authorize'], 'authorized once');
  });

  test('executions: an authorization whose outcome is not written is settled by the reconciler, and the PSP is asked once', async () => {
    const token = await tokenOf(gw);
    const inst = await instrument(gw, token);
    const id = await execution(gw, token);
    executed.length = 0;
    const before = killed;
    armedFor = 'authorize';
    assert.equal((await call(gw, 'POST', `${wf}/${id}/authorize`, { token, body: authorizeBody(inst) })).status, 200);
    for (let i = 0; i < 100 && killed === before; i++) await new Promise((r) => setTimeout(r, 20));
    assert.equal(killed, before + 1, 'the outcome\'s unit of work lost its connection');
    await reconcile();
    assert.equal((await call(gw, 'GET', `${wf}/${id}`, { token })).body.status, 'authorized');
    assert.deepEqual(executed, ['authorize']);
  });
});
