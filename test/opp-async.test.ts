import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { manualClock } from '../src/runtime/clock.ts';
import { detectBrand } from '../src/vault/card.ts';
import { opp, startGateway, testCard, type Gateway } from './support/harness.ts';
import { answer, openRedirect, type HostedPage } from './support/shopper.ts';

const success = '000.100.110';
const pending = '000.200.000';
const clock = manualClock(Date.now());
const shopperResultUrl = 'https://shop.example/checkout/result?order=42';
let gw: Gateway;
before(async () => { gw = await startGateway({ clock }); });
after(() => gw.close());

const challengeCard = '4200000000000042';
const cardParams = (pan: string) => {
  const brand = detectBrand(pan)!;
  return { ...testCard, 'card.number': pan, paymentBrand: brand, 'card.cvv': brand === 'AMEX' ? '1234' : '123' };
};
const start = (paymentType: string, params: Record<string, string> = {}, pan = challengeCard) =>
  opp(gw, 'POST', '/v1/payments', { amount: '92.00', currency: 'EUR', paymentType, shopperResultUrl, ...cardParams(pan), ...params });
const backOffice = (id: string, paymentType: string, params: Record<string, string> = {}) =>
  opp(gw, 'POST', `/v1/payments/${id}`, { paymentType, ...params });
const query = (id: string) => opp(gw, 'GET', `/v1/query/${id}`);

/** The shopper follows the redirect and presses a button; returns where the browser is sent. */
async function shopper(redirect: any, outcome: string): Promise<{ page: HostedPage; location: URL }> {
  const page = await openRedirect(redirect);
  assert.equal(page.status, 200, page.html);
  const r = await answer(page, outcome);
  assert.equal(r.status, 303);
  return { page, location: new URL(r.location!) };
}

function assertReturnsToMerchant(location: URL, id: string) {
  assert.equal(location.origin + location.pathname, 'https://shop.example/checkout/result');
  assert.equal(location.searchParams.get('order'), '42', "the merchant's own parameters are kept");
  assert.equal(location.searchParams.get('id'), id);
  assert.equal(location.searchParams.get('resourcePath'), `/v1/payments/${id}`);
}

describe('asynchronous card payments with a 3-D Secure challenge', () => {
  test('PA answers pending with a POST redirect; status and query show pending; Complete authorizes; CP captures', async () => {
    const r = await start('PA', { merchantTransactionId: 'async-pa-1' });
    assert.equal(r.status, 200);
    assert.equal(r.body.result.code, pending);
    assert.equal(r.body.result.description, 'transaction pending');
    assert.equal(r.body.redirect.method, 'POST');
    assert.match(r.body.redirect.url, new RegExp(`^${gw.url}/hosted/3ds/[0-9a-f]{32}$`));
    assert.deepEqual(r.body.redirect.parameters.map((p: any) => p.name), ['threeDSSessionData']);
    assert.equal(r.body.card.last4Digits, '0042');
    const id = r.body.id;

    const status = await opp(gw, 'GET', `/v1/payments/${id}`);
    assert.equal(status.body.result.code, pending);
    assert.equal(status.body.redirect, undefined, 'the redirect is given once, in the initial answer');
    assert.equal((await query(id)).body.result.code, pending);
    // A pending authorization cannot be captured yet.
    assert.equal((await backOffice(id, 'CP', { amount: '10.00', currency: 'EUR' })).body.result.code, '700.400.570');

    const { page, location } = await shopper(r.body.redirect, 'completed');
    assert.match(page.html, /Test Merchant/);
    assert.match(page.html, /92\.00 EUR/);
    assert.match(page.html, /VISA •••• 0042/);
    assert.doesNotMatch(page.html, /4200000000000042/, 'the page shows the masked card only');
    assertReturnsToMerchant(location, id);

    const done = await opp(gw, 'GET', location.searchParams.get('resourcePath')!);
    assert.equal(done.status, 200);
    assert.equal(done.body.result.code, success);
    assert.equal(done.body.paymentType, 'PA');
    assert.equal(done.body.threeDSecure.eci, '05');
    assert.equal(done.body.resultDetails['3ds.acsEci'], '05');
    assert.equal(done.body.resultDetails['3ds.transactionStatus'], 'Y');
    assert.equal(done.body.merchantTransactionId, 'async-pa-1');

    const cp = await backOffice(id, 'CP', { amount: '50.00', currency: 'EUR' });
    assert.equal(cp.body.result.code, success);
    const cp2 = await backOffice(id, 'CP', { amount: '42.00', currency: 'EUR' });
    assert.equal(cp2.body.result.code, success);
    assert.equal((await backOffice(id, 'CP', { amount: '0.01', currency: 'EUR' })).body.result.code, '700.400.100');
  });

  test('DB answers pending; Complete captures; the captured money can be refunded', async () => {
    const r = await start('DB');
    assert.equal(r.body.result.code, pending);
    const { location } = await shopper(r.body.redirect, 'completed');
    assertReturnsToMerchant(location, r.body.id);
    const done = await query(r.body.id);
    assert.equal(done.body.result.code, success);
    assert.equal(done.body.paymentType, 'DB');
    const rf = await backOffice(r.body.id, 'RF', { amount: '92.00', currency: 'EUR' });
    assert.equal(rf.body.result.code, success);
  });

  test('Fail ends the payment with the 3DS rejection code; nothing can be captured', async () => {
    const r = await start('PA');
    const { location } = await shopper(r.body.redirect, 'failed');
    assertReturnsToMerchant(location, r.body.id);
    const done = await opp(gw, 'GET', `/v1/payments/${r.body.id}`);
    assert.equal(done.status, 200, 'the status call itself succeeded (docs/compatibility.md)');
    assert.equal(done.body.result.code, '100.380.401');
    assert.equal(done.body.result.description, 'User Authentication Failed');
    assert.equal(done.body.resultDetails['3ds.transactionStatus'], 'N');
    assert.equal((await backOffice(r.body.id, 'CP', { amount: '92.00', currency: 'EUR' })).body.result.code, '700.400.510');
  });

  test('cancelling on the page ends the payment as cancelled by the user', async () => {
    const r = await start('DB');
    await shopper(r.body.redirect, 'cancelled');
    assert.equal((await query(r.body.id)).body.result.code, '100.396.101');
  });

  test('a used page cannot be replayed: a second answer changes nothing and follows the first one back to the merchant; a reopened page is refused', async () => {
    const r = await start('DB');
    const { page, location } = await shopper(r.body.redirect, 'completed');
    // Another tab's answer: the shopper is sent where the first answer sent them, nothing is done again.
    const again = await answer(page, 'failed');
    assert.equal(again.status, 303);
    assert.equal(again.location, location.href);
    const reopened = await openRedirect(r.body.redirect);
    assert.equal(reopened.status, 410);
    assert.equal(reopened.action, undefined, 'no buttons on a used page');
    assert.equal((await query(r.body.id)).body.result.code, success, 'the replay changed nothing');
  });

  test('ten simultaneous answers to one page: exactly one is taken', async () => {
    const r = await start('DB');
    const page = await openRedirect(r.body.redirect);
    const answers = await Promise.all(Array.from({ length: 10 }, (_, i) => answer(page, i % 2 ? 'failed' : 'completed')));
    // Each tab is sent back to the merchant; one answer was taken (one outcome, one transaction).
    assert.equal(answers.filter((a) => a.status === 303).length, 10);
    assert.equal(new Set(answers.map((a) => a.location)).size, 1);
    const rows = await gw.app.storage.db.selectFrom('transactions').select(['status']).where('payment_id', '=', r.body.id).execute();
    assert.equal(rows.length, 1);
    assert.ok(['succeeded', 'failed'].includes(rows[0]!.status));
  });

  test('the page is a strict, uncacheable, unframeable document that works without JavaScript', async () => {
    const r = await start('PA');
    const page = await openRedirect({ ...r.body.redirect, method: 'GET' });
    assert.equal(page.status, 200);
    const csp = page.headers.get('content-security-policy')!;
    assert.match(csp, /default-src 'none'/);
    assert.match(csp, /frame-ancestors 'none'/);
    // Any https page: the merchant's return URL may redirect on, and browsers check every hop.
    assert.match(csp, /form-action 'self' https:(;|$)/);
    assert.doesNotMatch(csp, /unsafe-inline|script-src/);
    assert.equal(page.headers.get('cache-control'), 'no-store');
    assert.equal(page.headers.get('x-frame-options'), 'DENY');
    assert.equal(page.headers.get('referrer-policy'), 'no-referrer');
    assert.doesNotMatch(page.html, /<script/i);
    assert.match(page.html, /<button type="submit" name="outcome" value="completed"[^>]*>Complete<\/button>/);
    assert.match(page.html, /<button type="submit" name="outcome" value="failed"[^>]*>Fail<\/button>/);
    const css = await fetch(new URL('/hosted/assets/hosted.css', gw.url));
    assert.equal(css.status, 200);
    assert.match(css.headers.get('content-type')!, /^text\/css/);
  });

  test('a test merchant\'s loopback shopperResultUrl adds any port of that host to the page\'s form-action, beside any https page it may send the shopper on to', async () => {
    const r = await start('PA', { shopperResultUrl: 'http://127.0.0.1:4321/back' });
    const page = await openRedirect({ ...r.body.redirect, method: 'GET' });
    const formAction = /form-action ([^;]*)/.exec(page.headers.get('content-security-policy')!)?.[1]?.split(' ');
    assert.deepEqual(formAction, ["'self'", 'https:', 'http://127.0.0.1:*']);
  });

  test('an unknown or malformed page id, and an unreadable answer, are refused without touching anything', async () => {
    assert.equal((await fetch(`${gw.url}/hosted/3ds/${'0'.repeat(32)}`)).status, 404);
    assert.equal((await fetch(`${gw.url}/hosted/3ds/not-an-id`)).status, 404);
    const r = await start('PA');
    const page = await openRedirect(r.body.redirect);
    assert.equal((await answer(page, 'approve-everything')).status, 400);
    assert.equal((await query(r.body.id)).body.result.code, pending);
  });

  test('a challenge card without shopperResultUrl is refused with 100.370.101 and nothing is stored', async () => {
    const r = await opp(gw, 'POST', '/v1/payments', { amount: '92.00', currency: 'EUR', paymentType: 'DB', ...cardParams(challengeCard), merchantTransactionId: 'no-return-url' });
    assert.equal(r.status, 400);
    assert.equal(r.body.result.code, '100.370.101');
    const q = await opp(gw, 'GET', '/v1/query', { merchantTransactionId: 'no-return-url' });
    assert.equal(q.body.result.code, '700.400.580');
  });
});

describe('the 3DS2 simulator table, row by row (reference §9.3)', () => {
  const frictionless: [string, string, string][] = [
    ['4200000000000091', 'Y', '05'], ['5200000000000007', 'Y', '02'], ['6761301000993772', 'Y', '02'], ['374500262001008', 'Y', '05'],
    ['4200000000000109', 'A', '06'], ['5200000000000023', 'A', '01'], ['6706981111111113', 'A', '01'], ['377277081382243', 'A', '06'],
    ['4200000000000026', 'Y', '05'], ['5200000000000056', 'Y', '02'], ['6799851000000032', 'Y', '02'], ['375987000000062', 'Y', '05'],
    ['4200000000000059', 'A', '06'], ['5200000000000106', 'A', '01'], ['6007930123456780', 'A', '01'], ['373953192351004', 'A', '06'],
  ];
  for (const [pan, status, eci] of frictionless) {
    test(`frictionless ${pan}: completes in the first answer with transStatus ${status} and ECI ${eci}`, async () => {
      const r = await start('DB', {}, pan);
      assert.equal(r.status, 200);
      assert.equal(r.body.result.code, success);
      assert.equal(r.body.redirect, undefined);
      assert.equal(r.body.threeDSecure.eci, eci);
      assert.equal(r.body.resultDetails['3ds.transactionStatus'], status);
      assert.equal(r.body.resultDetails['3ds.flow'], 'frictionless');
    });
  }
  for (const pan of ['4200000000000042', '4200000000000067', '4200000000000018', '4200000000000075', '4711100000000000', '5386024192625914']) {
    test(`challenge ${pan}: answers 000.200.000 with a redirect`, async () => {
      const r = await start('DB', {}, pan);
      assert.equal(r.body.result.code, pending);
      assert.match(r.body.redirect.url, /\/hosted\/3ds\//);
    });
  }
  const refused: [string, string, string][] = [
    ['4012001037461114', '100.390.112', 'Technical Error in 3D system'],
    ['4012001037141112', '000.400.109', 'Card is not enrolled for 3DS version 2'],
    ['4532497088771651', '000.400.101', 'card not participating/authentication unavailable'],
  ];
  for (const [pan, code, description] of refused) {
    test(`${pan}: refused by authentication with ${code}, no PSP call`, async () => {
      const r = await start('DB', { merchantTransactionId: `refused-${pan}` }, pan);
      assert.equal(r.status, 400);
      assert.equal(r.body.result.code, code);
      assert.equal(r.body.result.description, description);
      assert.equal(r.body.redirect, undefined);
      assert.equal((gw.app.processor as any).received.has(r.body.id), false);
      assert.equal((await query(r.body.id)).body.result.code, code, 'the refusal is on record');
    });
  }
  test('a card outside the table pays synchronously; 3DS2_enrolled=true makes it challenge; 3DS2_flow steers it', async () => {
    const plain = await start('DB', {}, '4200000000000000');
    assert.equal(plain.body.result.code, success);
    assert.equal(plain.body.threeDSecure, undefined);
    const enrolled = await start('DB', { 'customParameters[3DS2_enrolled]': 'true' }, '4200000000000000');
    assert.equal(enrolled.body.result.code, pending);
    assert.deepEqual(enrolled.body.customParameters, { '3DS2_enrolled': 'true' });
    const steered = await start('DB', { 'customParameters[3DS2_enrolled]': 'true', 'customParameters[3DS2_flow]': 'frictionless' }, '4200000000000000');
    assert.equal(steered.body.result.code, success);
    assert.equal(steered.body.threeDSecure.eci, '05');
    const forced = await start('DB', { 'threeDSecure.challengeIndicator': '04' }, '4200000000000091');
    assert.equal(forced.body.result.code, pending);
    const out = await start('DB', { 'customParameters[3DS2_enrolled]': 'false' }, challengeCard);
    assert.equal(out.body.result.code, success);
  });
  test('a frictionless card needs no shopperResultUrl', async () => {
    const r = await opp(gw, 'POST', '/v1/payments', { amount: '92.00', currency: 'EUR', paymentType: 'PA', ...cardParams('4200000000000091') });
    assert.equal(r.body.result.code, success);
  });
  test('bad switch values are field errors', async () => {
    const r = await start('DB', { 'customParameters[3DS2_flow]': 'sometimes' });
    assert.equal(r.status, 400);
    assert.equal(r.body.result.parameterErrors[0].name, 'customParameters[3DS2_flow]');
  });
});

describe('bank transfer (Sofort) with receipts', () => {
  const bank = (params: Record<string, string> = {}) => opp(gw, 'POST', '/v1/payments', {
    amount: '120.00', currency: 'EUR', paymentType: 'PA', paymentBrand: 'SOFORTUEBERWEISUNG', 'bankAccount.country': 'DE',
    'bankAccount.bankName': 'Testbank', shopperResultUrl, ...params,
  });

  test('PA redirects to the bank by GET; Complete authorizes; the merchant posts RC; then RF, CB, CR (an RB is refused: no card to charge again)', async () => {
    const r = await bank({ merchantTransactionId: 'bank-1' });
    assert.equal(r.status, 200);
    assert.equal(r.body.result.code, pending);
    assert.equal(r.body.paymentBrand, 'SOFORTUEBERWEISUNG');
    assert.deepEqual(r.body.bankAccount, { country: 'DE', bankName: 'Testbank' });
    assert.equal(r.body.card, undefined);
    assert.equal(r.body.redirect.method, 'GET');
    assert.match(r.body.redirect.url, /\/hosted\/bank\/[0-9a-f]{32}$/);
    const id = r.body.id;
    const { page, location } = await shopper(r.body.redirect, 'completed');
    assert.match(page.html, /Confirm your bank transfer/);
    assert.match(page.html, /Testbank/);
    assertReturnsToMerchant(location, id);
    assert.equal((await query(id)).body.result.code, success);
    // Refunds need received money: not before the receipt.
    assert.equal((await backOffice(id, 'RF', { amount: '10.00', currency: 'EUR' })).body.result.code, '700.400.520');

    const rc = await backOffice(id, 'RC', { amount: '120.00', currency: 'EUR' });
    assert.equal(rc.status, 200);
    assert.equal(rc.body.result.code, success);
    assert.equal(rc.body.paymentType, 'RC');
    assert.equal(rc.body.referencedId, id);
    assert.equal((await backOffice(id, 'RC', { amount: '0.01', currency: 'EUR' })).body.result.code, '700.400.100', 'nothing left to confirm');

    // The receipt is where the money moved: refunds and chargebacks may name it. A rebill charges a
    // stored card again, and a bank transfer has none (its shopper pays each one at the bank).
    assert.equal((await backOffice(rc.body.id, 'RF', { amount: '20.00', currency: 'EUR' })).body.result.code, success);
    assert.equal((await backOffice(rc.body.id, 'RB', { amount: '5.00', currency: 'EUR' })).body.result.code, '700.100.700');
    const cb = await backOffice(rc.body.id, 'CB', { amount: '30.00', currency: 'EUR' });
    assert.equal(cb.body.result.code, success);
    assert.equal((await backOffice(cb.body.id, 'CR', { amount: '30.00', currency: 'EUR' })).body.result.code, success);
  });

  test('without the merchant, the simulated bank posts the receipt after the configured delay', async () => {
    const r = await bank({ merchantTransactionId: 'bank-auto' });
    await shopper(r.body.redirect, 'completed');
    assert.equal(await gw.app.payments.confirmBankTransfers(), 0, 'not before the delay');
    clock.advance(gw.app.config.bankReceiptDelayMs + 1);
    assert.equal(await gw.app.payments.confirmBankTransfers(), 1);
    assert.equal(await gw.app.payments.confirmBankTransfers(), 0, 'once');
    const list = await opp(gw, 'GET', '/v1/query', { merchantTransactionId: 'bank-auto' });
    const rc = list.body.payments.find((p: any) => p.paymentType === 'RC');
    assert.equal(rc.result.code, success);
    assert.equal(rc.amount, '120.00');
    assert.equal((await backOffice(rc.id, 'RF', { amount: '120.00', currency: 'EUR' })).body.result.code, success);
  });

  test('RC on a payment that is not successful is refused with 700.400.560', async () => {
    const r = await bank();
    assert.equal((await backOffice(r.body.id, 'RC', { amount: '1.00', currency: 'EUR' })).body.result.code, '700.400.570');
    await shopper(r.body.redirect, 'failed');
    assert.equal((await backOffice(r.body.id, 'RC', { amount: '1.00', currency: 'EUR' })).body.result.code, '700.400.560');
    assert.equal((await backOffice('f'.repeat(32), 'RC', { amount: '1.00', currency: 'EUR' })).body.result.code, '700.400.560');
  });

  test('a bank transfer needs bankAccount.country and refuses card fields', async () => {
    const noCountry = await opp(gw, 'POST', '/v1/payments', { amount: '1.00', currency: 'EUR', paymentType: 'DB', paymentBrand: 'SOFORTUEBERWEISUNG', shopperResultUrl });
    assert.equal(noCountry.status, 400);
    assert.equal(noCountry.body.result.parameterErrors[0].name, 'bankAccount.country');
    const withCard = await bank({ 'card.number': '4200000000000000' });
    assert.equal(withCard.status, 400);
    assert.equal(withCard.body.result.parameterErrors[0].name, 'paymentBrand');
    const noReturn = await opp(gw, 'POST', '/v1/payments', { amount: '1.00', currency: 'EUR', paymentType: 'DB', paymentBrand: 'SOFORTUEBERWEISUNG', 'bankAccount.country': 'DE' });
    assert.equal(noReturn.body.result.code, '100.370.101');
  });
});

describe('pending life cycle', () => {
  test('an unfinished payment ends after the asynchronous timeout with 100.396.103, and its page expires with it', async () => {
    const r = await start('PA', { merchantTransactionId: 'abandoned' });
    clock.advance(gw.app.config.asyncTimeoutMs - 1000);
    await gw.app.payments.expireAwaiting();
    assert.equal((await query(r.body.id)).body.result.code, pending, 'still within the half hour');
    clock.advance(2000);
    // Reached past its expiry before the sweep ran: the payment ends there, as the sweep would end
    // it, and the shopper goes back to the merchant's result page instead of a dead page.
    const page = await openRedirect(r.body.redirect);
    assert.equal(page.status, 303, 'the page expires with the payment, even before the sweep');
    assert.match(page.headers.get('location') ?? '', /resourcePath=/);
    assert.equal(await gw.app.payments.expireAwaiting(), 0, 'ended already');
    const done = await query(r.body.id);
    assert.equal(done.body.result.code, '100.396.103');
    assert.equal(done.body.result.description, 'Previously pending transaction timed out');
    // A button pressed on the page left open afterwards changes nothing and sends the shopper back
    // to the merchant's result, as a second tab's does after the first answered.
    const late = await answer(page.action ? page : { action: r.body.redirect.url + '/result' }, 'completed');
    assert.equal(late.status, 303);
    assert.match(late.location ?? '', /resourcePath=/);
    assert.equal((await query(r.body.id)).body.result.code, '100.396.103');
  });
});

test('the asynchronous timeout is configurable (SWITCHYARD_ASYNC_TIMEOUT_MS) and the sweep runs on PostgreSQL too', async (t) => {
  const { postgresAvailable } = await import('./support/harness.ts');
  const stores: ('sqlite' | 'postgres')[] = (await postgresAvailable()) ? ['sqlite', 'postgres'] : ['sqlite'];
  for (const store of stores) {
    await t.test(store, async () => {
      const c = manualClock(Date.now());
      const g = await startGateway({ clock: c, store, env: { SWITCHYARD_ASYNC_TIMEOUT_MS: '60000' } });
      try {
        const r = await opp(g, 'POST', '/v1/payments', { amount: '5.00', currency: 'EUR', paymentType: 'PA', shopperResultUrl, ...cardParams(challengeCard) });
        assert.equal(r.body.result.code, pending);
        c.advance(59_000);
        assert.equal(await g.app.payments.expireAwaiting(), 0);
        c.advance(2_000);
        assert.equal(await g.app.payments.expireAwaiting(), 1);
        assert.equal((await opp(g, 'GET', `/v1/query/${r.body.id}`)).body.result.code, '100.396.103');
        // And a completed challenge on this store authorizes as on the other.
        const r2 = await opp(g, 'POST', '/v1/payments', { amount: '5.00', currency: 'EUR', paymentType: 'PA', shopperResultUrl, ...cardParams(challengeCard) });
        await shopper(r2.body.redirect, 'completed');
        assert.equal((await opp(g, 'GET', `/v1/query/${r2.body.id}`)).body.result.code, success);
      } finally {
        await g.close();
      }
    });
  }
});
