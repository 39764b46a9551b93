/**
 * The OPP-family connector end to end between two gateway processes: gateway A routes its demo
 * merchant's payments (both dialects) to a PSP account whose acquirer is gateway B, a separate
 * `node src/main.ts`, reached over B's own `/v1` server-to-server API. B's simulated acquirer
 * declines by its account's rules and loses answers by its test cards; A's cascade moves on to its
 * own simulated account. A 3-D Secure challenge card goes to B unauthenticated (A's first PSP
 * runs 3-D Secure itself, so A's own gate stands aside): A passes B's redirect through, the shopper
 * (Chromium) answers B's hosted challenge and comes back through A's `/hosted/psp-return`.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { opp, tempDir, testCard } from './support/harness.ts';
import { authorizeBody, call, execution, instrument, poll, tokenOf, wf } from './support/executions.ts';
import { adminHeaders, demoCredentials, startGatewayProcess, type GatewayProcess } from './support/process.ts';
import { launchChromium, withScreenshot } from './support/browser.ts';
import { startMerchantSite, type MerchantSite } from './support/merchant-site.ts';
import type { MerchantCredentials } from '../src/merchants/service.ts';
import type { Browser, Page } from 'playwright-core';

const cards = {
  approved: '4111111111111111', softDecline: '4242424242424242', lostAnswer: '4000000000003006',
  // 3-D Secure test cards of B's simulated issuer (A's too, were A to authenticate itself).
  challenge: '4200000000000042', challengeToFail: '4200000000000018',
};

const dirA = tempDir();
const dirB = tempDir();
let procA: GatewayProcess;
let procB: GatewayProcess;
let a: { url: string; merchant: MerchantCredentials };
let b: { url: string; merchant: MerchantCredentials };
let token: string;

before(async () => {
  // Short PSP timeouts: B gives up on its simulator's lost answer after a second (and its
  // reconciler settles it seconds later); A waits longer than that for B, and reconciles every 3 s.
  const jobs = { SWITCHYARD_JOB_POLL_MS: '200' };
  // One after the other, each kept as soon as it runs, so that `after` stops whichever started.
  procB = await startGatewayProcess({ ...jobs, SWITCHYARD_PSP_TIMEOUT_MS: '1000', SWITCHYARD_DATA_DIR: dirB });
  procA = await startGatewayProcess({ ...jobs, SWITCHYARD_PSP_TIMEOUT_MS: '3000', SWITCHYARD_DATA_DIR: dirA });
  a = { url: procA.url, merchant: demoCredentials(dirA, procA.output()) };
  b = { url: procB.url, merchant: demoCredentials(dirB, procB.output()) };
  // B's acquirer (a simulated account of B's merchant) soft-declines cards ending 4242, which A's own simulated account approves.
  const adminB = adminHeaders(dirB);
  const simB = await fetch(`${b.url}/admin/merchants/${b.merchant.merchantId}/psp-accounts/sim-b`, {
    method: 'PUT', headers: adminB, body: JSON.stringify({ connector: 'simulator', settings: { declines: [{ cardSuffixes: ['4242'], category: 'soft' }] } }),
  });
  assert.equal(simB.status, 200, await simB.text());
  const wfB = await fetch(`${b.url}/admin/merchants/${b.merchant.merchantId}/workflows/payment-acceptance`, { method: 'PATCH', headers: adminB, body: JSON.stringify({ accounts: ['sim-b'] }) });
  assert.equal(wfB.status, 200, await wfB.text());
  const admin = adminHeaders(dirA);
  const accounts = {
    'acq-b': { connector: 'opp', settings: { baseUrl: b.url, accessToken: b.merchant.accessToken, entityId: b.merchant.entityId }, timeoutMs: 2500 },
    'sim-a': { connector: 'simulator', settings: {} },
  };
  for (const [name, body] of Object.entries(accounts)) {
    const r = await fetch(`${a.url}/admin/merchants/${a.merchant.merchantId}/psp-accounts/${name}`, { method: 'PUT', headers: admin, body: JSON.stringify(body) });
    assert.equal(r.status, 200, await r.text());
  }
  const wfr = await fetch(`${a.url}/admin/merchants/${a.merchant.merchantId}/workflows/payment-acceptance`, {
    method: 'PATCH', headers: admin, body: JSON.stringify({ accounts: ['acq-b', 'sim-a'], moveOn: ['soft', 'error'] }),
  });
  assert.equal(wfr.status, 200, await wfr.text());
  token = await tokenOf(a);
});

after(async () => {
  await Promise.all([procA?.stop(), procB?.stop()]);
  rmSync(dirA, { recursive: true, force: true });
  rmSync(dirB, { recursive: true, force: true });
});

/** What B holds for one of A's attempts, found by the attempt id A sent as merchantTransactionId. */
const atB = async (attemptId: string) => (await opp(b, 'GET', `/v1/query?merchantTransactionId=${attemptId}`)).body;
const payAtA = (params: Record<string, string>) => opp(a, 'POST', '/v1/payments', { ...testCard, amount: '92.00', currency: 'EUR', paymentType: 'DB', ...params });

async function authorize(card: string, holder: string, returnInfo?: Record<string, string>) {
  const inst = await instrument(a, token, card, holder);
  const id = await execution(a, token, holder);
  const ack = await call(a, 'POST', `${wf}/${id}/authorize`, { token, body: { ...authorizeBody(inst, '50.00'), ...(returnInfo ? { returnInfo } : {}) } });
  assert.equal(ack.status, 200, JSON.stringify(ack.body));
  return poll(a, token, id, ['created', 'authorizeRequested']);
}

describe('gateway A routes to gateway B (two processes)', () => {
  test('a /v1 payment on A is a payment at B: authorize then capture, under A\'s attempt ids', async () => {
    const pa = await payAtA({ paymentType: 'PA', 'card.number': cards.approved });
    assert.equal(pa.body.result.code, '000.100.110', JSON.stringify(pa.body));
    // The first attempt carries the payment's id: B knows it by that merchantTransactionId.
    const held = await atB(pa.body.id);
    assert.deepEqual(held.payments.map((p: any) => [p.paymentType, p.amount, p.currency, p.card.last4Digits]), [['PA', '92.00', 'EUR', '1111']]);
    const cp = await opp(a, 'POST', `/v1/payments/${pa.body.id}`, { paymentType: 'CP', amount: '92.00', currency: 'EUR' });
    assert.equal(cp.body.result.code, '000.100.110', JSON.stringify(cp.body));
    const captured = await atB(cp.body.id);
    assert.deepEqual(captured.payments.map((p: any) => [p.paymentType, p.amount, p.referencedId]), [['CP', '92.00', held.payments[0].id]]);
  });

  test('an executions authorization on A is authorized at B', async () => {
    const e = await authorize(cards.approved, 'two-gw-ok');
    assert.equal(e.status, 'authorized', JSON.stringify(e.statusHistory?.at(-1)));
    const attempts = e.paymentComposition[0].attempts;
    assert.deepEqual(attempts.map((x: any) => [x.pspAccount, x.status]), [['acq-b', 'succeeded']]);
    const held = await atB(attempts[0].id);
    assert.deepEqual(held.payments.map((p: any) => [p.paymentType, p.amount, p.result.code]), [['PA', '50.00', '000.100.110']]);
  });

  test('a decline at B cascades to A\'s simulated account, in both dialects', async () => {
    const e = await authorize(cards.softDecline, 'two-gw-soft');
    assert.equal(e.status, 'authorized', JSON.stringify(e.statusHistory?.at(-1)));
    const attempts = e.paymentComposition[0].attempts;
    assert.deepEqual(attempts.map((x: any) => [x.pspAccount, x.status, x.resultCode]), [['acq-b', 'failed', '800.100.152'], ['sim-a', 'succeeded', '000.100.110']]);
    assert.equal((await atB(attempts[0].id)).payments[0].result.code, '800.100.152');
    assert.equal(await atB(attempts[1].id).then((r) => r.result.code), '700.400.580', 'B never saw the simulated attempt');

    const v1 = await payAtA({ 'card.number': cards.softDecline });
    assert.equal(v1.body.result.code, '000.100.110', JSON.stringify(v1.body));
    assert.equal((await atB(v1.body.id)).payments[0].result.code, '800.100.152', 'declined at B first');
  });

  test('an answer lost between A and B leaves A\'s attempt unknown; A\'s reconciler settles it through B\'s query API', async () => {
    const e = await authorize(cards.lostAnswer, 'two-gw-lost');
    assert.equal(e.status, 'unknown', JSON.stringify(e.statusHistory?.at(-1)));
    const [attempt] = e.paymentComposition[0].attempts;
    assert.deepEqual([attempt.pspAccount, attempt.status], ['acq-b', 'unknown']);
    // B lost its own simulator's answer too; its reconciler settles it, then A's asks B and learns it.
    let settled: any;
    for (let i = 0; i < 120; i++) {
      settled = (await call(a, 'GET', `${wf}/${e.id}`, { token })).body;
      if (settled.status !== 'unknown') break;
      await new Promise((r) => setTimeout(r, 250));
    }
    assert.equal(settled.status, 'authorized', JSON.stringify(settled.statusHistory?.at(-1)));
    assert.deepEqual(settled.paymentComposition[0].attempts.map((x: any) => [x.pspAccount, x.status]), [['acq-b', 'succeeded']], 'no second charge elsewhere');
    const held = await atB(attempt.id);
    assert.equal(held.payments.length, 1, 'B charged once');
    assert.equal(held.payments[0].result.code, '000.100.110');
  });

});

describe('3-D Secure on B\'s hosted page, for payments made on A (Chromium)', () => {
  let shop: MerchantSite;
  let browser: Browser;
  // A's cascade is B alone here: only a cascade whose every PSP runs 3-D Secure leaves it to them
  // (one that may move on to A's simulated account has A authenticate first, and B is told so).
  const cascadeOfA = (accounts: string[]) => fetch(`${a.url}/admin/merchants/${a.merchant.merchantId}/workflows/payment-acceptance`, {
    method: 'PATCH', headers: adminHeaders(dirA), body: JSON.stringify({ accounts, moveOn: ['soft', 'error'] }),
  });
  before(async () => {
    assert.equal((await cascadeOfA(['acq-b'])).status, 200);
    // A's merchant: its backend calls A's /v1 and sends the shopper on with the redirect A answers.
    shop = await startMerchantSite(a);
    browser = await launchChromium();
  });
  after(async () => {
    await browser?.close();
    await shop?.close();
    await cascadeOfA(['acq-b', 'sim-a']);
  });

  /** Every page the shopper's browser loaded, in order (the top frame's navigations). */
  async function shopper(name: string, steps: (page: Page, visited: string[]) => Promise<void>) {
    const context = await browser.newContext();
    const page = await context.newPage();
    const visited: string[] = [];
    const blocked: string[] = [];
    page.on('framenavigated', (f) => { if (f === page.mainFrame()) visited.push(f.url()); });
    page.on('console', (m) => { if (/Content Security Policy/i.test(m.text())) blocked.push(m.text()); });
    try {
      await withScreenshot(page, name, async () => {
        try { await steps(page, visited); } catch (err) { throw new Error(`${(err as Error).message}\nblocked: ${blocked.join('\n')}\nvisited: ${visited.join('\n')}`, { cause: err }); }
        // No page on the way (B's challenge, A's forwarding page) blocked where the shopper had to go.
        assert.deepEqual(blocked, []);
      });
    } finally {
      await context.close();
    }
    return visited;
  }

  const at = (base: string, path: RegExp) => (u: string) => u.startsWith(`${base}/`) && path.test(new URL(u).pathname);

  test('/v1: A forwards the shopper to B\'s challenge through its own page; the challenge completed on B\'s page; back through A to the merchant, approved', async () => {
    let action = '';
    const visited = await shopper('two-gw-3ds-complete', async (page, seen) => {
      await page.goto(`${shop.url}/checkout?${new URLSearchParams({ card: cards.challenge, order: 'two-gw-3ds-1' })}`);
      // The merchant's form is A's redirect: A's own page, which forwards to B's as B asked (B's
      // redirect never passes through the merchant's server).
      action = (await page.locator('form').getAttribute('action')) ?? '';
      assert.ok(at(a.url, /^\/hosted\/3ds\/[0-9a-f]{32}$/)(action), action);
      await page.getByRole('button', { name: 'Continue to your bank' }).click();
      await page.waitForURL(`${b.url}/hosted/3ds/**`);
      await page.getByRole('heading', { name: 'Verify your payment' }).waitFor();
      assert.match(await page.locator('main').innerText(), /92\.00 EUR[\s\S]*VISA •••• 0042/);
      await page.getByRole('button', { name: 'Complete', exact: true }).click();
      await page.waitForURL(`${shop.url}/result?**`);
      assert.equal(await page.locator('#code').innerText(), '000.100.110', seen.join('\n'));
      const id = await page.locator('#payment-id').innerText();
      assert.equal(shop.returns.at(-1), `/v1/payments/${id}`);
      // A's own status call: approved, by B, under A's attempt id.
      const status = await opp(a, 'GET', `/v1/payments/${id}`);
      assert.equal(status.body.result.code, '000.100.110', JSON.stringify(status.body));
      assert.equal(status.body.paymentType, 'DB');
      const held = await atB(id);
      assert.deepEqual(held.payments.map((p: any) => [p.paymentType, p.amount, p.result.code]), [['DB', '92.00', '000.100.110']]);
      // B authenticated the shopper itself; A asked nothing of its own issuer.
      assert.equal(held.payments[0].threeDSecure?.eci, '05', JSON.stringify(held.payments[0]));
    });
    // The shopper's way: the merchant, A's forwarding page (sent on by itself), B's challenge, A's
    // return endpoint (a 303, seen as the next page's load), the merchant's result page.
    const atA = visited.findIndex(at(a.url, /^\/hosted\/3ds\//));
    assert.ok(atA >= 0 && visited.findIndex(at(b.url, /^\/hosted\/3ds\//)) > atA, visited.join('\n'));
    assert.ok(at(shop.url, /^\/result$/)(visited.at(-1)!), visited.join('\n'));
  });

  test('/v1: a challenge failed on B\'s page is declined at A, and a repeated return changes nothing', async () => {
    let returnUrl = '';
    await shopper('two-gw-3ds-fail', async (page) => {
      // Seen on the way through: B sends the shopper back to A's return endpoint for this attempt.
      page.on('request', (r) => { if (r.isNavigationRequest() && at(a.url, /^\/hosted\/psp-return\//)(r.url())) returnUrl = r.url(); });
      await page.goto(`${shop.url}/checkout?${new URLSearchParams({ card: cards.challengeToFail, type: 'PA', order: 'two-gw-3ds-2' })}`);
      await page.getByRole('button', { name: 'Continue to your bank' }).click();
      await page.waitForURL(`${b.url}/hosted/3ds/**`);
      await page.getByRole('button', { name: 'Fail', exact: true }).click();
      await page.waitForURL(`${shop.url}/result?**`);
      assert.equal(await page.locator('#code').innerText(), '100.380.401');
      const id = await page.locator('#payment-id').innerText();
      const status = await opp(a, 'GET', `/v1/payments/${id}`);
      assert.equal(status.body.result.code, '100.380.401', JSON.stringify(status.body));
      assert.equal((await atB(id)).payments[0].result.code, '100.380.401');
      // Not moved on to A's simulated account: a shopper who failed authentication is charged nowhere.
      const e = await opp(a, 'GET', `/v1/query?merchantTransactionId=two-gw-3ds-2`);
      assert.equal(e.body.payments.length, 1, JSON.stringify(e.body));
    });
    assert.match(returnUrl, /\/hosted\/psp-return\/[0-9a-f]{32}\/[0-9a-f]{32}\?/);
    const again = await fetch(returnUrl, { redirect: 'manual' });
    assert.equal(again.status, 303);
    assert.ok(again.headers.get('location')?.startsWith(`${shop.url}/result?`));
  });

  test('executions: requiredAction on A forwards to B\'s challenge; Complete there authorizes the execution at A', async () => {
    const returnInfo = { success: `${shop.url}/done/success`, cancel: `${shop.url}/done/cancel`, error: `${shop.url}/done/error` };
    const e = await authorize(cards.challenge, 'two-gw-3ds-exec', returnInfo);
    assert.equal(e.status, 'authorizePending', JSON.stringify(e.statusHistory?.at(-1)));
    assert.equal(e.requiredAction.subType, '3ds');
    assert.ok(e.requiredAction.href.startsWith(`${a.url}/hosted/3ds/`), e.requiredAction.href);
    const visited = await shopper('two-gw-3ds-exec', async (page) => {
      // A's page forwards the shopper to B's (a form, as B asked for a POST, sent on by the page's one allowed script).
      await page.goto(e.requiredAction.href);
      await page.waitForURL(`${b.url}/hosted/3ds/**`);
      assert.match(await page.locator('main').innerText(), /50\.00 EUR[\s\S]*VISA •••• 0042/);
      await page.getByRole('button', { name: 'Complete', exact: true }).click();
      await page.waitForURL(returnInfo.success);
    });
    assert.ok(visited.some(at(b.url, /^\/hosted\/3ds\//)), visited.join('\n'));
    const done = (await call(a, 'GET', `${wf}/${e.id}`, { token })).body;
    assert.equal(done.status, 'authorized', JSON.stringify(done.statusHistory?.at(-1)));
    const attempts = done.paymentComposition[0].attempts;
    assert.deepEqual(attempts.map((x: any) => [x.pspAccount, x.status]), [['acq-b', 'succeeded']]);
    const held = await atB(attempts[0].id);
    assert.deepEqual(held.payments.map((p: any) => [p.paymentType, p.amount, p.result.code]), [['PA', '50.00', '000.100.110']]);
  });
});

describe('afterwards', () => {
  test('neither gateway logged the card numbers; A never logged B\'s token', () => {
    for (const out of [procA.output(), procB.output()]) for (const n of Object.values(cards)) assert.ok(!out.includes(n), n);
    assert.ok(!procA.output().includes(b.merchant.accessToken));
  });
});
