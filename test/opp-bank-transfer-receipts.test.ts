/**
 * Bank transfers: money the shopper promised is not money received. Nothing is refunded before the
 * bank's receipt confirms it, a CP cannot stand in for that receipt, and the simulated bank posts
 * the receipt of a DB transfer as it does a PA's. A merchant's own partial RC is final (the
 * simulated bank posts nothing more).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { manualClock } from '../src/runtime/clock.ts';
import { opp, startGateway, type Gateway } from './support/harness.ts';
import { answer, openRedirect } from './support/shopper.ts';

const success = '000.100.110';
const clock = manualClock(Date.now());
const shopperResultUrl = 'https://shop.example/checkout/result?order=42';
let gw: Gateway;
before(async () => { gw = await startGateway({ clock }); });
after(() => gw.close());

const bank = (params: Record<string, string> = {}) => opp(gw, 'POST', '/v1/payments', {
  amount: '120.00', currency: 'EUR', paymentType: 'PA', paymentBrand: 'SOFORTUEBERWEISUNG', 'bankAccount.country': 'DE',
  'bankAccount.bankName': 'Testbank', shopperResultUrl, ...params,
});
const backOffice = (id: string, paymentType: string, params: Record<string, string> = {}) =>
  opp(gw, 'POST', `/v1/payments/${id}`, { paymentType, ...params });
async function completeAtBank(redirect: any) {
  const page = await openRedirect(redirect);
  assert.equal(page.status, 200, page.html);
  assert.equal((await answer(page, 'completed')).status, 303);
}
const receipts = async (id: string) => (await gw.app.payments.details(id))!.operations.filter((o) => o.kind === 'receipt' && o.status === 'succeeded');

describe('bank transfer money before its receipt', () => {
  test('a DB bank transfer (the reference\'s own Sofort example) cannot be refunded before the bank\'s receipt, and the simulated bank posts that receipt', async () => {
    const r = await bank({ paymentType: 'DB' });
    assert.equal(r.body.result.code, '000.200.000');
    await completeAtBank(r.body.redirect);
    const rf = await backOffice(r.body.id, 'RF', { amount: '120.00', currency: 'EUR' });
    clock.advance(gw.app.config.bankReceiptDelayMs + 1);
    const auto = await gw.app.payments.confirmBankTransfers();
    assert.equal(rf.body.result.code, '700.400.520', 'refunded 120.00 of money the bank never confirmed');
    assert.equal(auto, 1, 'the simulated bank posts the DB\'s receipt');
    assert.equal(await gw.app.payments.confirmBankTransfers(), 0, 'once');
    assert.equal((await backOffice(r.body.id, 'RF', { amount: '120.00', currency: 'EUR' })).body.result.code, success, 'refundable once received');
  });

  test('a chargeback of a bank transfer takes back only money its bank confirmed: none before the receipt, and nothing is recorded', async () => {
    const r = await bank({ paymentType: 'DB' });
    await completeAtBank(r.body.redirect);
    const before = (await gw.app.payments.details(r.body.id))!.operations.length;
    const cb = await backOffice(r.body.id, 'CB', { amount: '120.00', currency: 'EUR' });
    assert.notEqual(cb.body.result.code, success, 'charged back 120.00 the bank never confirmed');
    assert.equal((await gw.app.payments.details(r.body.id))!.operations.length, before, 'nothing recorded');
    clock.advance(gw.app.config.bankReceiptDelayMs + 1);
    await gw.app.payments.confirmBankTransfers();
    assert.equal((await backOffice(r.body.id, 'CB', { amount: '120.00', currency: 'EUR' })).body.result.code, success, 'once received it can be charged back');
  });

  test('a bank transfer cannot be rebilled: there is no stored card to charge, and nothing is recorded', async () => {
    const r = await bank({ paymentType: 'DB' });
    await completeAtBank(r.body.redirect);
    const before = (await gw.app.payments.details(r.body.id))!.operations.length;
    const rb = await backOffice(r.body.id, 'RB', { amount: '10.00', currency: 'EUR' });
    assert.equal(rb.status, 400, JSON.stringify(rb.body));
    assert.equal(rb.body.result.code, '700.100.700');
    assert.equal((await gw.app.payments.details(r.body.id))!.operations.length, before, 'nothing recorded');
  });

  test('a bank transfer PA cannot be captured with CP (the receipt is its capture): no capture, no refund before the money arrives', async () => {
    const r = await bank();
    await completeAtBank(r.body.redirect);
    const cp = await backOffice(r.body.id, 'CP', { amount: '50.00', currency: 'EUR' });
    assert.equal(cp.body.result.code, '700.400.510', 'a CP counted 50.00 as received with no receipt from the bank');
    const rf = await backOffice(r.body.id, 'RF', { amount: '50.00', currency: 'EUR' });
    assert.equal(rf.body.result.code, '700.400.520', 'and 50.00 went back to the shopper');
    clock.advance(gw.app.config.bankReceiptDelayMs + 1);
    await gw.app.payments.confirmBankTransfers();
    assert.equal((await receipts(r.body.id)).reduce((s, o) => s + o.amount.amount, 0), 12000, 'the bank confirms the whole transfer');
    assert.equal((await backOffice(r.body.id, 'RF', { amount: '50.00', currency: 'EUR' })).body.result.code, success, 'refundable once received');
  });

  test('after the merchant\'s partial RC the simulated bank posts nothing more: a merchant\'s receipt is final', async () => {
    const r = await bank();
    await completeAtBank(r.body.redirect);
    assert.equal((await backOffice(r.body.id, 'RC', { amount: '60.00', currency: 'EUR' })).body.result.code, success);
    clock.advance(gw.app.config.bankReceiptDelayMs + 1);
    assert.equal(await gw.app.payments.confirmBankTransfers(), 0);
    assert.equal((await receipts(r.body.id)).reduce((s, o) => s + o.amount.amount, 0), 6000);
    assert.equal((await backOffice(r.body.id, 'RF', { amount: '60.01', currency: 'EUR' })).body.result.code, '700.400.200', 'no more than received goes back');
  });
});
