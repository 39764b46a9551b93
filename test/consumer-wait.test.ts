/** `links.consumerWait`: the hosted interstitial that forwards the shopper to the challenge or back to the merchant. */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { randomUUID } from 'node:crypto';
import type { Browser } from 'playwright-core';
import { startGateway, type Gateway } from './support/harness.ts';
import { authorizeBody, call, configureCascade, execution, instrument, poll, tokenOf, wf } from './support/executions.ts';
import { launchChromium, withScreenshot } from './support/browser.ts';

let gw: Gateway;
let token: string;
// One request holds at most 600 ms (min(long-poll limit, 5 s)) before answering with the waiting page.
before(async () => { gw = await startGateway({ env: { SWITCHYARD_LONG_POLL_MS: '600' } }); token = await tokenOf(gw); });
after(() => gw.close());

const returnInfo = { success: 'https://shop.example/ok?order=1', cancel: 'https://shop.example/cancelled', error: 'https://shop.example/failed' };

/** Creates an execution, authorizes it with `card` and returns its id and the acknowledgment's consumerWait link. */
async function authorized(card: string, extra: Record<string, unknown> = {}, holder = `h-${randomUUID().slice(0, 8)}`) {
  const inst = await instrument(gw, token, card, holder);
  const id = await execution(gw, token, holder);
  const ack = await call(gw, 'POST', `${wf}/${id}/authorize`, { token, body: { ...authorizeBody(inst), returnInfo, ...extra } });
  assert.equal(ack.status, 200, JSON.stringify(ack.body));
  return { id, inst, wait: ack.body.links.consumerWait as string };
}

const open = (url: string) => fetch(url, { redirect: 'manual' });

function assertHostedHeaders(r: Response) {
  assert.match(r.headers.get('content-security-policy') ?? '', /^default-src 'none'; style-src 'self';.* frame-ancestors 'none'/);
  assert.equal(r.headers.get('x-frame-options'), 'DENY');
  assert.equal(r.headers.get('x-content-type-options'), 'nosniff');
  assert.equal(r.headers.get('referrer-policy'), 'no-referrer');
  assert.equal(r.headers.get('cache-control'), 'no-store');
}

describe('consumerWait over HTTP', () => {
  test('a frictionless authorization forwards (303) to returnInfo.success, with the hosted pages\' headers', async () => {
    const { id, wait } = await authorized('4111111111111111');
    assert.equal(wait, `${gw.url}/hosted/executions/${id}/wait`);
    const r = await open(wait);
    assert.equal(r.status, 303);
    assert.equal(r.headers.get('location'), returnInfo.success);
    assertHostedHeaders(r);
    assert.equal((await call(gw, 'GET', `${wf}/${id}`, { token })).body.status, 'authorized');
  });

  test('3-D Secure: on to the challenge; after Fail back to returnInfo.error, after Cancel to returnInfo.cancel', async () => {
    for (const [outcome, expected] of [['failed', returnInfo.error], ['cancelled', returnInfo.cancel]] as const) {
      const { id, wait } = await authorized('4200000000000042');
      const first = await open(wait);
      assert.equal(first.status, 303);
      const e = (await call(gw, 'GET', `${wf}/${id}`, { token })).body;
      assert.equal(e.status, 'authorizePending');
      assert.equal(first.headers.get('location'), e.requiredAction.href);
      const done = await fetch(`${e.requiredAction.href}/result`, { method: 'POST', body: new URLSearchParams({ outcome }), redirect: 'manual' });
      assert.equal(done.headers.get('location'), expected);
      const back = await open(wait);
      assert.equal(back.status, 303);
      assert.equal(back.headers.get('location'), expected, `after ${outcome}`);
    }
  });

  test('while the cascade runs: a page that moves on by itself (its one hashed script; without script a meta refresh), showing the merchant and amount only', async () => {
    await configureCascade(gw, { 'psp-slow': { latencyMs: 2000 } }, ['psp-slow']);
    try {
      const holder = `secret-holder-${randomUUID().slice(0, 6)}`;
      const { id, inst, wait } = await authorized('4111111111111111', {}, holder);
      const r = await open(wait);
      assert.equal(r.status, 200);
      assertHostedHeaders(r);
      const html = await r.text();
      assert.match(html, /<noscript><meta http-equiv="refresh" content="2"><\/noscript>/);
      assert.match(html, /Processing your payment/);
      assert.match(html, /Test Merchant/);
      assert.match(html, /129\.90 EUR/);
      assert.equal(html.match(/<script/gi)?.length, 1, 'one script, inline');
      const script = /<script>([^<]*)<\/script>/.exec(html)![1]!;
      const hash = createHash('sha256').update(script).digest('base64');
      assert.match(r.headers.get('content-security-policy') ?? '', new RegExp(`script-src 'sha256-${hash.replace(/[+/]/g, '\\$&')}'; connect-src 'self'`), 'allowed by its hash alone, asking only the gateway');
      const e = (await call(gw, 'GET', `${wf}/${id}`, { token })).body;
      for (const secret of [holder, inst, e.merchantReference, '1111', '411111', gw.merchant.workspaceId]) assert.ok(!html.includes(secret), `shows ${secret}`);
      let status = 'authorizeRequested';
      for (let i = 0; i < 20 && status === 'authorizeRequested'; i++) status = (await poll(gw, token, id, ['authorizeRequested'])).status;
      assert.equal(status, 'authorized');
      const after = await open(wait);
      assert.equal(after.status, 303);
      assert.equal(after.headers.get('location'), returnInfo.success);
    } finally {
      await configureCascade(gw, { 'psp-a': {} }, ['psp-a']);
    }
  });

  test('unknown, malformed and not-yet-authorized ids get the same 404 page', async () => {
    const created = await execution(gw, token);
    const bodies = new Set<string>();
    for (const path of [randomUUID(), 'not-an-id', created, `${created}x`]) {
      const r = await open(`${gw.url}/hosted/executions/${path}/wait`);
      assert.equal(r.status, 404, path);
      assertHostedHeaders(r);
      bodies.add(await r.text());
    }
    assert.equal(bodies.size, 1);
  });
});

describe('consumerWait in Chromium (JavaScript off)', () => {
  let browser: Browser;
  before(async () => { browser = await launchChromium(); });
  after(() => browser?.close());

  test('waiting page refreshes itself to the merchant; a challenge is reached through it and returns to returnInfo.success', async () => {
    const context = await browser.newContext({ javaScriptEnabled: false });
    const page = await context.newPage();
    const back = { success: `${gw.url}/hosted/return?order=cw-1` };
    try {
      await withScreenshot(page, 'consumer-wait-3ds', async () => {
        const { wait } = await authorized('4200000000000042', { returnInfo: back });
        await page.goto(wait);
        await page.getByRole('heading', { name: 'Verify your payment' }).waitFor();
        assert.match(page.url(), /\/hosted\/3ds\//);
        await page.getByRole('button', { name: 'Complete', exact: true }).click();
        await page.waitForURL(back.success);
        await page.getByRole('heading', { name: 'Back at the merchant' }).waitFor();
      });
      await configureCascade(gw, { 'psp-slow': { latencyMs: 2500 } }, ['psp-slow']);
      await withScreenshot(page, 'consumer-wait-refresh', async () => {
        const { id, wait } = await authorized('4111111111111111', { returnInfo: { success: `${gw.url}/hosted/return?order=cw-2` } });
        await page.goto(wait);
        await page.getByRole('heading', { name: 'Processing your payment' }).waitFor();
        // No script: the meta refresh alone brings the shopper back once the PSP answers.
        await page.waitForURL(`${gw.url}/hosted/return?order=cw-2`, { timeout: 15_000 });
        assert.equal((await call(gw, 'GET', `${wf}/${id}`, { token })).body.status, 'authorized');
      });
    } finally {
      await configureCascade(gw, { 'psp-a': {} }, ['psp-a']);
      await context.close();
    }
  });

  test('with script: the waiting page stays put while the PSP answers (focus kept, nothing read again) and moves on once it has', async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    try {
      await configureCascade(gw, { 'psp-slow': { latencyMs: 9000 } }, ['psp-slow']);
      const { id, wait } = await authorized('4111111111111111', { returnInfo: { success: `${gw.url}/hosted/return?order=cw-3` } });
      let loads = 0;
      page.on('load', () => { loads++; });
      await page.goto(wait);
      await page.getByRole('heading', { name: 'Processing your payment' }).waitFor();
      const shown = loads;
      await page.getByRole('link', { name: 'Check again now' }).focus();
      await page.waitForTimeout(2500);
      assert.equal(loads, shown, 'the page reloaded itself while the shopper was on it (focus back at the top, a screen reader starting over)');
      assert.equal(await page.evaluate('document.activeElement && document.activeElement.textContent'), 'Check again now');
      await page.waitForURL(`${gw.url}/hosted/return?order=cw-3`, { timeout: 20_000 });
      assert.equal((await call(gw, 'GET', `${wf}/${id}`, { token })).body.status, 'authorized');
    } finally {
      await configureCascade(gw, { 'psp-a': {} }, ['psp-a']);
      await context.close();
    }
  });
});
