/**
 * The ledger over the wire, on SQLite and PostgreSQL: every money movement of both dialects posts
 * in the unit of work of its state change, balances come out as an accountant would compute them,
 * `ledger verify` passes on the live store (and fails, naming the invariant, when the books are
 * tampered with), and a change whose unit of work fails leaves neither its state nor its postings.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { manualClock } from '../src/runtime/clock.ts';
import type { PaymentObserver } from '../src/payments/change.ts';
import { opp, pay, postgresAvailable, startGateway, type Gateway } from './support/harness.ts';
import { authorizeBody, call, execution, instrument, poll, tokenOf, wf } from './support/executions.ts';
import { answer, openRedirect } from './support/shopper.ts';
import { cliEnv } from './support/cli.ts';

const success = '000.100.110';
const pgUp = await postgresAvailable();
const eur = (amount: string) => ({ amount, currency: 'EUR' });

/** The operator CLI against the gateway's own store. */
function ledgerCli(gw: Gateway, ...args: string[]) {
  return spawnSync(process.execPath, ['src/cli/main.ts', 'ledger', ...args], { env: cliEnv(gw), encoding: 'utf8' });
}

async function admin(gw: Gateway, path: string, token: string | null = gw.app.admin.token) {
  const res = await fetch(gw.url + '/admin/api' + path, { headers: token ? { authorization: `Bearer ${token}` } : {} });
  return { status: res.status, body: await res.json() as any };
}

for (const store of ['sqlite', 'postgres'] as const) {
  describe(`ledger on ${store}`, { skip: store === 'postgres' && !pgUp ? 'PostgreSQL unreachable' : false }, () => {
    const clock = manualClock(Date.now());
    let gw: Gateway;
    let failing: ((kind: string, status: string) => boolean) | undefined;
    // Registered after the ledger: a throw here fails the unit of work the ledger already posted in.
    const saboteur: PaymentObserver = {
      async paymentChanged(_tx, change) {
        if (failing?.(change.operation.kind, change.operation.status)) throw new Error('observer failed on purpose');
      },
    };
    before(async () => {
      gw = await startGateway({ clock, store });
      gw.app.payments.observe(saboteur);
    });
    after(async () => { await gw?.close(); });

    const backOffice = (id: string, paymentType: string, params: Record<string, string> = {}) =>
      opp(gw, 'POST', `/v1/payments/${id}`, { paymentType, ...params });
    const postings = async (paymentId: string) => (await admin(gw, `/ledger/payments/${paymentId}`)).body.postings as any[];
    const balances = async () => {
      const r = await admin(gw, `/ledger/balances?merchantId=${gw.merchant.merchantId}`);
      assert.equal(r.status, 200);
      return Object.fromEntries((r.body.balances as any[]).map((b) => [`${b.currency}/${b.pspAccountId}/${b.kind}`, b.balance]));
    };
    const verify = () => {
      const r = ledgerCli(gw, 'verify');
      assert.equal(r.status, 0, r.stderr);
      assert.match(r.stdout, /ledger ok/);
    };

    test('PA, partial CP, CP, RF, CB, CR: a hold posted in two parts, then money back and forth', async () => {
      const pa = await pay(gw, { paymentType: 'PA', amount: '100.00' });
      assert.equal(pa.body.result.code, success);
      const id = pa.body.id;
      assert.deepEqual((await postings(id)).map((p) => [p.phase, p.debit, p.credit, p.amount]), [['pending', 'authorized', 'holds', 10000]]);
      assert.equal((await backOffice(id, 'CP', eur('30.00'))).body.result.code, success);
      const cp = await backOffice(id, 'CP', eur('70.00'));
      assert.equal(cp.body.result.code, success);
      assert.equal((await backOffice(cp.body.id, 'RF', eur('20.00'))).body.result.code, success);
      const cb = await backOffice(cp.body.id, 'CB', eur('10.00'));
      assert.equal(cb.body.result.code, success);
      assert.equal((await backOffice(cb.body.id, 'CR', eur('10.00'))).body.result.code, success);
      const ps = await postings(id);
      assert.deepEqual(ps.map((p) => [p.phase, p.debit, p.credit, p.amount]), [
        ['pending', 'authorized', 'holds', 10000],
        ['posted', 'holds', 'authorized', 3000], ['posted', 'receivable', 'payable', 3000],
        ['posted', 'holds', 'authorized', 7000], ['posted', 'receivable', 'payable', 7000],
        ['posted', 'refunds', 'receivable', 2000],
        ['posted', 'chargebacks', 'receivable', 1000],
        ['posted', 'receivable', 'chargebacks', 1000],
      ]);
      assert.ok(ps.slice(0, 5).every((p) => p.transferId === id), 'the captures post the authorization\'s own transfer');
      assert.ok(ps.every((p) => p.currency === 'EUR' && p.merchantId === gw.merchant.merchantId));
      verify();
    });

    test('DB then a full RF; PA then RV voids the whole hold', async () => {
      const db = await pay(gw, { paymentType: 'DB', amount: '92.00' });
      assert.equal((await backOffice(db.body.id, 'RF', eur('92.00'))).body.result.code, success);
      assert.deepEqual((await postings(db.body.id)).map((p) => [p.phase, p.debit, p.credit, p.amount]), [
        ['posted', 'receivable', 'payable', 9200], ['posted', 'refunds', 'receivable', 9200],
      ]);
      const pa = await pay(gw, { paymentType: 'PA', amount: '50.00' });
      assert.equal((await backOffice(pa.body.id, 'RV')).body.result.code, success);
      assert.deepEqual((await postings(pa.body.id)).map((p) => [p.phase, p.debit, p.credit, p.amount]), [
        ['pending', 'authorized', 'holds', 5000], ['voided', 'holds', 'authorized', 5000],
      ]);
      verify();
    });

    test('executions: authorize, partial capture, cancel refunds the capture and voids the rest', async () => {
      const token = await tokenOf(gw);
      const inst = await instrument(gw, token);
      const id = await execution(gw, token);
      assert.equal((await call(gw, 'POST', `${wf}/${id}/authorize`, { token, body: authorizeBody(inst, '100.00') })).status, 200);
      assert.equal((await poll(gw, token, id, ['created', 'authorizeRequested'])).status, 'authorized');
      assert.equal((await call(gw, 'POST', `${wf}/${id}/capture`, { token, body: { amount: { value: '30.00', currency: 'EUR' }, final: false } })).status, 202);
      assert.equal((await call(gw, 'POST', `${wf}/${id}/cancel`, { token, body: { reason: 'NoReason' } })).status, 202);
      await gw.app.payments.idle();
      assert.equal((await call(gw, 'GET', `${wf}/${id}`, { token })).body.status, 'cancelled');
      const paymentId = (await gw.app.storage.db.selectFrom('executions').select('payment_id').where('id', '=', id).executeTakeFirstOrThrow()).payment_id!;
      const ps = await postings(paymentId);
      assert.deepEqual(ps.map((p) => [p.phase, p.debit, p.credit, p.amount]).sort(), [
        ['pending', 'authorized', 'holds', 10000],
        ['posted', 'holds', 'authorized', 3000], ['posted', 'receivable', 'payable', 3000],
        ['posted', 'refunds', 'receivable', 3000],
        ['voided', 'holds', 'authorized', 7000],
      ].sort());
      verify();
    });

    test('a bank transfer: the hold posts when its receipt arrives', async () => {
      const bank = await opp(gw, 'POST', '/v1/payments', {
        amount: '120.00', currency: 'EUR', paymentType: 'PA', paymentBrand: 'SOFORTUEBERWEISUNG', 'bankAccount.country': 'DE',
        'bankAccount.bankName': 'Testbank', shopperResultUrl: 'https://shop.example/result',
      });
      assert.deepEqual(await postings(bank.body.id), [], 'nothing is held before the shopper confirms');
      await answer(await openRedirect(bank.body.redirect), 'completed');
      assert.equal((await backOffice(bank.body.id, 'RC', eur('120.00'))).body.result.code, success);
      assert.deepEqual((await postings(bank.body.id)).map((p) => [p.phase, p.debit, p.credit, p.amount]), [
        ['pending', 'authorized', 'holds', 12000], ['posted', 'holds', 'authorized', 12000], ['posted', 'receivable', 'payable', 12000],
      ]);
      verify();
    });

    test('balances per account: what the PSP owes, what the merchant is owed, what went back', async () => {
      assert.deepEqual(await balances(), {
        'EUR/default/authorized': 0,
        'EUR/default/holds': 0,
        // 100 + 92 + 30 + 120 captured, less refunds 20 + 92 + 30, chargeback 10 reversed
        'EUR/default/receivable': 20000,
        'EUR/default/payable': -34200,
        'EUR/default/refunds': 14200,
        'EUR/default/chargebacks': 0,
      });
      const cli = ledgerCli(gw, 'balances', '--merchant', gw.merchant.merchantId, '--json');
      assert.equal(cli.status, 0, cli.stderr);
      const json = JSON.parse(cli.stdout);
      assert.equal(json.balances.find((b: any) => b.kind === 'payable').balance, -34200);
      const text = ledgerCli(gw, 'balances', '--merchant', gw.merchant.merchantId);
      assert.match(text.stdout, /EUR\s+default\s+payable\s+-342\.00/);
      assert.equal(ledgerCli(gw, 'balances').status, 2, '--merchant is required');
    });

    test('admin API: the operator token is required; a merchant is required', async () => {
      assert.equal((await admin(gw, `/ledger/balances?merchantId=${gw.merchant.merchantId}`, null)).status, 401);
      assert.equal((await admin(gw, `/ledger/payments/x`, 'wrong')).status, 401);
      const r = await admin(gw, '/ledger/balances');
      assert.equal(r.status, 400);
      assert.equal(r.body.error.code, 'merchant_required');
    });

    test('a change whose unit of work fails leaves neither its state nor its postings; the reconciler posts it later', async () => {
      const pa = await pay(gw, { paymentType: 'PA', amount: '40.00' });
      const id = pa.body.id;
      failing = (kind, status) => kind === 'capture' && status === 'succeeded';
      try {
        const cp = await backOffice(id, 'CP', eur('40.00'));
        assert.notEqual(cp.body?.result?.code, success, 'the capture cannot be reported done');
      } finally { failing = undefined; }
      const caps = await gw.app.storage.db.selectFrom('transactions').select(['status']).where('payment_id', '=', id).where('type', '=', 'capture').execute();
      assert.equal(caps.length, 1, 'the capture\'s intent committed before the PSP call');
      assert.notEqual(caps[0]!.status, 'succeeded', 'its success rolled back with the postings');
      assert.deepEqual((await postings(id)).map((p) => p.phase), ['pending'], 'no capture posted');
      verify();
      // The PSP did capture: the reconciler asks it and records the outcome, postings and all, in one unit of work.
      clock.advance(10 * 60_000);
      await gw.app.payments.reconcile();
      await gw.app.payments.idle();
      assert.equal((await opp(gw, 'GET', `/v1/query/${id}`)).body.result.code, success);
      const after = (await postings(id)).map((p) => [p.phase, p.debit, p.amount]);
      assert.deepEqual(after, [['pending', 'authorized', 4000], ['posted', 'holds', 4000], ['posted', 'receivable', 4000]]);
      verify();
    });

    test('ledger verify names the first broken invariant of tampered books', async () => {
      const pa = await pay(gw, { paymentType: 'DB', amount: '5.00' });
      await gw.app.storage.db.deleteFrom('postings').where('payment_id', '=', pa.body.id).execute();
      const r = ledgerCli(gw, 'verify');
      assert.equal(r.status, 1);
      assert.match(r.stderr, new RegExp(`ledger broken: payment: ${pa.body.id} authorized is 0 in the ledger but 500`));
    });
  });
}
