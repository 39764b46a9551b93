/**
 * client/init replayed under its idempotency key is the kept answer with a client token issued at
 * the replay. The kept answer named the tokenization key of the first call (handed out for 12 hours,
 * accepted for 24), while the idempotency key is kept 48 hours: a replay a day later was given a
 * fresh client token bound to that expired key, and the kept `encryptionPublicKeyExpiresIn` still
 * said the key had most of a day left, so the browser encrypted the card with it and every
 * tokenization was refused. A replay now names the merchant's current key too.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { PayrailsCSE } from '@payrails/web-cse';
import { manualClock } from '../src/runtime/clock.ts';
import { startGateway } from './support/harness.ts';
import { call, tokenOf } from './support/executions.ts';

const hour = 3_600_000;
const card = { cardNumber: '4111111111111111', expiryMonth: '03', expiryYear: '30', securityCode: '737', holderName: 'John Doe' };

test('client/init replayed 25 hours later (its key kept 48) answers a client that can tokenize a card', async () => {
  const clock = manualClock(Date.now());
  const gw = await startGateway({ clock });
  try {
    const key = randomUUID();
    const body = { type: 'tokenization', holderReference: 'holder-replay-late', workflowCode: 'payment-acceptance' };
    const first = await call(gw, 'POST', '/merchant/client/init', { token: await tokenOf(gw), key, body });
    assert.equal(first.status, 200, JSON.stringify(first.body));

    // The merchant's backend retries the same init (the same idempotency key) the next day.
    clock.advance(25 * hour);
    const again = await call(gw, 'POST', '/merchant/client/init', { token: await tokenOf(gw), key, body });
    assert.equal(again.status, 200, JSON.stringify(again.body));
    const data = JSON.parse(Buffer.from(again.body.data, 'base64').toString('latin1'));
    const expiresIn = data.vaultConfiguration.encryptionPublicKeyExpiresIn as number;

    const jwe = await PayrailsCSE.init(again.body).encryptCardData({ card, data: { holderReference: 'holder-replay-late' } });
    const res = await fetch(`${gw.url}/public/payment/instruments/tokenize`, {
      method: 'POST', headers: { authorization: `Bearer ${data.token}`, 'content-type': 'application/json', 'x-idempotency-key': randomUUID() },
      body: JSON.stringify({ encryptedInstrumentDetails: jwe, id: data.tokenization.id }),
    });
    const answer = await res.json();
    assert.equal(res.status, 201,
      `the replayed client/init's key (said to expire in ${expiresIn} s) tokenizes nothing: ${JSON.stringify(answer)}`);
  } finally { await gw.close(); }
});
