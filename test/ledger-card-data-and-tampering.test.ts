/**
 * Settlement and the books against what operators and PSPs may send: a card number as a report's
 * reference or in an operator's note never kept, shown or notified in plain text; a NUL in a
 * report refused by name; `ledger verify` finds postings moved to another currency or merchant;
 * a chargeback line naming the capture matches the gateway's own chargeback.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { sql } from 'kysely';
import { manualClock } from '../src/runtime/clock.ts';
import { Cvv, Pan } from '../src/vault/card.ts';
import type { Currency } from '../src/money/money.ts';
import { parseSettlementReport } from '../src/processors/settlement-report.ts';
import type { SettlementAccount } from '../src/ledger/store.ts';
import { newCanary } from './support/canary.ts';
import { postgresAvailable, type Gateway } from './support/harness.ts';
import { gatewayWithSettlementAccount } from './support/settlement.ts';

const pgUp = await postgresAvailable();
const dayStart = Date.UTC(2026, 2, 10);
const EUR = 'EUR' as Currency;
const card = () => ({ pan: new Pan('4200000000000000'), cvv: new Cvv('123'), holder: 'Jane Jones', expiryMonth: '05', expiryYear: '2034', brand: 'VISA' as const });

for (const store of ['sqlite', 'postgres'] as const) describe(`settlement and verify against hostile or tampered input (${store})`, { skip: store === 'postgres' && !pgUp ? 'PostgreSQL unreachable' : false }, () => {
  const clock = manualClock(dayStart + 60_000);
  let gw: Gateway;
  let account: SettlementAccount;
  before(async () => { ({ gw, account } = await gatewayWithSettlementAccount(clock, store)); });
  after(async () => { await gw?.close(); });

  const admin = async (method: string, path: string, body?: unknown) => {
    const res = await fetch(gw.url + '/admin/api' + path, {
      method, headers: { authorization: `Bearer ${gw.app.admin.token}`, ...(body ? { 'content-type': 'application/json' } : {}) },
      ...(body ? { body: JSON.stringify(body) } : {}),
    });
    return { status: res.status, text: await res.text() };
  };
  const dump = async () => {
    const rows = await gw.app.storage.db.selectFrom('settlement_discrepancies').selectAll().execute();
    const outbox = await gw.app.storage.db.selectFrom('outbox').selectAll().execute();
    return JSON.stringify(rows) + JSON.stringify(outbox);
  };
  const sale = async (amount: number, currency: Currency = EUR) => {
    const merchant = (await gw.app.merchants.byId(gw.merchant.merchantId))!;
    const r = await gw.app.payments.pay({
      merchant, scope: { channel: 'opp', entityId: gw.merchant.entityId }, returnUrls: [], merchantTransactionId: undefined, context: {}, testParameters: {},
      workflowCode: 'payment-acceptance', kind: 'sale', amount: { amount, currency }, card: card(),
    });
    assert.ok(r.ok && r.value.operation.status === 'succeeded', JSON.stringify(r));
    return r.value;
  };

  test('a settlement line whose reference is a card number: the discrepancy, its webhook and the admin API never hold it in plain text', async () => {
    const { pan } = newCanary();
    const parsed = parseSettlementReport({
      format: 'switchyard-settlement-report/1', pspAccount: 'acq', merchantId: gw.merchant.merchantId, day: '2026-03-09',
      lines: [{ reference: pan, type: 'capture', gross: '10.00', fee: '0.00', net: '10.00', currency: 'EUR', valueDate: '2026-03-10' }],
      payouts: [{ currency: 'EUR', amount: '10.00', valueDate: '2026-03-10' }],
    });
    assert.ok(parsed.ok);
    const out = await gw.app.settlement.reconcile(account, parsed.value);
    assert.ok(out.ok);
    assert.ok(!JSON.stringify(out.value).includes(pan), 'PAN in the reconciliation outcome');
    assert.ok(!(await dump()).includes(pan), 'PAN in settlement_discrepancies / outbox');
    const listed = await admin('GET', '/ledger/discrepancies');
    assert.ok(!listed.text.includes(pan), 'PAN in GET /admin/api/ledger/discrepancies');
  });

  test('an operator note holding a card number is refused: never stored, echoed or sent to webhooks', async () => {
    const { pan } = newCanary();
    const parsed = parseSettlementReport({
      format: 'switchyard-settlement-report/1', pspAccount: 'acq', merchantId: gw.merchant.merchantId, day: '2026-03-08',
      lines: [{ reference: 'no-such-operation', type: 'capture', gross: '10.00', fee: '0.00', net: '10.00', currency: 'EUR', valueDate: '2026-03-09' }],
      payouts: [{ currency: 'EUR', amount: '10.00', valueDate: '2026-03-09' }],
    });
    assert.ok(parsed.ok);
    const out = await gw.app.settlement.reconcile(account, parsed.value);
    assert.ok(out.ok);
    const d = out.value.discrepancies.find((x) => x.kind === 'unknown_reference')!;
    const r = await admin('POST', `/ledger/discrepancies/${d.id}/resolve`, { note: `refund made by hand to card ${pan}` });
    assert.equal(r.status, 400, r.text);
    assert.match(r.text, /note_holds_card_number/);
    assert.ok(!r.text.includes(pan), `PAN echoed in the answer (${r.status})`);
    assert.ok(!(await dump()).includes(pan), 'PAN stored in settlement_discrepancies.note / the outbox event');
    // Still open, and resolved with the card told by its last four digits.
    const ok = await admin('POST', `/ledger/discrepancies/${d.id}/resolve`, { note: `refund made by hand to the card ending ${pan.slice(-4)}` });
    assert.equal(ok.status, 200, ok.text);
  });

  test('ledger verify catches a payment whose postings were moved to another currency', async () => {
    const s = await sale(9200);
    assert.equal(await gw.app.ledger.verify(), undefined);
    await sql`update postings set currency = 'USD' where payment_id = ${s.payment.id}`.execute(gw.app.storage.db);
    const broken = await gw.app.ledger.verify();
    await sql`update postings set currency = 'EUR' where payment_id = ${s.payment.id}`.execute(gw.app.storage.db);
    assert.notEqual(broken, undefined, 'a payment of EUR whose ledger is in USD verifies');
  });

  test('a settlement report whose reference holds a NUL is refused with a 400 naming the line, not a 500', async () => {
    const report = {
      format: 'switchyard-settlement-report/1', pspAccount: 'acq', merchantId: gw.merchant.merchantId, day: '2026-03-07',
      lines: [{ reference: 'abc\u0000def', type: 'capture', gross: '10.00', fee: '0.00', net: '10.00', currency: 'EUR', valueDate: '2026-03-08' }],
      payouts: [{ currency: 'EUR', amount: '10.00', valueDate: '2026-03-08' }],
    };
    const r = await admin('POST', '/ledger/reconciliations', { pspAccount: 'acq', report });
    assert.equal(r.status, 400, r.text);
    assert.match(r.text, /lines\[0\]: a reference must not contain control characters/);
  });

  test('ledger verify catches a payment whose postings were moved to another merchant', async () => {
    const s = await sale(4100);
    assert.equal(await gw.app.ledger.verify(), undefined);
    const other = 'f'.repeat(32);
    await sql`update postings set merchant_id = ${other} where payment_id = ${s.payment.id}`.execute(gw.app.storage.db);
    const broken = await gw.app.ledger.verify();
    await sql`update postings set merchant_id = ${gw.merchant.merchantId} where payment_id = ${s.payment.id}`.execute(gw.app.storage.db);
    assert.notEqual(broken, undefined, "a payment's money booked to another merchant verifies");
  });

  test('a chargeback line naming a capture the gateway HAS a chargeback for is not a late_chargeback', async () => {
    clock.advance(86_400_000);
    const day = new Date(clock.now()).toISOString().slice(0, 10);
    const vd = new Date(clock.now() + 86_400_000).toISOString().slice(0, 10);
    const s = await sale(5000);
    const merchant = (await gw.app.merchants.byId(gw.merchant.merchantId))!;
    const cb = await gw.app.payments.followUp({ merchant, scope: { channel: 'opp', entityId: gw.merchant.entityId }, kind: 'chargeback', referencedId: s.payment.id, amount: { amount: 5000, currency: EUR }, merchantTransactionId: undefined, context: {}, testParameters: {} });
    assert.ok(cb.ok && cb.value.operation.status === 'succeeded', JSON.stringify(cb));
    const parsed = parseSettlementReport({
      format: 'switchyard-settlement-report/1', pspAccount: 'acq', merchantId: gw.merchant.merchantId, day,
      lines: [
        { reference: s.operation.id, type: 'capture', gross: '50.00', fee: '0.00', net: '50.00', currency: 'EUR', valueDate: vd },
        { reference: s.operation.id, type: 'chargeback', gross: '-50.00', fee: '0.00', net: '-50.00', currency: 'EUR', valueDate: vd },
      ],
      payouts: [{ currency: 'EUR', amount: '0.00', valueDate: vd }],
    });
    assert.ok(parsed.ok);
    const out = await gw.app.settlement.reconcile(account, parsed.value);
    assert.ok(out.ok);
    assert.deepEqual(out.value.discrepancies.filter((d) => d.kind === 'late_chargeback').map((d) => d.reference), [], 'the gateway has this chargeback');
    assert.deepEqual(out.value.discrepancies.filter((d) => d.paymentId === s.payment.id), [], 'the gateway\'s chargeback is settled by the line, not reported missing');
    assert.equal(out.value.summary.matched, 2);
    assert.equal(await gw.app.ledger.verify(), undefined);
    // The same chargeback line again in a later report, while the chargeback stands: a duplicate.
    const dayAfter = (n: number) => new Date(clock.now() + n * 86_400_000).toISOString().slice(0, 10);
    const chargebackLine = (n: number) => parseSettlementReport({
      format: 'switchyard-settlement-report/1', pspAccount: 'acq', merchantId: gw.merchant.merchantId, day: dayAfter(n),
      lines: [{ reference: s.operation.id, type: 'chargeback', gross: '-50.00', fee: '0.00', net: '-50.00', currency: 'EUR', valueDate: vd }],
      payouts: [{ currency: 'EUR', amount: '-50.00', valueDate: vd }],
    });
    const again = chargebackLine(1);
    assert.ok(again.ok);
    const repeated = await gw.app.settlement.reconcile(account, again.value);
    assert.ok(repeated.ok);
    assert.deepEqual(repeated.value.discrepancies.map((d) => d.kind), ['duplicate_line']);
    // Once the merchant's defence reversed it, a chargeback line of the capture is the issuer's
    // second presentment: a new chargeback, which the gateway has no record of.
    const cr = await gw.app.payments.followUp({ merchant, scope: { channel: 'opp', entityId: gw.merchant.entityId }, kind: 'chargeback_reversal', referencedId: cb.value.operation.id, amount: { amount: 5000, currency: EUR }, merchantTransactionId: undefined, context: {}, testParameters: {} });
    assert.ok(cr.ok && cr.value.operation.status === 'succeeded', JSON.stringify(cr));
    const second = chargebackLine(2);
    assert.ok(second.ok);
    const late = await gw.app.settlement.reconcile(account, second.value);
    assert.ok(late.ok);
    assert.deepEqual(late.value.discrepancies.map((d) => d.kind), ['late_chargeback']);
  });
});
