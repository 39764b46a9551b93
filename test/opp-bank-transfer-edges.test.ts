/**
 * Bank transfers (SOFORTUEBERWEISUNG) in the /v1 dialect that no account of the merchant's cascade
 * can take are refused before the shopper is sent to the bank, and the rest of a bank-transfer PA
 * after the merchant's final partial receipt is released, as a card authorization's uncaptured rest is.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { manualClock } from '../src/runtime/clock.ts';
import { opp, startGateway, testCard, type Gateway } from './support/harness.ts';
import { configureCascade } from './support/executions.ts';
import { answer, openRedirect } from './support/shopper.ts';

const day = 86_400_000;
const shopperResultUrl = 'https://shop.example/checkout/result?order=42';
const sofort = (params: Record<string, string> = {}) => ({
  amount: '120.00', currency: 'EUR', paymentType: 'PA', paymentBrand: 'SOFORTUEBERWEISUNG', 'bankAccount.country': 'DE',
  'bankAccount.bankName': 'Testbank', shopperResultUrl, ...params,
});

describe('bank transfers a merchant\'s PSP accounts cannot take', () => {
  let a: Gateway;
  let b: Gateway;
  before(async () => { b = await startGateway(); a = await startGateway(); });
  after(async () => { await a?.close(); await b?.close(); });
  const acquirer = () => ({ acq: { connector: 'opp', settings: { baseUrl: b.url, accessToken: b.merchant.accessToken, entityId: b.merchant.entityId } } });

  test('a live merchant\'s shopper is never sent to the simulated bank: the transfer is refused before the shopper confirms it', async () => {
    const live = await a.app.merchants.create({ name: 'Live Shop', live: true });
    await configureCascade({ ...a, merchant: live }, acquirer(), ['acq']);
    const lgw = { url: a.url, merchant: live };
    const r = await opp(lgw, 'POST', '/v1/payments', sofort({ paymentType: 'DB' }));
    if (r.body.redirect) {
      const page = await openRedirect(r.body.redirect);
      const confirmed = await answer(page, 'completed');
      const after = await opp(lgw, 'GET', `/v1/query/${r.body.id}`);
      assert.fail(`a live shopper was sent to a page saying "${/This is a simulated bank[^<]*/.exec(page.html)?.[0]}", confirmed the transfer (${confirmed.status}), `
        + `and only then was the payment refused with ${after.body.result.code}`);
    }
    assert.notEqual(r.body.result.code, '000.200.000');
  });

  test('a test merchant whose cascade is a simulated account, then a real acquirer, still takes a bank transfer', async () => {
    await configureCascade(a, { sim: { connector: 'simulator', settings: {} }, ...acquirer() }, ['sim', 'acq']);
    const r = await opp(a, 'POST', '/v1/payments', sofort({ paymentType: 'DB' }));
    assert.equal(r.body.result.code, '000.200.000', `refused up front: ${JSON.stringify(r.body.result)}`);
    assert.equal((await answer(await openRedirect(r.body.redirect), 'completed')).status, 303);
    await a.app.payments.idle();
    const q = await opp(a, 'GET', `/v1/query/${r.body.id}`);
    assert.match(q.body.result.code, /^000\./, JSON.stringify(q.body.result));
  });

  test('a test merchant whose workflow routes to an acquirer that takes no bank transfers: refused up front, not after the shopper confirmed at the bank', async () => {
    await configureCascade(a, acquirer(), ['acq']);
    const r = await opp(a, 'POST', '/v1/payments', sofort({ paymentType: 'DB' }));
    if (r.body.redirect) {
      await answer(await openRedirect(r.body.redirect), 'completed');
      const after = await opp(a, 'GET', `/v1/query/${r.body.id}`);
      assert.fail(`the shopper confirmed the transfer at the bank, then the payment failed with ${after.body.result.code} ${after.body.result.description}`);
    }
    assert.equal(r.body.result.code, '600.200.500');
  });
});

describe('a bank transfer PA\'s rest after the merchant\'s final partial receipt', () => {
  const clock = manualClock(Date.now());
  let gw: Gateway;
  before(async () => { gw = await startGateway({ clock }); });
  after(() => gw.close());

  test('is released like a card authorization\'s uncaptured rest: no hold stays open in the books forever', async () => {
    // The card: 120.00 authorized, 60.00 captured; the expiry job releases the other 60.00.
    const card = await opp(gw, 'POST', '/v1/payments', { ...testCard, amount: '120.00', currency: 'EUR', paymentType: 'PA' });
    assert.equal((await opp(gw, 'POST', `/v1/payments/${card.body.id}`, { paymentType: 'CP', amount: '60.00', currency: 'EUR' })).body.result.code, '000.100.110');
    // The bank transfer: the shopper confirms 120.00, the merchant's receipt says 60.00 arrived, and
    // the simulated bank posts nothing more (opp-bank-transfer-receipts: a merchant's receipt is final).
    const r = await opp(gw, 'POST', '/v1/payments', sofort());
    const page = await openRedirect(r.body.redirect);
    assert.equal((await answer(page, 'completed')).status, 303);
    assert.equal((await opp(gw, 'POST', `/v1/payments/${r.body.id}`, { paymentType: 'RC', amount: '60.00', currency: 'EUR' })).body.result.code, '000.100.110');

    clock.advance(30 * day);
    await gw.app.payments.confirmBankTransfers();
    await gw.app.payments.expireAuthorizations();
    assert.equal(await gw.app.ledger.verify(), undefined);
    const held = (await gw.app.ledger.balances(gw.merchant.merchantId)).filter((x) => x.kind === 'authorized' && x.balance !== 0);
    const cardOps = (await gw.app.payments.details(card.body.id))!.operations;
    assert.ok(cardOps.some((o) => o.kind === 'void' && o.status === 'succeeded'), 'the card\'s rest was released');
    assert.deepEqual(held.map((x) => [x.currency, x.balance]), [], 'a month on, the bank transfer\'s 60.00 is still held in the books, and nothing will ever release it');
  });
});
