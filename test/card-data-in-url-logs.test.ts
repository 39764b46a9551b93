/**
 * Card data other than the PAN sent in a request URL (a /v1 client putting its parameters in the
 * query string, as legacy clients do for GET and DELETE) never reaches a log line: the security
 * code may not be stored at all, logs included; the expiry and the holder's name go too.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startGateway, testCard } from './support/harness.ts';

test('a CVV sent in the query string never reaches a log line', async () => {
  const gw = await startGateway();
  try {
    const q = new URLSearchParams({ entityId: gw.merchant.entityId, amount: '1.00', currency: 'EUR', paymentType: 'DB', ...testCard, 'card.cvv': '737' });
    for (const method of ['POST', 'GET'] as const) {
      const r = await fetch(`${gw.url}/v1/payments?${q}`, { method, headers: { authorization: `Bearer ${gw.merchant.accessToken}` } });
      await r.text();
    }
    await new Promise((r) => setTimeout(r, 200));
    const leaking = gw.logs.filter((l) => /card\.cvv=737|card\.cvv%3D737/i.test(l));
    assert.deepEqual(leaking, [], 'the security code appears in log lines');
    const cardData = gw.logs.filter((l) => /card\.(expiryMonth|expiryYear|holder)=(?!\[REDACTED\])/i.test(l));
    assert.deepEqual(cardData, [], 'the expiry or the holder appears in log lines');
    assert.ok(gw.logs.some((l) => l.includes('card.cvv=[REDACTED]')), 'the line is still written, the value redacted');
  } finally {
    await gw.close();
  }
});
