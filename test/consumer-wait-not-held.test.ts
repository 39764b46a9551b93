/**
 * A gateway that holds no request (SWITCHYARD_LONG_POLL_MS=0): the consumerWait page's background
 * ask, answered at once while the PSP is still out, is made at most once a second, never in a tight
 * loop from every waiting shopper's browser (each ask a read of the store).
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Browser } from 'playwright-core';
import { startGateway, type Gateway } from './support/harness.ts';
import { authorizeBody, call, configureCascade, execution, instrument, tokenOf, wf } from './support/executions.ts';
import { launchChromium } from './support/browser.ts';

let gw: Gateway;
let token: string;
let browser: Browser;
before(async () => {
  gw = await startGateway({ env: { SWITCHYARD_LONG_POLL_MS: '0' } });
  token = await tokenOf(gw);
  browser = await launchChromium();
});
after(async () => { await browser?.close(); await gw?.close(); });

test('the waiting page asks at most once a second when an ask is not held, and moves on once the PSP answers', async () => {
  await configureCascade(gw, { 'psp-slow': { latencyMs: 6000 } }, ['psp-slow']);
  const context = await browser.newContext();
  const page = await context.newPage();
  try {
    const inst = await instrument(gw, token, '4111111111111111', 'h-loop');
    const id = await execution(gw, token, 'h-loop');
    const back = `${gw.url}/hosted/return?order=loop`;
    const ack = await call(gw, 'POST', `${wf}/${id}/authorize`, { token, body: { ...authorizeBody(inst), returnInfo: { success: back } } });
    assert.equal(ack.status, 200, JSON.stringify(ack.body));
    const wait = ack.body.links.consumerWait as string;
    let asks = 0;
    page.on('request', (r) => { if (r.url() === wait) asks++; });
    await page.goto(wait);
    await page.getByRole('heading', { name: 'Processing your payment' }).waitFor();
    const from = asks;
    await page.waitForTimeout(2000);
    assert.ok(asks - from <= 3, `the waiting page asked the gateway ${asks - from} times in 2 s`);
    await page.waitForURL(back, { timeout: 20_000 });
  } finally {
    await context.close();
    await configureCascade(gw, { 'psp-a': {} }, ['psp-a']);
  }
});
