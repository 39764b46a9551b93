/**
 * POST /v1/checkouts/{id}/payment takes a card only from the gateway's own card frame: a page on
 * another origin posting a card (one that never framed the gateway's fields) is refused and cannot
 * read the answer. And one checkout takes a bounded number of declined payments, so a checkout id
 * taken from a shop's page is not a way to test stolen cards, one decline code after another; a
 * refusal before any PSP was asked (a card number that is no card's) does not count.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Browser } from 'playwright-core';
import { opp, startGateway, type Gateway } from './support/harness.ts';
import { launchChromium } from './support/browser.ts';
import { createServer, type Server } from 'node:http';

let gw: Gateway;
let browser: Browser;
let server: Server;
/** An origin the merchant never registered (localhost, beside the gateway's 127.0.0.1). */
let attacker: string;
before(async () => {
  server = createServer((_q, s) => { s.setHeader('content-type', 'text/html'); s.end('<!doctype html><title>x</title>'); });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  attacker = `http://localhost:${(server.address() as { port: number }).port}/`;
  gw = await startGateway();
  // The merchant registered its shop's origin: its fields may be framed only there.
  await gw.app.merchants.addOrigin(gw.merchant.merchantId, 'https://shop.example');
  browser = await launchChromium();
});
after(async () => { await browser?.close(); await gw?.close(); server?.close(); });

async function checkout(): Promise<string> {
  const r = await opp(gw, 'POST', '/v1/checkouts', { amount: '10.00', currency: 'EUR', paymentType: 'DB', shopperResultUrl: 'https://shop.example/result' });
  assert.equal(r.body.result.code, '000.200.100', JSON.stringify(r.body));
  return r.body.id;
}

/** A page on an unregistered origin (served by route interception, no network) that posts a card to the checkout. */
async function fromAttacker(id: string, pans: string[]): Promise<Array<{ ok: boolean; code?: string; error?: string }>> {
  const context = await browser.newContext();
  const page = await context.newPage();
  await page.goto(attacker);
  const out = await page.evaluate(async ({ url, pans }) => {
    const results = [];
    for (const pan of pans) {
      const form = new URLSearchParams({ 'card.number': pan, 'card.expiryMonth': '12', 'card.expiryYear': '2030', 'card.cvv': '123', 'card.holder': 'J J' });
      try {
        const res = await fetch(url, { method: 'POST', body: form });
        const body = await res.json() as { result?: { code?: string } };
        results.push({ ok: true, code: body.result?.code });
      } catch (e) { results.push({ ok: false, error: String(e) }); }
    }
    return results;
  }, { url: `${gw.url}/v1/checkouts/${id}/payment`, pans });
  await context.close();
  return out;
}

test('a page on an origin the merchant did not register cannot pay the checkout with a card of its own, nor read the answer', async () => {
  const id = await checkout();
  const [r] = await fromAttacker(id, ['4200000000000091']);
  assert.equal(r!.ok, false, `the unregistered origin read the payment's answer: ${JSON.stringify(r)}`);
  const status = await opp(gw, 'GET', `/v1/checkouts/${id}/payment`);
  assert.doesNotMatch(String(status.body.result.code), /^000\.(000|100)\./, 'no payment was made from the unregistered origin');
});

test('one checkout id is not an unlimited card-testing oracle: declines on it are bounded', async () => {
  const id = await checkout();
  // Twenty different cards tried against one checkout id, each decline readable by the page.
  const declining = ['4000000000000002', '4000000000009995', '4000000000009623', '4000000000000069', '4000000000009987'];
  const pans = Array.from({ length: 20 }, (_, i) => declining[i % declining.length]!);
  const results = await fromAttacker(id, pans);
  const readDeclines = results.filter((r) => r.ok && /^800\./.test(r.code ?? ''));
  assert.ok(readDeclines.length <= 10, `${readDeclines.length} declines in a row were made and read on one checkout: ${JSON.stringify(results.map((r) => r.code ?? r.error))}`);
});

test('five declines close the checkout to payments (429 800.120.100); refusals before the PSP do not count', async () => {
  const id = await checkout();
  const pay = (number: string) => fetch(`${gw.url}/v1/checkouts/${id}/payment`, {
    method: 'POST', body: new URLSearchParams({ 'card.number': number, 'card.expiryMonth': '12', 'card.expiryYear': '2030', 'card.cvv': '123', 'card.holder': 'J J' }),
  }).then(async (r) => ({ status: r.status, body: await r.json() as { result: { code: string } } }));
  for (let i = 0; i < 3; i++) assert.notEqual((await pay('4111111111111112')).body.result.code.slice(0, 4), '800.', 'a number that fails its check digit is refused before any PSP');
  for (let i = 0; i < 5; i++) assert.match((await pay('4000000000000002')).body.result.code, /^800\.100\./, `decline ${i + 1} is answered as one`);
  const payments = async () => (await gw.app.storage.db.selectFrom('payments').select('id').execute()).length;
  const made = await payments();
  const sixth = await pay('4000000000000002');
  assert.equal(sixth.status, 429);
  assert.equal(sixth.body.result.code, '800.120.100', JSON.stringify(sixth.body));
  assert.equal(await payments(), made, 'nothing recorded, no PSP asked');
});

test('one-click (a saved card, no card data) from the shop\'s page: answered readable on its registered origin; from another origin refused 403, nothing paid', async () => {
  const reg = await opp(gw, 'POST', '/v1/registrations', { 'card.number': '4200000000000000', 'card.holder': 'J J', 'card.expiryMonth': '12', 'card.expiryYear': '2030', 'card.cvv': '123', paymentBrand: 'VISA' });
  assert.equal(reg.body.result.code, '000.100.110', JSON.stringify(reg.body));
  const oneClick = async (origin: string) => {
    const c = await opp(gw, 'POST', '/v1/checkouts', { amount: '10.00', currency: 'EUR', paymentType: 'DB', shopperResultUrl: 'https://shop.example/result', 'registrations[0].id': reg.body.id });
    const r = await fetch(`${gw.url}/v1/checkouts/${c.body.id}/payment`, { method: 'POST', headers: { origin }, body: new URLSearchParams({ registrationId: reg.body.id }) });
    return { id: c.body.id as string, status: r.status, cors: r.headers.get('access-control-allow-origin'), body: await r.json() as { result: { code: string } } };
  };
  const fromShop = await oneClick('https://shop.example');
  assert.equal(fromShop.body.result.code, '000.100.110', JSON.stringify(fromShop.body));
  assert.equal(fromShop.cors, 'https://shop.example');
  const elsewhere = await oneClick('https://elsewhere.example');
  assert.equal(elsewhere.status, 403, JSON.stringify(elsewhere.body));
  assert.equal(elsewhere.cors, null, 'its answer is not readable there');
  assert.equal((await opp(gw, 'GET', `/v1/checkouts/${elsewhere.id}/payment`)).body.result.code, '000.200.000', 'nothing paid');
});
