/**
 * Settlement reconciliation over a generated day (issue 12): a few thousand payments through the
 * engine at a merchant's simulated PSP account, its daily report with each kind of discrepancy
 * injected once, imported through the CLI. Every discrepancy is reported exactly once, every other
 * line matched, the payout equals the sum of the nets, the books still verify, a second import
 * changes nothing, and resolving a discrepancy closes it and tells the merchant's webhooks.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { manualClock } from '../src/runtime/clock.ts';
import { Cvv, Pan } from '../src/vault/card.ts';
import type { Currency } from '../src/money/money.ts';
import type { Merchant } from '../src/merchants/model.ts';
import type { Scope } from '../src/payments/service.ts';
import { parseSettlementReport } from '../src/processors/settlement-report.ts';
import type { SettlementAccount } from '../src/ledger/store.ts';
import { settlementInjections } from '../src/processors/simulator/settlement.ts';
import { postgresAvailable, startGateway, testPostgresUrl, type Gateway } from './support/harness.ts';

const pgUp = await postgresAvailable();
// A few thousand on the embedded store; PostgreSQL runs the same day smaller (its store code is the same Kysely).
const sizes = { sqlite: Number(process.env.SETTLEMENT_PAYMENTS ?? 2000), postgres: Number(process.env.SETTLEMENT_PAYMENTS_PG ?? 300) };
const dayStart = Date.UTC(2026, 2, 10);
const card = () => ({ pan: new Pan('4200000000000000'), cvv: new Cvv('123'), holder: 'Jane Jones', expiryMonth: '05', expiryYear: '2034', brand: 'VISA' as const });

function cli(gw: Gateway, ...args: string[]) {
  const env: Record<string, string> = { ...process.env as Record<string, string>, SWITCHYARD_DATA_DIR: gw.dataDir };
  delete env.DATABASE_URL;
  const storage = gw.app.config.storage;
  if (storage.kind === 'postgres') {
    const url = new URL(testPostgresUrl);
    url.searchParams.set('options', `-c search_path=${storage.schema}`);
    env.DATABASE_URL = url.toString();
  }
  return spawnSync(process.execPath, ['src/cli/main.ts', ...args], { env, encoding: 'utf8', maxBuffer: 256 * 1024 * 1024 });
}

async function admin(gw: Gateway, method: string, path: string, body?: unknown) {
  const res = await fetch(gw.url + '/admin/api' + path, {
    method, headers: { authorization: `Bearer ${gw.app.admin.token}`, ...(body ? { 'content-type': 'application/json' } : {}) },
    ...(body ? { body: JSON.stringify(body) } : {}),
  });
  return { status: res.status, body: await res.json() as any };
}

for (const store of ['sqlite', 'postgres'] as const) describe(`settlement reconciliation of a generated day (${store})`, { skip: store === 'postgres' && !pgUp ? 'PostgreSQL unreachable' : false }, () => {
  const payments = sizes[store];
  const clock = manualClock(dayStart + 60_000);
  let gw: Gateway;
  let merchant: Merchant;
  let scope: Scope;
  before(async () => {
    gw = await startGateway({ clock, store });
    merchant = (await gw.app.merchants.byId(gw.merchant.merchantId))!;
    scope = { channel: 'opp', entityId: gw.merchant.entityId };
    const put = await gw.app.workflows.putAccount(merchant.id, 'acq', { connector: 'simulator', settings: { fees: { captureBps: 120, captureFixed: 25, refundFixed: 10, chargebackFixed: 1500 } } });
    assert.ok(put.ok);
    assert.ok((await gw.app.workflows.configure(merchant.id, 'payment-acceptance', { accounts: ['acq'] })).ok);
  });
  after(async () => { await gw?.close(); });

  test(`${payments} payments in three currencies, each discrepancy once, then a no-op second import`, { timeout: 600_000 }, async () => {
    const currencies = ['EUR', 'USD', 'JPY'] as Currency[];
    const base = { merchant, scope, returnUrls: [], merchantTransactionId: undefined, context: {}, testParameters: {}, workflowCode: 'payment-acceptance' };
    const follow = (kind: 'capture' | 'refund' | 'chargeback', id: string, amount: number, currency: Currency) =>
      gw.app.payments.followUp({ merchant, scope, kind, referencedId: id, amount: { amount, currency }, merchantTransactionId: undefined, context: {}, testParameters: {} });
    const work = Array.from({ length: payments }, (_, i) => async () => {
      const currency = currencies[i % 3]!;
      const amount = 1000 + ((i * 7919) % 50_000);
      const sale = i % 2 === 0;
      const r = await gw.app.payments.pay({ ...base, kind: sale ? 'sale' : 'authorize', amount: { amount, currency }, card: card() });
      assert.ok(r.ok && r.value.operation.status === 'succeeded', JSON.stringify(r));
      const id = r.value.payment.id;
      if (!sale) assert.ok((await follow('capture', id, amount - 100, currency)).ok);
      if (i % 5 === 0) assert.ok((await follow('refund', sale ? id : (await gw.app.payments.details(id))!.operations.at(-1)!.id, 300, currency)).ok);
      if (i % 97 === 0) assert.ok((await follow('chargeback', id, 200, currency)).ok);
    });
    for (let i = 0; i < work.length; i += 16) await Promise.all(work.slice(i, i + 16).map((w) => w()));

    const file = join(gw.dataDir, 'report.json');
    const made = cli(gw, 'settlement-report', '--psp-account', 'acq', '--day', '2026-03-10', '--inject', settlementInjections.join(','), '--out', file);
    assert.equal(made.status, 0, made.stderr);
    const injected = new Map([...made.stderr.matchAll(/injected (\S+) at (\S+)/g)].map((m) => [m[1]!, m[2]!]));
    assert.deepEqual([...injected.keys()].sort(), [...settlementInjections].sort());
    const parsed = parseSettlementReport(readFileSync(file, 'utf8'));
    assert.ok(parsed.ok);
    const report = parsed.value;
    assert.ok(report.lines.length > payments, `${report.lines.length} lines`);
    for (const p of report.payouts) {
      assert.equal(p.amount, report.lines.filter((l) => l.currency === p.currency).reduce((s, l) => s + l.net, 0), `payout ${p.currency} is the sum of its nets`);
    }
    const capture = report.lines.find((l) => l.type === 'capture' && !injected.has(l.reference) && l.currency === 'EUR')!;
    assert.equal(capture.fee, Math.round(capture.gross * 120 / 10_000) + 25, 'the account\'s own fees');

    const first = cli(gw, 'reconcile', '--psp-account', 'acq', '--file', file, '--json');
    assert.equal(first.status, 0, first.stderr);
    const out = JSON.parse(first.stdout);
    assert.equal(out.imported, true);
    const kinds = (out.discrepancies as any[]).map((d) => `${d.kind}@${d.reference}`).sort();
    assert.deepEqual(kinds, [...injected].map(([k, ref]) => `${k}@${ref}`).sort(), 'each injected discrepancy exactly once, nothing else');
    // Every line but the three the report got wrong is matched (the missing one is not in it).
    assert.equal(out.summary.matched, report.lines.length - 3);
    for (const p of out.summary.payouts) {
      const wrong = report.lines.filter((l) => l.currency === p.currency && injected.get('amount_mismatch') === l.reference || (l.currency === p.currency && ['unknown_reference', 'late_chargeback'].some((k) => injected.get(k) === l.reference && (k !== 'late_chargeback' || l.type === 'chargeback'))));
      assert.equal(p.matchedNet + wrong.reduce((s, l) => s + l.net, 0), p.reported, `${p.currency}: matched nets and the disputed lines make the payout`);
    }
    const verify = cli(gw, 'ledger', 'verify');
    assert.equal(verify.status, 0, verify.stderr);
    // Matched captures left nothing receivable; the fees and the settled money are in the books.
    const balances = await gw.app.ledger.balances(merchant.id);
    const eurFees = balances.find((b) => b.currency === 'EUR' && b.kind === 'fees')!.balance;
    assert.equal(eurFees, out.summary.payouts.find((p: any) => p.currency === 'EUR').fees);
    const settledEur = balances.find((b) => b.currency === 'EUR' && b.kind === 'settled')!.balance;
    assert.equal(settledEur, out.summary.payouts.find((p: any) => p.currency === 'EUR').matchedNet);

    const postingsBefore = (await gw.app.storage.db.selectFrom('postings').select((eb) => eb.fn.countAll().as('n')).executeTakeFirstOrThrow()).n;
    const outboxBefore = (await gw.app.storage.db.selectFrom('outbox').select((eb) => eb.fn.countAll().as('n')).executeTakeFirstOrThrow()).n;
    const second = cli(gw, 'reconcile', '--psp-account', 'acq', '--file', file, '--json');
    assert.equal(second.status, 0, second.stderr);
    const again = JSON.parse(second.stdout);
    assert.equal(again.imported, false);
    assert.deepEqual(again.summary, out.summary);
    assert.equal((await gw.app.storage.db.selectFrom('postings').select((eb) => eb.fn.countAll().as('n')).executeTakeFirstOrThrow()).n, postingsBefore);
    assert.equal((await gw.app.storage.db.selectFrom('outbox').select((eb) => eb.fn.countAll().as('n')).executeTakeFirstOrThrow()).n, outboxBefore);
    assert.equal((await gw.app.settlement.discrepancies({ status: 'open' })).length, 4);

    // Each discrepancy raised one event for the merchant's executions webhooks.
    const events = await gw.app.storage.db.selectFrom('outbox').selectAll().where('type', '=', 'execution.settlementDiscrepancyOpened').execute();
    assert.equal(events.length, 4);
    assert.deepEqual(events.map((e) => JSON.parse(e.payload).details.kind).sort(), [...settlementInjections].sort());

    // Resolved through the admin API: closed once, announced, and not resolvable twice.
    const open = await admin(gw, 'GET', '/ledger/discrepancies?status=open');
    assert.equal(open.body.discrepancies.length, 4);
    const target = open.body.discrepancies.find((d: any) => d.kind === 'late_chargeback');
    const resolved = await admin(gw, 'POST', `/ledger/discrepancies/${target.id}/resolve`, { note: 'chargeback recorded by hand' });
    assert.equal(resolved.status, 200, JSON.stringify(resolved.body));
    assert.equal(resolved.body.status, 'resolved');
    assert.equal((await admin(gw, 'POST', `/ledger/discrepancies/${target.id}/resolve`, { note: 'again' })).status, 404);
    assert.equal((await admin(gw, 'GET', '/ledger/discrepancies?status=open')).body.discrepancies.length, 3);
    assert.equal((await gw.app.storage.db.selectFrom('outbox').selectAll().where('type', '=', 'execution.settlementDiscrepancyResolved').execute()).length, 1);
    const viaCli = cli(gw, 'ledger', 'resolve', '--id', open.body.discrepancies.find((d: any) => d.kind === 'missing_line').id, '--note', 'next report');
    assert.equal(viaCli.status, 0, viaCli.stderr);

    // The admin API imports the same report as a no-op too.
    const viaApi = await admin(gw, 'POST', '/ledger/reconciliations', { pspAccount: 'acq', report: JSON.parse(readFileSync(file, 'utf8')) });
    assert.equal(viaApi.status, 200);
    assert.equal(viaApi.body.imported, false);
  });

  test('exports of postings by time, as CSV and JSON, over the CLI and the admin API', async () => {
    const json = await fetch(`${gw.url}/admin/api/ledger/postings?from=2026-03-10&to=2026-03-11&merchantId=${merchant.id}`, { headers: { authorization: `Bearer ${gw.app.admin.token}` } });
    assert.equal(json.status, 200);
    const body = await json.json() as any;
    // The day's postings; the settlement ones the CLI made carry its own (real) clock's time.
    const all = await gw.app.storage.db.selectFrom('postings').select((eb) => eb.fn.countAll().as('n'))
      .where('created_at', '>=', dayStart).where('created_at', '<', dayStart + 86_400_000).executeTakeFirstOrThrow();
    assert.ok(Number(all.n) > payments);
    assert.equal(body.postings.length, Number(all.n));
    const csv = cli(gw, 'ledger', 'export', '--from', '2026-03-10T00:00:00Z', '--to', '2026-03-11', '--format', 'csv');
    assert.equal(csv.status, 0, csv.stderr);
    const rows = csv.stdout.trim().split('\r\n');
    assert.match(rows[0]!, /^id,created_at,merchant_id/);
    assert.equal(rows.length - 1, Number(all.n));
    const none = cli(gw, 'ledger', 'export', '--from', '2026-03-11', '--to', '2026-03-12', '--format', 'json');
    assert.equal(JSON.parse(none.stdout).postings.length, 0);
    const bad = await admin(gw, 'GET', '/ledger/postings?from=2026-03-11&to=2026-03-10');
    assert.equal(bad.status, 400);
    assert.equal(bad.body.error.code, 'window_invalid');
    writeFileSync(join(gw.dataDir, 'bad.json'), '{"format":"other"}');
    const refused = cli(gw, 'reconcile', '--psp-account', 'acq', '--file', join(gw.dataDir, 'bad.json'));
    assert.equal(refused.status, 1);
    assert.match(refused.stderr, /format must be/);
  });
});

for (const store of ['sqlite', 'postgres'] as const) describe(`settlement: imports at once, undone captures (${store})`, { skip: store === 'postgres' && !pgUp ? 'PostgreSQL unreachable' : false }, () => {
  const clock = manualClock(dayStart + 60_000);
  let gw: Gateway;
  before(async () => {
    gw = await startGateway({ clock, store });
    assert.ok((await gw.app.workflows.putAccount(gw.merchant.merchantId, 'acq', { connector: 'simulator', settings: {} })).ok);
    assert.ok((await gw.app.workflows.configure(gw.merchant.merchantId, 'payment-acceptance', { accounts: ['acq'] })).ok);
  });
  after(async () => { await gw?.close(); });

  test('settle it once: the other import reports a duplicate_line, and the books verify', async () => {
    const merchant = (await gw.app.merchants.byId(gw.merchant.merchantId))!;
    const found = await gw.app.settlement.account('acq', merchant.id);
    assert.ok(found.ok);
    const account: SettlementAccount = found.value;
    const report = (reference: string, fee: string, net: string) => {
      const p = parseSettlementReport({
        format: 'switchyard-settlement-report/1', pspAccount: 'acq', merchantId: merchant.id, day: '2026-03-10',
        lines: [{ reference, type: 'capture', gross: '92.00', fee, net, currency: 'EUR', valueDate: '2026-03-11' }],
        payouts: [{ currency: 'EUR', amount: net, valueDate: '2026-03-11' }],
      });
      assert.ok(p.ok, p.ok ? '' : p.error);
      return p.value;
    };
    // Several rounds: on PostgreSQL the two imports overlap only as the scheduler lets them.
    for (let round = 0; round < 4; round++) {
      const r = await gw.app.payments.pay({
        merchant, scope: { channel: 'opp', entityId: gw.merchant.entityId }, returnUrls: [], merchantTransactionId: undefined, context: {}, testParameters: {},
        workflowCode: 'payment-acceptance', kind: 'sale', amount: { amount: 9200, currency: 'EUR' as Currency }, card: card(),
      });
      assert.ok(r.ok && r.value.operation.status === 'succeeded', JSON.stringify(r));
      const reference = r.value.operation.id;
      // Different reports (one with a fee): each would post the capture's settlement under other legs.
      const [a, b] = await Promise.all([gw.app.settlement.reconcile(account, report(reference, '0.00', '92.00')), gw.app.settlement.reconcile(account, report(reference, '1.58', '90.42'))]);
      assert.ok(a.ok && b.ok);
      assert.equal(a.value.summary.matched + b.value.summary.matched, 1, `round ${round}: one import matched the line`);
      assert.deepEqual([...a.value.discrepancies, ...b.value.discrepancies].map((d) => d.kind), ['duplicate_line'], `round ${round}`);
      const settled = (await gw.app.ledger.paymentPostings(r.value.payment.id)).filter((p) => p.phase === 'settled');
      assert.equal(settled.reduce((s, p) => s + p.amount, 0), 9200, `round ${round}: the capture settled once (fee and net)`);
    }
    assert.equal(await gw.app.ledger.verify(), undefined);
  });

  test('a capture its PSP reports failed a day later is expected in neither day\'s report once undone', async () => {
    const merchant = (await gw.app.merchants.byId(gw.merchant.merchantId))!;
    const found = await gw.app.settlement.account('acq', merchant.id);
    assert.ok(found.ok);
    const account: SettlementAccount = found.value;
    clock.advance(86_400_000); // 2026-03-11: a day of its own
    const r = await gw.app.payments.pay({
      merchant, scope: { channel: 'opp', entityId: gw.merchant.entityId }, returnUrls: [], merchantTransactionId: undefined, context: {}, testParameters: {},
      workflowCode: 'payment-acceptance', kind: 'authorize', amount: { amount: 5000, currency: 'EUR' as Currency }, card: card(),
    });
    assert.ok(r.ok && r.value.operation.status === 'succeeded');
    const cp = await gw.app.payments.followUp({ merchant, scope: { channel: 'opp', entityId: gw.merchant.entityId }, kind: 'capture', referencedId: r.value.payment.id, amount: { amount: 5000, currency: 'EUR' as Currency }, merchantTransactionId: undefined, context: {}, testParameters: {} });
    assert.ok(cp.ok && cp.value.operation.status === 'succeeded');
    const attempt = await gw.app.storage.db.selectFrom('attempts').select('id').where('transaction_id', '=', cp.value.operation.id).executeTakeFirstOrThrow();
    clock.advance(86_400_000); // 2026-03-12: the scheme rejects the capture
    const failed = { kind: 'declined' as const, reason: 'provider_error' as const, acquirerCode: 'CAPTURE_FAILED', message: 'rejected', pspReference: undefined, details: {} };
    assert.equal(await gw.app.payments.settleFromPsp(account.id, attempt.id, failed, { reverses: true }), true);
    for (const day of ['2026-03-11', '2026-03-12']) {
      const report = parseSettlementReport({ format: 'switchyard-settlement-report/1', pspAccount: 'acq', merchantId: merchant.id, day, lines: [], payouts: [] });
      assert.ok(report.ok);
      const out = await gw.app.settlement.reconcile(account, report.value);
      assert.ok(out.ok);
      assert.deepEqual(out.value.discrepancies.filter((d) => d.operationId === cp.value.operation.id).map((d) => [d.kind, d.expected]), [], day);
    }
  });
});
