/**
 * Executions dialect, the challenge open in two tabs (requiredAction.href is a GET page; a shopper
 * opens it twice, or reloads it): Complete in the first tab, the PSP takes its time, and the second
 * tab answers meanwhile. The second tab is sent where the execution sends the shopper now; for an
 * authorization still at its PSP that was `returnInfo.pending ?? returnInfo.success`, so the shopper
 * landed on the merchant's success page while the PSP then declined the payment. In this dialect
 * the return URL is the outcome: the second tab now waits on the consumerWait page, which sends it
 * on once there is one.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Browser } from 'playwright-core';
import { startGateway, type Gateway } from './support/harness.ts';
import { launchChromium, withScreenshot } from './support/browser.ts';
import { authorizeBody, call, configureCascade, execution, instrument, tokenOf, wf } from './support/executions.ts';

let gw: Gateway;
let browser: Browser;
let shopServer: Server;
let shopUrl = '';
before(async () => {
  gw = await startGateway({ env: { SWITCHYARD_LONG_POLL_MS: '600' } });
  // One slow acquirer that refuses the card after its challenge (an issuer's decline after 3-D Secure).
  await configureCascade(gw, { slow: { connector: 'simulator', settings: { latencyMs: 2000, declines: [{ cardSuffixes: ['0042'], category: 'hard' }] } } }, ['slow']);
  browser = await launchChromium();
  shopServer = createServer((req, res) => { res.setHeader('content-type', 'text/html; charset=utf-8'); res.end(`<!doctype html><html lang="en"><title>Shop</title><h1 id="where">${req.url}</h1></html>`); });
  await new Promise<void>((r) => shopServer.listen(0, '127.0.0.1', () => r()));
  shopUrl = `http://127.0.0.1:${(shopServer.address() as AddressInfo).port}`;
});
after(async () => {
  await browser?.close();
  shopServer?.closeAllConnections();
  shopServer?.close();
  await gw?.close();
});

test('a second tab answering while the first tab\'s authorization is still at the PSP never lands on returnInfo.success of a payment that then fails', async () => {
  const token = await tokenOf(gw);
  const inst = await instrument(gw, token, '4200000000000042', 'second-tab');
  const id = await execution(gw, token, 'second-tab');
  const returnInfo = { success: `${shopUrl}/ok`, cancel: `${shopUrl}/cancel`, error: `${shopUrl}/failed` };
  const ack = await call(gw, 'POST', `${wf}/${id}/authorize`, { token, body: { ...authorizeBody(inst), returnInfo } });
  assert.equal(ack.status, 200, JSON.stringify(ack.body));
  const pending = await call(gw, 'GET', `${wf}/${id}`, { token });
  assert.equal(pending.body.status, 'authorizePending');
  const href = pending.body.requiredAction.href as string;

  const context = await browser.newContext();
  const first = await context.newPage();
  const second = await context.newPage();
  const secondVisited: string[] = [];
  second.on('framenavigated', (f) => { if (f === second.mainFrame()) secondVisited.push(f.url()); });
  try {
    await withScreenshot(second, 'second-tab-waits', async () => {
      await first.goto(href);
      await second.goto(href);
      const firstAnswer = first.getByRole('button', { name: 'Complete', exact: true }).click();
      // The first tab's authorization is at the (slow) PSP now; the shopper answers in the other tab.
      await second.waitForTimeout(400);
      await second.getByRole('button', { name: 'Fail', exact: true }).click();
      await firstAnswer;
      await first.waitForURL(`${shopUrl}/**`);
      assert.equal(first.url(), `${shopUrl}/failed`, 'the first tab lands on returnInfo.error');
      const after = await call(gw, 'GET', `${wf}/${id}`, { token });
      assert.equal(after.body.status, 'authorizeFailed');
      // The second tab, once everything has settled (it may wait on a gateway page meanwhile).
      await second.waitForURL(`${shopUrl}/**`, { timeout: 15_000 });
      const atShop = secondVisited.filter((u) => u.startsWith(shopUrl));
      assert.ok(!atShop.includes(`${shopUrl}/ok`), `the second tab was sent to returnInfo.success of a payment that failed: ${JSON.stringify(secondVisited)}`);
      assert.equal(second.url(), `${shopUrl}/failed`);
    });
  } finally {
    await context.close();
  }
});
