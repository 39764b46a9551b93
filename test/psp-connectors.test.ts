/**
 * Real-PSP connectors behind the one engine, end to end over HTTP: a PSP that runs 3-D Secure
 * itself sends the shopper through both dialects (the /v1 `redirect` passed through as the PSP
 * gave it, the executions `requiredAction.href` forwarding to it) and back to our return endpoint,
 * which finishes the attempt with the PSP; asynchronous confirmations arrive on each account's
 * inbound endpoint, verified, and a forged one changes nothing.
 */
import { after, before, describe, test } from 'node:test';
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import assert from 'node:assert/strict';
import { startGateway, opp, type Gateway } from './support/harness.ts';
import { authorizeBody, call, configureCascade, execution, instrument, poll, tokenOf, wf } from './support/executions.ts';
import { startStripeFake, stripeFakeCredentials, type StripeFake } from './support/fake-psps/stripe.ts';
import { startAdyenFake, adyenFakeCredentials, type AdyenFake } from './support/fake-psps/adyen.ts';
import { startOppFake, oppFakeCredentials, type OppFake } from './support/fake-psps/opp.ts';
import { suiteCards } from './support/fake-psps/bank.ts';
import { ledgerTotalsOf } from '../src/ledger/model.ts';
import { createStripeConnector } from '../src/processors/stripe/connector.ts';
import { createAdyenConnector } from '../src/processors/adyen/connector.ts';
import { createOppConnector } from '../src/processors/opp/connector.ts';
import { Cvv, Pan } from '../src/vault/card.ts';
import { money, type Currency } from '../src/money/money.ts';
import { fetchPage } from './support/shopper.ts';

/** A browser that follows one redirect hop at a time (so each hop can be checked). */
async function hop(url: string, init: RequestInit = {}): Promise<{ status: number; location: string | undefined; text: string; csp: string }> {
  const r = await fetchPage(url, init);
  return { status: r.status, location: r.headers.get('location') ?? undefined, text: await r.text(), csp: r.headers.get('content-security-policy') ?? '' };
}

let stripe: StripeFake;
let adyen: AdyenFake;
let oppFake: OppFake;
before(async () => { [stripe, adyen, oppFake] = await Promise.all([startStripeFake(), startAdyenFake({ multiplePartialCaptures: true }), startOppFake()]); });
after(async () => { await Promise.all([stripe?.close(), adyen?.close(), oppFake?.close()]); });

describe('executions: a PSP account whose PSP runs 3-D Secure', () => {
  let a: Gateway;
  let token: string;
  before(async () => {
    a = await startGateway();
    token = await tokenOf(a);
    await configureCascade(a, {
      stripe: { connector: 'stripe', settings: { baseUrl: stripe.url, ...stripeFakeCredentials } },
      // Multiple partial captures: a capture that fails late leaves the authorization capturable again.
      adyen: { connector: 'adyen', settings: { baseUrl: adyen.url, ...adyenFakeCredentials, multiplePartialCaptures: true } },
      sim: {},
    }, ['stripe', 'sim'], ['soft', 'error']);
  });
  after(async () => { await a?.close(); });

  async function authorize(card: string, holder: string) {
    const inst = await instrument(a, token, card, holder);
    const id = await execution(a, token, holder);
    const body = { ...authorizeBody(inst, '50.00'), returnInfo: { success: 'https://shop.example/ok', cancel: 'https://shop.example/cancel', error: 'https://shop.example/error' } };
    const ack = await call(a, 'POST', `${wf}/${id}/authorize`, { token, body });
    assert.equal(ack.status, 200, JSON.stringify(ack.body));
    return { id, e: await poll(a, token, id, ['created', 'authorizeRequested']) };
  }

  test('requiredAction forwards to the PSP\'s page; back on our return endpoint the PSP finishes the authorization', async () => {
    const { id, e } = await authorize(suiteCards.challenge, 'c-3ds');
    assert.equal(e.status, 'authorizePending', JSON.stringify(e.statusHistory?.at(-1)));
    assert.deepEqual([e.requiredAction.method, e.requiredAction.subType], ['GET', '3ds']);
    // Our hosted page forwards the shopper to the PSP's own challenge, as its redirect said.
    // Our own challenge's answer cannot stand in for the PSP's.
    const skip = await hop(`${e.requiredAction.href}/result`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'outcome=completed' });
    assert.equal(skip.status, 404);
    const forward = await hop(e.requiredAction.href);
    assert.equal(forward.status, 303);
    assert.ok(forward.location?.startsWith(`${stripe.url}/3ds/`), String(forward.location));
    const atPsp = await hop(`${forward.location!}?outcome=passed`);
    assert.equal(atPsp.status, 302);
    const returnUrl = new URL(atPsp.location!);
    assert.equal(returnUrl.origin, a.url);
    assert.match(returnUrl.pathname, /^\/hosted\/psp-return\/[0-9a-f]{32}\/[0-9a-f]{32}$/);
    const back = await hop(atPsp.location!);
    assert.equal(back.status, 303);
    assert.equal(back.location, 'https://shop.example/ok');
    const done = (await call(a, 'GET', `${wf}/${id}`, { token })).body;
    assert.equal(done.status, 'authorized', JSON.stringify(done.statusHistory?.at(-1)));
    assert.deepEqual(done.paymentComposition[0].attempts.map((x: any) => [x.pspAccount, x.status]), [['stripe', 'succeeded']]);
    // The return cannot be replayed, nor the forwarding page reused.
    assert.equal((await hop(atPsp.location!)).location, 'https://shop.example/ok');
    assert.equal((await hop(e.requiredAction.href)).status, 410);
  });

  test('a failed PSP challenge declines; the shopper who failed it is not charged elsewhere', async () => {
    const { id, e } = await authorize(suiteCards.challenge, 'c-3ds-fail');
    const forward = await hop(e.requiredAction.href);
    const atPsp = await hop(`${forward.location!}?outcome=failed`);
    const back = await hop(atPsp.location!);
    assert.equal(back.location, 'https://shop.example/error');
    const done = await poll(a, token, id, ['authorizePending']);
    assert.equal(done.status, 'authorizeFailed');
    assert.deepEqual(done.paymentComposition[0].attempts.map((x: any) => [x.pspAccount, x.status]), [['stripe', 'failed']]);
  });

  test('Adyen confirms captures by webhook on the account\'s inbound endpoint; a forged one is refused', async () => {
    await configureCascade(a, {}, ['adyen']);
    const { id, e } = await authorize(suiteCards.approved, 'c-adyen');
    assert.equal(e.status, 'authorized', JSON.stringify(e.statusHistory?.at(-1)));
    adyen.takeNotifications();
    assert.equal((await call(a, 'POST', `${wf}/${id}/capture`, { token, body: { amount: { value: '20.00', currency: 'EUR' }, final: false } })).status, 202);
    const pending = (await call(a, 'GET', `${wf}/${id}`, { token })).body;
    assert.notEqual(pending.status, 'partiallyCaptured', 'Adyen only said it received the capture');
    const [notification] = adyen.takeNotifications();
    assert.ok(notification);
    const endpoint = `${a.url}/psp-notifications/${a.merchant.merchantId}/adyen`;
    const forged = await fetch(endpoint, { method: 'POST', headers: { 'content-type': 'application/json' }, body: notification.replace(/"value":2000/, '"value":5000') });
    assert.equal(forged.status, 401);
    assert.notEqual((await call(a, 'GET', `${wf}/${id}`, { token })).body.status, 'partiallyCaptured');
    const genuine = await fetch(endpoint, { method: 'POST', headers: { 'content-type': 'application/json' }, body: notification });
    assert.equal(genuine.status, 200);
    assert.equal(await genuine.text(), '[accepted]');
    assert.equal((await call(a, 'GET', `${wf}/${id}`, { token })).body.status, 'partiallyCaptured');
    // Another account's endpoint, or one that takes no notifications, settles nothing.
    assert.equal((await fetch(`${a.url}/psp-notifications/${a.merchant.merchantId}/sim`, { method: 'POST', body: notification })).status, 404);
    assert.ok(!a.logs.join('').includes(adyenFakeCredentials.apiKey) && !a.logs.join('').includes(suiteCards.approved));
  });

  test('a late CAPTURE_FAILED takes back a capture Adyen had confirmed: the amount is open again, in the ledger and the merchant\'s events', async () => {
    await configureCascade(a, {}, ['adyen']);
    const { id, e } = await authorize(suiteCards.approved, 'c-adyen-late');
    assert.equal(e.status, 'authorized', JSON.stringify(e.statusHistory?.at(-1)));
    const paymentId = e.paymentComposition[0].paymentId;
    const endpoint = `${a.url}/psp-notifications/${a.merchant.merchantId}/adyen`;
    const deliver = async () => {
      for (const body of adyen.takeNotifications()) {
        const r = await fetch(endpoint, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
        assert.equal(r.status, 200);
        assert.equal(await r.text(), '[accepted]');
      }
    };
    await deliver();
    assert.equal((await call(a, 'POST', `${wf}/${id}/capture`, { token, body: { amount: { value: '20.00', currency: 'EUR' }, final: false } })).status, 202);
    await deliver();
    assert.equal((await call(a, 'GET', `${wf}/${id}`, { token })).body.status, 'partiallyCaptured');
    const captured = await a.app.ledger.paymentPostings(paymentId);
    assert.equal(ledgerTotalsOf(captured).captured, 2000);

    // Days later the scheme rejects it: Adyen says CAPTURE_FAILED for the capture it confirmed.
    const capture = adyen.confirmedCaptures().at(-1);
    adyen.failCapture(capture!);
    const [late] = adyen.takeNotifications();
    assert.match(late!, /"eventCode":"CAPTURE_FAILED"/);
    const r = await fetch(endpoint, { method: 'POST', headers: { 'content-type': 'application/json' }, body: late });
    assert.equal(r.status, 200);
    const ops = await a.app.storage.db.selectFrom('transactions').select(['id', 'type', 'status', 'result_code']).where('payment_id', '=', paymentId).execute();
    const cp = ops.find((o) => o.type === 'capture')!;
    assert.deepEqual([cp.status, cp.result_code], ['failed', 'CAPTURE_FAILED']);
    const after = (await call(a, 'GET', `${wf}/${id}`, { token })).body;
    // The execution's capture failed after all: its history says so, with Adyen's event as the code.
    assert.equal(after.status, 'captureFailed', JSON.stringify(after.statusHistory?.at(-1)));
    assert.equal(after.statusHistory.at(-1).code, 'captureFailed');
    assert.equal(after.statusHistory.at(-1).errors[0].reason.responseCode, 'CAPTURE_FAILED', JSON.stringify(after.statusHistory.at(-1)));
    assert.equal((await a.app.storage.db.selectFrom('payments').select('status').where('id', '=', paymentId).executeTakeFirstOrThrow()).status, 'authorized');
    // The ledger takes the capture back (reversing postings, the first ones kept) and still balances.
    const postings = await a.app.ledger.paymentPostings(paymentId);
    assert.deepEqual({ ...ledgerTotalsOf(postings) }, { authorized: 5000, captured: 0, refunded: 0, chargedBack: 0, credited: 0, held: 5000 });
    assert.equal(postings.filter((p) => p.operationId === cp.id).length, 4);
    assert.equal(await a.app.ledger.verify(), undefined);
    // The merchant hears of it: the capture's outcome event, now failed.
    const events = await a.app.storage.db.selectFrom('outbox').select(['type', 'subject_id']).where('subject_id', '=', cp.id).execute();
    assert.deepEqual(events.map((x) => x.type).sort(), ['operation.failed', 'operation.pending', 'operation.succeeded']);
    // Adyen sending it again changes nothing.
    assert.equal((await fetch(endpoint, { method: 'POST', headers: { 'content-type': 'application/json' }, body: late })).status, 200);
    assert.equal((await a.app.ledger.paymentPostings(paymentId)).length, postings.length);
    // The amount is open again: capturing it once more works.
    assert.equal((await call(a, 'POST', `${wf}/${id}/capture`, { token, body: { amount: { value: '50.00', currency: 'EUR' }, final: true } })).status, 202);
    await deliver();
    assert.equal((await call(a, 'GET', `${wf}/${id}`, { token })).body.status, 'captured');
    assert.equal(await a.app.ledger.verify(), undefined);
  });
});

describe('/v1: a PSP\'s own 3-D Secure reached through the gateway\'s page', () => {
  for (const vendor of ['stripe', 'opp'] as const) {
    test(`${vendor}: the /v1 redirect is the gateway's page, which forwards to the PSP as it asked; the shopperResultUrl is reached through our return endpoint`, async () => {
      const processor = vendor === 'stripe'
        ? createStripeConnector({ baseUrl: stripe.url, ...stripeFakeCredentials }, 5000)
        : createOppConnector({ baseUrl: oppFake.url, ...oppFakeCredentials }, 5000);
      const g = await startGateway({ processor });
      try {
        const r = await opp(g, 'POST', '/v1/payments', {
          amount: '12.50', currency: 'EUR', paymentBrand: 'VISA', paymentType: 'PA', 'card.number': suiteCards.challenge,
          'card.holder': 'Jane Jones', 'card.expiryMonth': '05', 'card.expiryYear': '2034', 'card.cvv': '123', shopperResultUrl: 'https://shop.example/result',
        });
        assert.equal(r.body.result.code, '000.200.000', JSON.stringify(r.body));
        // What the PSP put in its redirect never passes through the merchant's server.
        const redirect = r.body.redirect;
        assert.ok(redirect.url.startsWith(g.url), redirect.url);
        assert.equal(redirect.method, 'POST');
        const ours = await hop(redirect.url, { method: 'POST', body: new URLSearchParams(redirect.parameters.map((p: { name: string; value: string }) => [p.name, p.value])) });
        let toPsp: { url: URL; init: RequestInit };
        if (vendor === 'stripe') {
          assert.equal(ours.status, 303, ours.text);
          toPsp = { url: new URL(ours.location!), init: {} };
        } else {
          // The PSP asked for a POST: the page holds its form, sent on by the page's one script
          // (allowed by its hash alone), or by the shopper's button where script does not run.
          assert.equal(ours.status, 200);
          assert.match(ours.csp, /script-src 'sha256-[A-Za-z0-9+/=]+'$/);
          assert.doesNotMatch(ours.csp, /unsafe-inline/);
          assert.match(ours.text, /<button type="submit" class="primary">Continue to your bank<\/button>[\s\S]*<script>document\.forms\[0\]\.submit\(\)<\/script>/);
          const action = /<form method="post" action="([^"]+)">/.exec(ours.text)?.[1];
          assert.ok(action?.startsWith(oppFake.url), ours.text);
          const fields = [...ours.text.matchAll(/<input type="hidden" name="([^"]*)" value="([^"]*)">/g)].map((m) => [m[1]!, m[2]!.replaceAll('&amp;', '&')]);
          toPsp = { url: new URL(action!.replaceAll('&amp;', '&')), init: { method: 'POST', body: new URLSearchParams(fields) } };
        }
        assert.ok(toPsp.url.href.startsWith(vendor === 'stripe' ? stripe.url : oppFake.url), toPsp.url.href);
        toPsp.url.searchParams.set('outcome', 'passed');
        const atPsp = await hop(toPsp.url.href, toPsp.init);
        assert.equal(atPsp.status, 302);
        const back = await hop(atPsp.location!);
        assert.equal(back.status, 303);
        const result = new URL(back.location!);
        assert.equal(result.origin + result.pathname, 'https://shop.example/result');
        const status = await opp(g, 'GET', `/v1/payments/${r.body.id}`);
        assert.match(status.body.result.code, /^000\.(000|100)\./, JSON.stringify(status.body));
      } finally {
        await g.close();
      }
    });
  }
});

test('stripe: a void of a PaymentIntent already canceled (a new key) is approved: the hold is gone; a void of a captured one is refused', async () => {
  const connector = createStripeConnector({ baseUrl: stripe.url, ...stripeFakeCredentials }, 5000);
  const eur = (minor: number) => money(minor, 'EUR' as Currency);
  const key = () => randomBytes(16).toString('hex');
  const card = { pan: new Pan(suiteCards.approved), cvv: new Cvv('123'), brand: 'VISA' as const, holder: 'Jane Jones', expiryMonth: '05', expiryYear: '34' };
  const authorized = async () => {
    const a = await connector.execute({ operation: 'authorize', attemptId: key(), amount: eur(5_000), live: false, card, testParameters: {} });
    assert.equal(a.kind, 'approved', JSON.stringify(a));
    return a.pspReference!;
  };
  const act = (operation: 'void' | 'capture', ref: string) => connector.execute({ operation, attemptId: key(), amount: eur(5_000), live: false, originalReference: ref, testParameters: {} });
  const voided = await authorized();
  assert.equal((await act('void', voided)).kind, 'approved');
  const again = await act('void', voided);
  assert.equal(again.kind, 'approved', JSON.stringify(again));
  assert.equal(again.pspReference, voided);
  const captured = await authorized();
  assert.equal((await act('capture', captured)).kind, 'approved');
  // Captured in full, nothing of it was released: a void stays refused (the shopper was charged).
  const refused = await act('void', captured);
  assert.equal(refused.kind, 'declined', JSON.stringify(refused));
  stripe.takeEvents();
});

test('adyen: a redirectResult of another payment brought back to this attempt\'s return (Adyen gave no pspReference before the details call) does not finish it', async () => {
  // Adyen's side: the redirectResult "R-CHEAP" belongs to the €1 payment whose reference is attempt "cheap-attempt".
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (c) => { body += c; });
    req.on('end', () => {
      const json = JSON.parse(body || '{}');
      res.setHeader('content-type', 'application/json');
      if (req.url === '/payments/details' && json.details?.redirectResult === 'R-CHEAP') {
        res.end(JSON.stringify({ resultCode: 'Authorised', pspReference: 'PSPCHEAP00000001', merchantReference: 'cheap-attempt', amount: { value: 100, currency: 'EUR' } }));
        return;
      }
      res.statusCode = 422;
      res.end(JSON.stringify({ status: 422, errorCode: '101', message: 'Invalid redirectResult', errorType: 'validation' }));
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  try {
    const adyen = createAdyenConnector({ baseUrl: url, apiKey: 'k', merchantAccount: 'ShopECOM', hmacKey: '00'.repeat(32) } as never, 2000);
    // The €1000 payment's attempt: its RedirectShopper answer had no pspReference (undefined).
    let outcome: unknown;
    try {
      outcome = await adyen.complete!({ attemptId: 'expensive-attempt', amount: money(100_000, 'EUR' as Currency), pspReference: undefined, parameters: { redirectResult: 'R-CHEAP' } });
    } catch (err) {
      outcome = { threw: String(err) };
    }
    assert.notEqual((outcome as { kind?: string }).kind, 'approved',
      `the €1000 attempt was approved by the €1 payment's redirectResult: ${JSON.stringify(outcome)}`);
  } finally {
    server.close();
  }
});

test('stripe and opp: a return naming another attempt\'s payment does not finish this attempt', async () => {
  const key = () => randomBytes(16).toString('hex');
  const card = { pan: new Pan(suiteCards.challenge), cvv: new Cvv('123'), brand: 'VISA' as const, holder: 'Jane Jones', expiryMonth: '05', expiryYear: '34' };
  const stripeConnector = createStripeConnector({ baseUrl: stripe.url, ...stripeFakeCredentials }, 5000);
  const cheap = await stripeConnector.execute({ operation: 'authorize', attemptId: key(), amount: money(100, 'EUR' as Currency), live: false, card, testParameters: {}, returnUrl: 'https://gw.example/r' });
  assert.equal(cheap.kind, 'pending');
  await assert.rejects(stripeConnector.complete!({ attemptId: key(), amount: money(100_000, 'EUR' as Currency), pspReference: cheap.pspReference, parameters: { payment_intent: cheap.pspReference! } }), /another payment/);
  // A return naming no PaymentIntent, or another than the attempt's, asks Stripe nothing.
  await assert.rejects(stripeConnector.complete!({ attemptId: key(), amount: money(100, 'EUR' as Currency), pspReference: cheap.pspReference, parameters: {} }), /names no PaymentIntent/);
  await assert.rejects(stripeConnector.complete!({ attemptId: key(), amount: money(100, 'EUR' as Currency), pspReference: cheap.pspReference, parameters: { payment_intent: 'pi_other' } }), /another PaymentIntent/);
  const oppConnector = createOppConnector({ baseUrl: oppFake.url, ...oppFakeCredentials }, 5000);
  const other = await oppConnector.execute({ operation: 'authorize', attemptId: key(), amount: money(100, 'EUR' as Currency), live: false, card, testParameters: {}, returnUrl: 'https://gw.example/r' });
  assert.equal(other.kind, 'pending');
  await assert.rejects(oppConnector.complete!({ attemptId: key(), amount: money(100_000, 'EUR' as Currency), pspReference: undefined, parameters: { id: other.pspReference! } }), /another payment/);
  stripe.takeEvents();
});
