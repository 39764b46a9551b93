/**
 * A PSP that runs 3-D Secure itself (Adyen) declines softly after the challenge, and tells
 * it twice: by its notification and by the answer to the details call the shopper's return makes.
 * The notification, handled first, moves the cascade on to the next PSP (Stripe), whose own
 * challenge is opened for the shopper. The return, answered just after, must then send the
 * shopper there, not close that new challenge and send them to the shop with the payment pending.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startGateway } from './support/harness.ts';
import { startStripeFake } from './support/fake-psps/stripe.ts';
import { startScriptedAdyen } from './support/fake-psps/adyen.ts';
import { challengedAtAdyenThenStripe, hop } from './support/three-ds-cascade.ts';
import { pspProxy } from './support/psp-proxy.ts';


test('Adyen\'s soft-decline notification handled while the shopper\'s return is at /payments/details: the return sends the shopper to Stripe\'s challenge and leaves it open', async () => {
  const [adyen, stripe] = await Promise.all([startScriptedAdyen('challenge', 'soft'), startStripeFake()]);
  // The details call of the shopper's return takes a moment: Adyen's notification arrives meanwhile.
  const proxy = await pspProxy(adyen.url, (c) => (c.url === '/payments/details' ? { delayMs: 700 } : {}));
  const gw = await startGateway();
  try {
    const id = await challengedAtAdyenThenStripe(gw, proxy.url, stripe.url);
    const first = (await gw.app.payments.details(id))!.attempts[0]!;

    const returning = hop(`${adyen.state.returnUrls.at(-1)!}?redirectResult=passed`);
    while (!proxy.calls.some((c) => c.url === '/payments/details')) await new Promise((res) => setTimeout(res, 10));
    // Adyen's AUTHORISATION notification (success=false): refused softly.
    assert.equal(await gw.app.payments.settleFromPsp(first.accountId, first.id,
      { kind: 'declined', reason: 'soft', acquirerCode: '2', message: 'Refused', pspReference: 'ADYNO1', details: {} }), true);
    await gw.app.payments.idle();
    const opened = await gw.app.threeds.openOf('payment', id);
    assert.ok(opened?.pspRedirect?.url.startsWith(stripe.url), 'the cascade moved on to Stripe, whose challenge is open');

    const back = await returning;
    assert.equal(back.status, 303);
    const d = (await gw.app.payments.details(id))!;
    assert.deepEqual(d.attempts.map((a) => [a.accountName, a.status]), [['adyen3ds', 'failed'], ['stripe', 'pending']]);
    assert.equal(d.operations[0]!.status, 'awaiting', 'the payment awaits the shopper at Stripe');
    const still = await gw.app.threeds.get(opened!.id);
    assert.deepEqual({ challenge: still?.status, sentTo: back.location },
      { challenge: 'open', sentTo: `/hosted/3ds/${opened!.id}` },
      'the return closed the next PSP\'s challenge and sent the shopper to the shop while the payment awaits them at Stripe');
  } finally { await gw.close(); await proxy.close(); await Promise.all([adyen.close(), stripe.close()]); }
});

test('the shopper\'s return sent twice (a reload while the first was at /payments/details): the later answer does not close Stripe\'s challenge the first one opened', async () => {
  const [adyen, stripe] = await Promise.all([startScriptedAdyen('challenge', 'soft'), startStripeFake()]);
  let details = 0;
  const proxy = await pspProxy(adyen.url, (c) => (c.url === '/payments/details' ? { delayMs: ++details === 1 ? 200 : 1200 } : {}));
  const gw = await startGateway();
  try {
    const id = await challengedAtAdyenThenStripe(gw, proxy.url, stripe.url);
    const returnUrl = `${adyen.state.returnUrls.at(-1)!}?redirectResult=passed`;
    const first = hop(returnUrl);
    while (!proxy.calls.some((c) => c.url === '/payments/details')) await new Promise((res) => setTimeout(res, 10));
    const second = hop(returnUrl);
    const a = await first;
    const opened = await gw.app.threeds.openOf('payment', id);
    assert.ok(opened?.pspRedirect?.url.startsWith(stripe.url), 'the first return moved the cascade on to Stripe\'s challenge');
    assert.equal(a.location, `/hosted/3ds/${opened!.id}`);
    const b = await second;
    const d = (await gw.app.payments.details(id))!;
    assert.equal(d.operations[0]!.status, 'awaiting');
    assert.deepEqual({ challenge: (await gw.app.threeds.get(opened!.id))?.status, reload: b.location },
      { challenge: 'open', reload: `/hosted/3ds/${opened!.id}` },
      'the reload closed the challenge the shopper was sent to, and sent them to the shop with the payment awaiting them');
  } finally { await gw.close(); await proxy.close(); await Promise.all([adyen.close(), stripe.close()]); }
});
