/**
 * A shopper who reaches a 3-D Secure challenge past its expiry before the sweep closed it (the
 * sweep runs every few seconds, later when jobs lag) is not stranded on a dead page: the payment ends
 * there as the sweep would end it, and the shopper goes back to the merchant's cancel URL.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { manualClock } from '../src/runtime/clock.ts';
import { startGateway, type Gateway } from './support/harness.ts';
import { authorizeBody, call, execution, instrument, poll, tokenOf, wf } from './support/executions.ts';

const clock = manualClock(Date.now());
let gw: Gateway;
let token: string;
// The sweep never runs on its own here: only the shopper's return can end the payment.
before(async () => { gw = await startGateway({ clock, env: { SWITCHYARD_ASYNC_TIMEOUT_MS: '60000', SWITCHYARD_JOB_POLL_MS: '600000' } }); token = await tokenOf(gw); });
after(async () => { await gw?.close(); });

const returnInfo = { success: 'https://shop.example/ok', cancel: 'https://shop.example/cancel', error: 'https://shop.example/error' };

async function challenged(holder: string) {
  const inst = await instrument(gw, token, '4200000000000042', holder);
  const id = await execution(gw, token, holder);
  const ack = await call(gw, 'POST', `${wf}/${id}/authorize`, { token, body: { ...authorizeBody(inst), returnInfo } });
  assert.equal(ack.status, 200, JSON.stringify(ack.body));
  const e = await poll(gw, token, id, ['created', 'authorizeRequested']);
  assert.equal(e.status, 'authorizePending');
  return { id, href: e.requiredAction.href as string, wait: ack.body.links.consumerWait as string };
}

test('answering a lapsed challenge ends the payment and sends the shopper to returnInfo.cancel; the wait page and the challenge page then do too', async () => {
  const { id, href, wait } = await challenged('h-lapsed-answer');
  clock.advance(61_000);
  const answered = await fetch(`${href}/result`, { method: 'POST', body: new URLSearchParams({ outcome: 'completed' }), redirect: 'manual' });
  assert.equal(answered.status, 303, await answered.text());
  assert.equal(answered.headers.get('location'), returnInfo.cancel);
  const e = (await call(gw, 'GET', `${wf}/${id}`, { token })).body;
  assert.equal(e.status, 'authorizeFailed');
  assert.equal(e.statusHistory.at(-1).errors[0].reason.result, 'PayerCanceled');
  assert.equal((await fetch(wait, { redirect: 'manual' })).headers.get('location'), returnInfo.cancel);
  assert.equal(await gw.app.payments.expireAwaiting(), 0, 'nothing left for the sweep');
});

test('opening a lapsed challenge page (the wait page sends the shopper there) ends the payment and sends the shopper back too', async () => {
  const { id, href, wait } = await challenged('h-lapsed-open');
  clock.advance(61_000);
  const viaWait = await fetch(wait, { redirect: 'manual' });
  assert.equal(viaWait.status, 303);
  const page = await fetch(new URL(viaWait.headers.get('location')!, gw.url), { redirect: 'manual' });
  assert.equal(page.status, 303, await page.text());
  assert.equal(page.headers.get('location'), returnInfo.cancel);
  assert.equal((await call(gw, 'GET', `${wf}/${id}`, { token })).body.status, 'authorizeFailed');
  assert.equal(href.length > 0, true);
});
