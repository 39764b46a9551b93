/**
 * Regression tests of issue 17's money defects, over HTTP against the real server, each on SQLite
 * and on PostgreSQL. The books are checked after each by the independent invariant checker.
 *
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { manualClock } from '../src/runtime/clock.ts';
import { createSimulatedAcquirer } from '../src/processors/simulator/connector.ts';
import type { Connector, ConnectorRequest } from '../src/processors/connector.ts';
import { opp, pay, postgresAvailable, startGateway, testCard, type Gateway } from './support/harness.ts';
import { authorizeBody, call, configureCascade, execution, instrument, poll, tokenOf, wf } from './support/executions.ts';
import { answer, openRedirect } from './support/shopper.ts';
import { checkInvariants, describeViolations, type InvariantOptions } from './support/invariants.ts';
import { demoCredentials, startGatewayProcess, type GatewayProcess } from './support/process.ts';
import { processStore, type StoreKind } from './support/stores.ts';

const success = '000.100.110';
const pgUp = await postgresAvailable();
const stores: StoreKind[] = ['sqlite', 'postgres'];
const skipOf = (store: StoreKind) => (store === 'postgres' && !pgUp ? 'PostgreSQL unreachable' : false);

/**
 * The periodic jobs `src/app.ts` registers (reconciler, purge, the asynchronous sweep), run once
 * each, and the background work they start. One place to follow when the jobs change.
 */
async function runJobs(gw: Gateway): Promise<void> {
  await gw.app.payments.reconcile();
  await gw.app.payments.idle();
  await gw.app.idempotency.purge();
  await gw.app.payments.expireAwaiting();
  await gw.app.payments.confirmBankTransfers();
}

async function assertBooks(gw: Gateway, options: InvariantOptions = {}) {
  const v = await checkInvariants(gw.app.storage.db, options);
  assert.deepEqual(v, [], describeViolations(v));
}

const backOffice = (gw: Gateway, id: string, paymentType: string, params: Record<string, string> = {}) =>
  opp(gw, 'POST', `/v1/payments/${id}`, { paymentType, ...params });
const eur = (amount: string) => ({ amount, currency: 'EUR' });

/**
 * The default acquirer with PSP latency; a request carrying `customParameters[SHOPPER_lose]` is
 * processed but its answer is lost, and one carrying `SHOPPER_settle` is pending at first and
 * reported final by the PSP's status API after it has been asked twice.
 */
function testAcquirer(latencyMs: number) {
  const normal = createSimulatedAcquirer({ latencyMs, jitterMs: 0, timeoutRate: 0, errorRate: 0 });
  const lossy = createSimulatedAcquirer({ latencyMs: 0, jitterMs: 0, timeoutRate: 1, errorRate: 0 });
  const settling = new Map<string, number>();
  const lookups = new Map<string, number>();
  const processor: Connector = {
    name: 'test-acquirer',
    operations: normal.operations,
    // A simulated PSP, as the one it wraps: it takes the simulated bank's transfers too.
    simulated: true,
    execute(req: ConnectorRequest) {
      if (req.testParameters['SHOPPER_settle']) settling.set(req.attemptId, 0);
      return req.testParameters['SHOPPER_lose'] ? lossy.execute(req) : normal.execute(req);
    },
    async lookup(id: string) {
      lookups.set(id, (lookups.get(id) ?? 0) + 1);
      const known = (await lossy.lookup(id)) ?? (await normal.lookup(id));
      const asked = settling.get(id);
      if (known && asked !== undefined) {
        settling.set(id, asked + 1);
        if (asked + 1 >= 2) return { kind: 'approved' as const, pspReference: known.pspReference, acquirerCode: success, details: {} };
      }
      return known;
    },
  };
  /** PSP calls made (lost ones included). */
  const calls = () => normal.received.size + lossy.received.size;
  return { processor, calls, lookups, received: normal.received };
}

for (const store of stores) {
  describe(`money safety on ${store}`, { skip: skipOf(store) }, () => {
    const clock = manualClock(Date.now());
    const acquirer = testAcquirer(300);
    let gw: Gateway;
    before(async () => {
      gw = await startGateway({ store, clock, processor: acquirer.processor, env: { SWITCHYARD_PSP_TIMEOUT_MS: '2000', SWITCHYARD_ASYNC_TIMEOUT_MS: '600000' } });
    });
    after(() => gw?.close());

    test('defect 1: RV and CP racing on one authorization: exactly one wins, the other is refused before any PSP call', async () => {
      // A gateway of its own: today the race leaves a row that breaks the reconciler for everyone.
      const own = testAcquirer(300);
      const g = await startGateway({ store, processor: own.processor });
      try {
        for (let round = 0; round < 4; round++) {
          const pa = await pay(g, { paymentType: 'PA', amount: '100.00' });
          assert.equal(pa.body.result.code, success);
          const callsBefore = own.calls();
          const [rv, cp] = await Promise.all([backOffice(g, pa.body.id, 'RV'), backOffice(g, pa.body.id, 'CP', eur('60.00'))]);
          for (const r of [rv, cp]) assert.ok(r.status < 500, `no 5xx: ${JSON.stringify(r.body)}`);
          const won = [rv, cp].filter((r) => r.body.result.code === success);
          assert.equal(won.length, 1, `exactly one wins: RV ${rv.body.result.code}, CP ${cp.body.result.code}`);
          const lost = won[0] === rv ? cp : rv;
          assert.equal(lost.status, 400);
          assert.match(lost.body.result.code, /^700\./, 'refused with a back-office rule code');
          assert.equal(own.calls() - callsBefore, 1, 'the refused operation never reached the PSP');
          const txs = await g.app.storage.db.selectFrom('transactions').select(['type', 'status']).where('payment_id', '=', pa.body.id).execute();
          assert.deepEqual(txs.filter((t) => t.status === 'pending' || t.status === 'unknown'), [], 'nothing left pending');
        }
        const v = await checkInvariants(g.app.storage.db);
        assert.deepEqual(v, [], describeViolations(v));
      } finally {
        await g.close();
      }
    });

    test('defect 1: a row the reconciler cannot settle does not stop the jobs for anyone else', async () => {
      const own = testAcquirer(0);
      const c = manualClock(Date.now());
      const g = await startGateway({ store, clock: c, processor: own.processor, env: { SWITCHYARD_PSP_TIMEOUT_MS: '2000' } });
      try {
        // The state the race left behind: a capture in flight on a reversed authorization, which
        // the PSP reports approved.
        const pa = await pay(g, { paymentType: 'PA', amount: '100.00' });
        const cp = await backOffice(g, pa.body.id, 'CP', { ...eur('60.00'), 'customParameters[SHOPPER_lose]': '1' });
        assert.equal(cp.body.result.code, '900.100.300');
        await g.app.storage.db.updateTable('transactions').set({ status: 'failed', result_code: '900.100.400' }).where('id', '=', cp.body.id).execute();
        assert.equal((await backOffice(g, pa.body.id, 'RV')).body.result.code, success);
        await g.app.storage.db.updateTable('transactions').set({ status: 'unknown', result_code: '900.100.300' }).where('id', '=', cp.body.id).execute();
        // Another payment whose PSP answer is lost, and an execution whose authorization is lost.
        const lostPay = await pay(g, { paymentType: 'PA', amount: '10.00', 'customParameters[SHOPPER_lose]': '1' });
        assert.equal(lostPay.body.result.code, '900.100.300');
        const token = await tokenOf(g);
        await configureCascade(g, { 'psp-lossy': { timeouts: [{ amounts: [4242] }] } }, ['psp-lossy']);
        const inst = await instrument(g, token);
        const exec = await execution(g, token);
        await call(g, 'POST', `${wf}/${exec}/authorize`, { token, body: authorizeBody(inst, '42.42') });
        assert.equal((await poll(g, token, exec, ['authorizeRequested'])).status, 'unknown');
        c.advance(60_000);
        await runJobs(g);
        await runJobs(g);
        assert.equal((await opp(g, 'GET', `/v1/query/${lostPay.body.id}`)).body.result.code, success, 'the lost answer was reconciled');
        assert.equal((await call(g, 'GET', `${wf}/${exec}`, { token })).body.status, 'authorized', 'the execution was resumed');
      } finally {
        await g.close();
      }
    });

    test('defect 2: 20 parallel DB with one merchantTransactionId on a unique-id entity: exactly one approved', async () => {
      const strict = await gw.app.merchants.create({ name: 'Strict', uniqueMerchantTransactionId: true });
      const sgw = { url: gw.url, merchant: strict };
      for (let round = 0; round < 3; round++) {
        const mtx = `order-race-${round}`;
        const params = { ...testCard, amount: '10.00', currency: 'EUR', paymentType: 'DB', merchantTransactionId: mtx };
        const all = await Promise.all(Array.from({ length: 20 }, () => opp(sgw, 'POST', '/v1/payments', params)));
        for (const r of all) assert.ok(r.status < 500, JSON.stringify(r.body));
        const approved = all.filter((r) => r.body.result.code === success);
        assert.equal(approved.length, 1, `round ${round}: ${approved.length} approved`);
        for (const r of all) if (r !== approved[0]) assert.equal(r.body.result.code, '800.130.100');
      }
      const v = (await checkInvariants(gw.app.storage.db, { merchantIds: [strict.merchantId] })).filter((x) => x.rule === 'duplicate_merchant_transaction_id');
      assert.deepEqual(v, []);
    });

    test('defect 3: after a cascade approves at a merchant\'s own PSP account, capture and refund go to that account', async () => {
      const token = await tokenOf(gw);
      await configureCascade(gw, { 'psp-soft': { declines: [{ category: 'soft', amountAtLeast: 0 }] }, 'psp-own': {} }, ['psp-soft', 'psp-own']);
      const inst = await instrument(gw, token);
      const id = await execution(gw, token);
      const before = new Set(gw.app.simulator.received.keys());
      const defaultBefore = new Set(acquirer.received.keys());
      await call(gw, 'POST', `${wf}/${id}/authorize`, { token, body: authorizeBody(inst, '50.00') });
      const e = await poll(gw, token, id, ['authorizeRequested']);
      assert.equal(e.status, 'authorized');
      assert.deepEqual(e.paymentComposition[0].attempts.map((a: any) => [a.pspAccount, a.status]), [['psp-soft', 'failed'], ['psp-own', 'succeeded']]);
      assert.equal((await call(gw, 'POST', `${wf}/${id}/capture`, { token, body: { amount: { value: '50.00', currency: 'EUR' } } })).status, 202);
      assert.equal((await call(gw, 'POST', `${wf}/${id}/refund`, { token, body: { amount: { value: '20.00', currency: 'EUR' } } })).status, 202);
      const calls = [...gw.app.simulator.received].filter(([k]) => !before.has(k)).map(([, c]) => c);
      const auth = calls.filter((c) => c.operation === 'authorize');
      assert.equal(auth.length, 2);
      const own = auth[1]!.accountId;
      assert.deepEqual(calls.filter((c) => c.operation !== 'authorize').map((c) => [c.operation, c.accountId, c.amount.amount]),
        [['capture', own, 5000], ['refund', own, 2000]], 'follow-ups went to the account holding the authorization');
      const toDefault = [...acquirer.received].filter(([k]) => !defaultBefore.has(k)).map(([, r]) => r.operation);
      assert.deepEqual(toDefault, [], 'nothing went to the default acquirer');
      // /v1 payments follow the cascade too: the tests below expect the default acquirer again.
      await configureCascade(gw, {}, []);
    });

    test('defect 5: RC on a card authorization is refused and captures nothing; RC still confirms a bank transfer', async () => {
      const pa = await pay(gw, { paymentType: 'PA', amount: '100.00' });
      const callsBefore = acquirer.calls();
      const rc = await backOffice(gw, pa.body.id, 'RC', eur('100.00'));
      assert.equal(rc.status, 400, JSON.stringify(rc.body.result));
      assert.match(rc.body.result.code, /^700\.400\./);
      assert.equal((await backOffice(gw, pa.body.id, 'RF', eur('10.00'))).body.result.code, '700.400.520', 'nothing was captured to refund');
      assert.equal((await backOffice(gw, pa.body.id, 'CP', eur('100.00'))).body.result.code, success, 'the real capture goes through');
      assert.equal(acquirer.calls() - callsBefore, 1, 'only the capture reached the PSP');
      const bank = await opp(gw, 'POST', '/v1/payments', {
        amount: '120.00', currency: 'EUR', paymentType: 'PA', paymentBrand: 'SOFORTUEBERWEISUNG', 'bankAccount.country': 'DE',
        'bankAccount.bankName': 'Testbank', shopperResultUrl: 'https://shop.example/result',
      });
      await answer(await openRedirect(bank.body.redirect), 'completed');
      const receipt = await backOffice(gw, bank.body.id, 'RC', eur('120.00'));
      assert.equal(receipt.body.result.code, success);
      assert.equal((await backOffice(gw, receipt.body.id, 'RF', eur('120.00'))).body.result.code, success);
      await assertBooks(gw, { merchantIds: [gw.merchant.merchantId] });
    });

    test('defect 6: a pending PSP answer is asked about again until final', async () => {
      const r = await pay(gw, { paymentType: 'PA', amount: '30.00', 'customParameters[forceResultCode]': '800.400.500', 'customParameters[SHOPPER_settle]': '1' });
      assert.equal(r.body.result.code, '800.400.500');
      const id = r.body.id;
      for (let i = 0; i < 60 && (await opp(gw, 'GET', `/v1/query/${id}`)).body.result.code !== success; i++) {
        clock.advance(10_000);
        await runJobs(gw);
      }
      assert.equal((await opp(gw, 'GET', `/v1/query/${id}`)).body.result.code, success, 'the PSP\'s final answer was fetched');
      assert.ok((acquirer.lookups.get(id) ?? 0) >= 2, 'asked more than once');
      assert.equal((await backOffice(gw, id, 'CP', eur('30.00'))).body.result.code, success);
    });

    for (const [what, code] of [['capture', '800.400.500'], ['refund', '100.400.500'], ['authorization', '000.200.000']] as const) {
      test(`defect 6: a ${what} still pending (${code}) after SWITCHYARD_ASYNC_TIMEOUT_MS expires with 100.396.103 and releases its amount`, async () => {
        const force = { 'customParameters[forceResultCode]': code };
        let pending: string;
        let retry: () => Promise<string>;
        if (what === 'authorization') {
          const r = await pay(gw, { paymentType: 'PA', amount: '30.00', ...force });
          pending = r.body.id;
          retry = async () => (await backOffice(gw, pending, 'CP', eur('30.00'))).body.result.code;
        } else {
          const base = await pay(gw, { paymentType: what === 'capture' ? 'PA' : 'DB', amount: '30.00' });
          const type = what === 'capture' ? 'CP' : 'RF';
          const r = await backOffice(gw, base.body.id, type, { ...eur('30.00'), ...force });
          assert.equal(r.body.result.code, code);
          pending = r.body.id;
          assert.match((await backOffice(gw, base.body.id, type, eur('30.00'))).body.result.code, /^700\./, 'the pending amount is reserved');
          retry = async () => (await backOffice(gw, base.body.id, type, eur('30.00'))).body.result.code;
        }
        clock.advance(gw.app.config.asyncTimeoutMs + 60_000);
        await runJobs(gw);
        await runJobs(gw);
        const q = await opp(gw, 'GET', `/v1/query/${pending}`);
        assert.equal(q.body.result.code, '100.396.103');
        if (what === 'authorization') assert.equal(await retry(), '700.400.510', 'an expired authorization captures nothing');
        else assert.equal(await retry(), success, 'the reserved amount was released');
        await assertBooks(gw, { inFlightMaxAgeMs: gw.app.config.asyncTimeoutMs, merchantIds: [gw.merchant.merchantId], now: clock.now() });
      });
    }

    test('defect 4: a gateway killed during a capture leaves no execution in captureRequested', async () => {
      await crashDuringCapture(store);
    });
  });
}

/**
 * A real gateway (`node src/main.ts`) is SIGKILLed while a capture is at the PSP. After restart the
 * capture is reconciled (the PSP never finished it) and the execution must say so: captureFailed,
 * from where a new capture can be made.
 */
async function crashDuringCapture(kind: StoreKind) {
  const st = await processStore(kind);
  // Every PSP answers after 900 ms (account and default acquirer alike), within the 1 s PSP timeout.
  // A job the killed gateway was running (the reconciler's pass, every second here) stays claimed
  // until its lease lapses: the lease is shortened with the PSP timeout, or the reconciler would
  // first run up to the default 30 s after the restart.
  const env = { ...st.env, SWITCHYARD_PSP_TIMEOUT_MS: '1000', SWITCHYARD_SIM_LATENCY_MS: '900', SWITCHYARD_JOB_LEASE_MS: '4000' };
  let proc: GatewayProcess | undefined;
  try {
    proc = await startGatewayProcess(env);
    const merchantId = /merchantId\s+([0-9a-f]{32})/.exec(proc.output())![1]!;
    let gw = { url: proc.url, merchant: { ...demoCredentials(st.dataDir), merchantId }, dataDir: st.dataDir } as unknown as Gateway;
    await configureCascade(gw, { 'psp-slow': { latencyMs: 900 } }, ['psp-slow']);
    let token = await tokenOf(gw);
    const inst = await instrument(gw, token);
    const id = await execution(gw, token);
    await call(gw, 'POST', `${wf}/${id}/authorize`, { token, body: authorizeBody(inst) });
    assert.equal((await poll(gw, token, id, ['authorizeRequested'])).status, 'authorized');
    const capturing = call(gw, 'POST', `${wf}/${id}/capture`, { token, body: { amount: { value: '129.90', currency: 'EUR' } } }).catch(() => undefined);
    for (let i = 0; i < 200; i++) {
      if ((await call(gw, 'GET', `${wf}/${id}`, { token })).body.status === 'captureRequested') break;
      await sleep(10);
    }
    await sleep(200);
    await proc.stop('SIGKILL');
    await capturing;

    proc = await startGatewayProcess(env);
    gw = { ...gw, url: proc.url } as Gateway;
    token = await tokenOf(gw);
    let e: any;
    const deadline = Date.now() + 20_000;
    do {
      await sleep(500);
      e = (await call(gw, 'GET', `${wf}/${id}`, { token })).body;
    } while (e.status === 'captureRequested' && Date.now() < deadline);
    assert.equal(e.status, 'captureFailed', `${JSON.stringify(e.statusHistory)}\n${proc.output()}`);
    const again = await call(gw, 'POST', `${wf}/${id}/capture`, { token, body: { amount: { value: '129.90', currency: 'EUR' } } });
    assert.equal(again.status, 202, JSON.stringify(again.body));
    assert.equal((await call(gw, 'GET', `${wf}/${id}`, { token })).body.status, 'captured');
    await proc.stop('SIGTERM');
    proc = undefined;
    const { db, close } = await st.open();
    try {
      const v = await checkInvariants(db, { inFlightMaxAgeMs: 0 });
      assert.deepEqual(v, [], describeViolations(v));
    } finally { await close(); }
  } finally {
    await proc?.stop('SIGKILL');
    await st.drop();
  }
}
