/**
 * The expire-awaiting sweep reads the payments awaiting their shopper for longer than the
 * asynchronous timeout, then ends each in turn (asking PSPs on the way). A payment read as stale
 * may meanwhile have moved on: its shopper came back from the first PSP's 3-D Secure, the PSP
 * declined softly, and the cascade sent the shopper to the next PSP's challenge, opened just now.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { manualClock } from '../src/runtime/clock.ts';
import { opp, startGateway } from './support/harness.ts';
import { startStripeFake } from './support/fake-psps/stripe.ts';
import { startScriptedAdyen } from './support/fake-psps/adyen.ts';
import { challengedAtAdyenThenStripe, hop } from './support/three-ds-cascade.ts';
import { checkInvariants, describeViolations } from './support/invariants.ts';


test('a payment the sweep read as stale, whose shopper has since been sent to the next PSP\'s fresh challenge, is not expired under them', async () => {
  const clock = manualClock(Date.now());
  const [adyen, stripe] = await Promise.all([startScriptedAdyen('challenge', 'soft'), startStripeFake()]);
  const gw = await startGateway({ clock });
  try {
    const id = await challengedAtAdyenThenStripe(gw, adyen.url, stripe.url);
    // The shopper takes long at the first PSP's page: just past the asynchronous timeout (30 min).
    clock.advance(30 * 60_000 + 1_000);

    // The sweep has read this payment as stale; before it ends it, the shopper is back from Adyen,
    // which declines softly, and the cascade sends them on to Stripe's challenge.
    let sentTo: string | undefined;
    const threeds = gw.app.threeds as { expire: (kind: 'payment', id: string, options?: { lapsedOnly?: boolean }) => Promise<void> };
    const original = threeds.expire.bind(threeds);
    let armed = true;
    threeds.expire = async (kind, subjectId, options) => {
      if (armed && subjectId === id) {
        armed = false;
        const back = await hop(`${adyen.state.returnUrls.at(-1)!}?redirectResult=passed`);
        assert.equal(back.status, 303);
        sentTo = back.location && new URL(back.location, gw.url).href;
      }
      return original(kind, subjectId, options);
    };
    await gw.app.payments.expireAwaiting();
    threeds.expire = original;

    const d = (await gw.app.payments.details(id))!;
    assert.deepEqual(d.attempts.map((a) => a.accountName), ['adyen3ds', 'stripe']);
    // Where the return sent the shopper: Stripe's challenge, through the gateway's forwarding page.
    assert.ok(sentTo && !sentTo.startsWith('https://shop.example'), `the shopper was sent to ${sentTo}`);
    const challenges = await gw.app.storage.db.selectFrom('challenges').select(['status', 'created_at', 'expires_at']).where('subject_id', '=', id).orderBy('created_at').execute();
    const page = await hop(sentTo!);
    assert.deepEqual({ op: d.operations[0]!.status, stripeAttempt: d.attempts[1]!.status, page: page.status },
      { op: 'awaiting', stripeAttempt: 'pending', page: 303 },
      `the shopper, sent a second ago to a challenge open for 30 minutes, finds the payment expired under them: ${JSON.stringify(challenges)}`);

    // And the shopper passes Stripe's challenge: the payment is authorized.
    const atStripe = await hop(page.location!);
    assert.ok([302, 303].includes(atStripe.status), `Stripe's page answered ${atStripe.status}`);
    const done = await hop(atStripe.location!);
    assert.equal(done.status, 303);
    assert.equal((await opp(gw, 'GET', `/v1/query/${id}`)).body.result.code, '000.100.110');
    const vs = await checkInvariants(gw.app.storage.db);
    assert.deepEqual(vs, [], describeViolations(vs));
  } finally { await gw.close(); await Promise.all([adyen.close(), stripe.close()]); }
});
