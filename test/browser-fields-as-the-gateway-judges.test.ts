/**
 * The secure fields judge a card as the gateway will when it is saved: the network from the same
 * number ranges (a number of no network the gateway knows is not valid; the brand the page is told
 * is the network the instrument is saved as), the security code's length by that network (a
 * Maestro card's is three digits), full-width digits read as the digits they are. A double click on
 * a button the page left enabled saves the card once, and a tokenize is always answered: after the
 * fields are destroyed, or asked before the card-number frame has loaded.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Browser, Page, Route } from 'playwright-core';
import type { Gateway } from './support/harness.ts';
import { startFieldsShop } from './support/browser.ts';
import { call } from './support/executions.ts';

let gw: Gateway;
let browser: Browser;
let shop: Awaited<ReturnType<typeof startFieldsShop>> | undefined;
let shopOrigin: string;
before(async () => {
  shop = await startFieldsShop();
  ({ gw, browser, origin: shopOrigin } = shop);
});
after(async () => { await shop?.close(); });

/** The merchant's page with the SDK's three fields mounted for one holder (client/init made by its backend). */
async function open(holder: string): Promise<Page> {
  const m = gw.merchant;
  const t = await fetch(`${gw.url}/auth/token/${m.clientId}`, { method: 'POST', headers: { 'x-api-key': m.apiKey } });
  const token = ((await t.json()) as { access_token: string }).access_token;
  const init = (await call(gw, 'POST', '/merchant/client/init', { token, body: { type: 'secureFields', holderReference: holder, workflowCode: 'payment-acceptance' } })).body;
  const page = await browser.newPage();
  await page.goto(`${shopOrigin}/`);
  await page.waitForFunction('!!window.Switchyard');
  await page.evaluate(`(() => {
    window.sy = window.Switchyard.init(${JSON.stringify(init)});
    window.fields = window.sy.secureFields();
    window.fields.mount('cardNumber', '#n').mount('expiry', '#e').mount('cvv', '#c');
    window.last = {}; window.fields.on('change', (e) => { window.last = e; });
  })()`);
  for (const s of ['#n', '#e', '#c']) await page.frameLocator(`${s} iframe`).locator('body[data-field=ready]').waitFor();
  return page;
}
const input = (page: Page, s: string) => page.frameLocator(`${s} iframe`).locator('input');
async function typeCard(page: Page, number: string, expiry: string, cvv: string) {
  await input(page, '#n').pressSequentially(number);
  await input(page, '#e').pressSequentially(expiry);
  await input(page, '#c').pressSequentially(cvv);
  await page.waitForTimeout(400);
}
const tokenize = (page: Page) => page.evaluate(`window.fields.tokenize({ storeInstrument: false })
  .then((i) => ({ saved: i }), (e) => ({ refused: String(e && e.message), code: e.code, field: e.field }))`) as Promise<{ saved?: unknown; refused?: string; code?: string; field?: string }>;

const within = (expr: string, ms: number) => `Promise.race([(${expr}).then((i) => 'resolved', (e) => 'rejected: ' + e.message), new Promise((r) => setTimeout(() => r('still pending'), ${ms}))])`;

test('a Maestro card with a 4-digit security code is not reported complete (the gateway refuses it); with three digits it is, and is saved as Maestro', async () => {
  const page = await open('maestro-holder');
  try {
    await typeCard(page, '6759649826438453', '1230', '1234');
    const complete = await page.evaluate('window.fields.isComplete()');
    const outcome = await tokenize(page);
    assert.equal(complete, false, `the fields said complete, and the gateway answered: ${JSON.stringify(outcome)}`);
    assert.equal(outcome.field, 'card.cvv', 'the refusal names the field to correct');
    await input(page, '#c').press('Backspace');
    await page.waitForTimeout(300);
    assert.equal(await page.evaluate('window.fields.isComplete()'), true);
    const saved = await tokenize(page) as { saved?: { network: string } };
    assert.equal(saved.saved?.network, 'maestro', JSON.stringify(saved));
  } finally { await page.close(); }
});

test('a number of no supported network (2200…) is not reported valid as a Mastercard', async () => {
  const page = await open('mir-holder');
  try {
    await typeCard(page, '2200000000000004', '1230', '123');
    const numberState = await page.evaluate('window.fields.states.cardNumber') as { valid: boolean; brand?: string };
    const outcome = await tokenize(page);
    assert.equal(numberState.valid, false, `the frame said ${JSON.stringify(numberState)}; the gateway answered ${JSON.stringify(outcome)}`);
    assert.equal(numberState.brand, undefined);
    assert.equal(outcome.field, 'card.number', JSON.stringify(outcome));
  } finally { await page.close(); }
});

for (const [pan, network] of [['6221260000000000', 'discover'], ['4917610000000000', 'visa_electron'], ['5019000000000008', 'dankort']]) {
  test(`the brand the page is told is the network the instrument is saved as (${pan.slice(0, 6)}…: ${network})`, async () => {
    const page = await open(`${network}-holder`);
    try {
      await typeCard(page, pan, '1230', '123');
      const told = (await page.evaluate('window.fields.states.cardNumber') as { brand?: string }).brand;
      const outcome = await tokenize(page) as { saved?: { network: string } };
      assert.ok(outcome.saved, JSON.stringify(outcome));
      assert.equal(told, outcome.saved.network, 'the page showed one brand, the card was saved as another');
      assert.equal(told, network);
    } finally { await page.close(); }
  });
}

test('two tokenize calls at once for the card on screen save one instrument, not two', async () => {
  const page = await open('double-click-holder');
  try {
    await typeCard(page, '4111111111111111', '1230', '123');
    const ids = await page.evaluate(`Promise.all([
      window.fields.tokenize({ storeInstrument: true }), window.fields.tokenize({ storeInstrument: true }),
    ]).then((a) => a.map((i) => i.id))`) as string[];
    const saved = await page.evaluate('window.sy.savedCards()') as unknown[];
    assert.equal(new Set(ids).size, 1, `two instruments from one card: ${ids.join(', ')}`);
    assert.equal(saved.length, 1, `the holder's saved cards list the card ${saved.length} times`);
  } finally { await page.close(); }
});

test('full-width digits entered in the card-number field are kept as the digits they are', async () => {
  const page = await open('ime-holder');
  try {
    await input(page, '#n').focus();
    await page.keyboard.insertText('４１１１１１１１１１１１１１１１');
    assert.equal(await input(page, '#n').inputValue(), '4111 1111 1111 1111');
  } finally { await page.close(); }
});

test('destroy() during tokenize settles the pending promise', async () => {
  const page = await open('destroy-holder');
  try {
    await typeCard(page, '4111111111111111', '1230', '123');
    const outcome = await page.evaluate(`(() => { const p = window.fields.tokenize({}); window.fields.destroy(); return ${within('p', 3000)}; })()`);
    assert.equal(outcome, 'rejected: the secure fields were destroyed', 'the page\'s tokenize never settles once the fields are destroyed');
  } finally { await page.close(); }
});

test('tokenize() before the card-number frame is ready is answered once it is (here: the number is missing), not left pending', async () => {
  const page = await open('early-holder');
  try {
    const outcome = await page.evaluate(`(() => {
      window.fields.destroy();
      window.fields = window.sy.secureFields();
      window.fields.mount('cardNumber', '#n').mount('expiry', '#e').mount('cvv', '#c');
      return ${within('window.fields.tokenize({})', 5000)};
    })()`);
    assert.equal(outcome, 'rejected: The card number is not valid', 'tokenize called right after mount never settles');
  } finally { await page.close(); }
});

test('a tokenize under way when the card-number frame is loaded again is answered (enter the card again), not left pending for ever', async () => {
  const page = await open('reload-mid-save-holder');
  try {
    await typeCard(page, '4111111111111111', '1230', '123');
    // The save's request is held at the network until the frame has been loaded again.
    let held: Route | undefined;
    const hit = new Promise<void>((resolve) => {
      void page.route('**/public/payment/instruments', (route) => { held = route; resolve(); });
    });
    await page.evaluate('window.p = window.fields.tokenize({ storeInstrument: false }); undefined');
    await hit;
    await page.evaluate(`(() => { const f = document.querySelector('#n iframe'); f.src = f.src; })()`);
    await page.frameLocator('#n iframe').locator('body[data-field="ready"]').waitFor();
    await held?.continue().catch(() => undefined);
    await page.unroute('**/public/payment/instruments');
    assert.equal(await page.evaluate(within('window.p', 5000)), 'rejected: the card-number field was loaded again: enter the card again');
    // Typed again, the card is saved.
    await input(page, '#n').pressSequentially('4111111111111111');
    await page.waitForTimeout(300);
    const saved = await tokenize(page);
    assert.ok(saved.saved, JSON.stringify(saved));
  } finally { await page.close(); }
});
