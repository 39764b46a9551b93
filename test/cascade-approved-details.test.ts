/**
 * A cascade whose first account declines and whose next approves: the approved operation's details
 * (the /v1 `resultDetails`) are the approving PSP's, not a mix carrying the first PSP's decline.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { startGateway, opp, type Gateway } from './support/harness.ts';
import { configureCascade } from './support/executions.ts';
import { startStripeFake, stripeFakeCredentials, type StripeFake } from './support/fake-psps/stripe.ts';
import { suiteCards } from './support/fake-psps/bank.ts';

let stripe: StripeFake;
let gw: Gateway;
before(async () => {
  [stripe, gw] = await Promise.all([startStripeFake(), startGateway()]);
  await configureCascade(gw, {
    simSoft: { declines: [{ cardSuffixes: [suiteCards.approved.slice(-4)], category: 'soft' }] },
    stripe: { connector: 'stripe', settings: { baseUrl: stripe.url, ...stripeFakeCredentials } },
  }, ['simSoft', 'stripe'], ['soft', 'error']);
});
after(async () => { await Promise.all([gw?.close(), stripe?.close()]); });

test('/v1: a DB the cascade\'s second account approved answers with that account\'s resultDetails, none of the first account\'s decline', async () => {
  const r = await opp(gw, 'POST', '/v1/payments', {
    amount: '50.00', currency: 'EUR', paymentType: 'DB', paymentBrand: 'VISA', 'card.number': suiteCards.approved,
    'card.holder': 'Jane Jones', 'card.expiryMonth': '05', 'card.expiryYear': '2034', 'card.cvv': '123',
  });
  assert.match(r.body.result?.code ?? '', /^000\./, JSON.stringify(r.body));
  const d = (await gw.app.payments.details(r.body.id))!;
  assert.deepEqual(d.attempts.map((a) => [a.accountName, a.status]), [['simSoft', 'failed'], ['stripe', 'succeeded']]);
  const status = await opp(gw, 'GET', `/v1/payments/${r.body.id}`, {});
  for (const body of [r.body, status.body]) {
    const details = body.resultDetails ?? {};
    assert.ok(!Object.values(details).includes('DECLINED') && !('ExtendedDescription' in details && /do not honour|declin/i.test(String(details.ExtendedDescription))),
      `an approved payment's resultDetails carry the first PSP's decline: ${JSON.stringify(details)}`);
    assert.ok(!Object.values(details).includes(d.attempts[0]!.id), `the first PSP's transaction is named: ${JSON.stringify(details)}`);
  }
});
