/**
 * Rate-limit counts are swept once past every window. A key's rows were deleted only when that
 * same key was counted again, and most keys never are: a source address that tried one password,
 * a payment whose status was read once. The table grew with every one there ever was.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { manualClock } from '../src/runtime/clock.ts';
import { signInThrottle } from '../src/dashboard/model.ts';
import { longestWindowMs } from '../src/throttle/service.ts';
import { opp, pay, startGateway, type Gateway } from './support/harness.ts';

const clock = manualClock(Date.now());
let gw: Gateway;
before(async () => { gw = await startGateway({ clock }); });
after(async () => { await gw?.close(); });

const rows = async () => Number((await gw.app.storage.db.selectFrom('rate_hits').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow()).n);

test('failed sign-ins from many addresses and status reads of many payments leave no rows once every window has passed', async () => {
  for (let i = 0; i < 30; i++) {
    const r = await gw.app.dashboard.signIn(`guess-${i}@example.com`, 'not the password', `198.51.100.${i + 1}`);
    assert.equal(r.ok, false);
  }
  for (let i = 0; i < 5; i++) {
    const p = await pay(gw, { paymentType: 'DB', amount: '10.00' });
    assert.equal((await opp(gw, 'GET', `/v1/payments/${p.body.id as string}`)).status, 200);
  }
  assert.equal(await rows(), 35);
  // Within the sign-in window the counts still count: nothing is swept.
  clock.advance(signInThrottle.windowMs - 1000);
  await gw.app.jobs.runDue();
  assert.equal(await rows(), 35, 'counts inside their window are kept');
  clock.advance(longestWindowMs);
  await gw.app.jobs.runDue();
  assert.equal(await rows(), 0, 'rows of windows that closed long ago are still stored');
});

test('a sweep keeps what still counts: sign-in stays paused for an address within its window', async () => {
  const source = '203.0.113.7';
  for (let i = 0; i < signInThrottle.failures; i++) assert.equal((await gw.app.dashboard.signIn('who@example.com', 'wrong', source)).ok, false);
  // Ten minutes on, the sweep is due and runs; the failures are still within their fifteen minutes.
  clock.advance(10 * 60_000);
  await gw.app.jobs.runDue();
  const r = await gw.app.dashboard.signIn('who@example.com', 'wrong', source);
  assert.equal(r.ok, false);
  assert.equal(r.ok === false && r.error, 'throttled', JSON.stringify(r));
});
