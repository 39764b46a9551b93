/**
 * An authorization whose PSP answer was lost was approved at the PSP when it was asked for: the
 * issuer's hold runs from then. The gateway learns of it only when the reconciler asks the PSP, which
 * can be hours later (the PSP's status API down meanwhile), and the attempt is settled then. Counted
 * from that settlement, the authorization's age ran hours late, and the gateway kept offering a
 * capture past the issuer's hold by as long as the reconciler took. An approval is now counted at
 * the latest from the end of the shopper's wait (SWITCHYARD_ASYNC_TIMEOUT_MS, 30 minutes) after its
 * attempt was made: no later than a challenge could have delayed it.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { manualClock } from '../src/runtime/clock.ts';
import { opp, pay, startGateway } from './support/harness.ts';

const minute = 60_000;
const hour = 3_600_000;
const day = 86_400_000;

test('an authorization the reconciler found approved 6 hours after the request expires a day and at most the shopper\'s wait after the request (expiry 1 day)', async () => {
  const clock = manualClock(Date.UTC(2026, 0, 5, 12));
  const gw = await startGateway({ clock, env: { SWITCHYARD_AUTHORIZATION_EXPIRY_DAYS: '1', SWITCHYARD_PSP_TIMEOUT_MS: '300' } });
  try {
    const askedAt = clock.now();
    const r = await pay(gw, { 'card.number': '4000000000003006', paymentType: 'PA' }); // processed at the PSP, its answer lost
    assert.equal(r.body.result.code, '900.100.300', JSON.stringify(r.body.result));
    // The reconciler gets its answer six hours later: approved (at the PSP, when it was asked).
    clock.advance(6 * hour);
    await gw.app.payments.reconcile();
    await gw.app.payments.idle();
    const read = await opp(gw, 'GET', `/v1/payments/${r.body.id}`);
    assert.equal(read.body.result.code, '000.100.110', JSON.stringify(read.body.result));

    // A day and half an hour after the PSP approved it: the issuer's hold has lapsed.
    clock.set(askedAt + day + 31 * minute);
    const expired = await gw.app.payments.expireAuthorizations();
    await gw.app.payments.idle();
    assert.equal(expired, 1, `not voided ${(clock.now() - askedAt) / minute} minutes after the PSP approved it; the expiry is ${day / minute}`);
  } finally { await gw.close(); }
});
