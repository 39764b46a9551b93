/**
 * A /v1 client that puts its parameters in the query string (as legacy clients do) has the card
 * holder's name, the card's expiry and the security code redacted from the logged URL, and now the
 * shopper's other details too (e-mail, name, billing address, phone): they were written to the log
 * as sent. The request is refused (a /v1 POST reads its form body), yet its "incoming request" line
 * kept them. A card number in such a URL reads `[REDACTED]` once, not `[REDACTED] REDACTED]`.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startGateway, testCard } from './support/harness.ts';

test('a shopper\'s e-mail, name, address and phone sent in a /v1 URL never reach a log line', async () => {
  const gw = await startGateway();
  try {
    const shopper = {
      'customer.email': 'jane.doe@example.com', 'customer.givenName': 'Janet', 'customer.surname': 'Doughnut',
      'billing.street1': '12 Privet Drive', 'billing.postcode': 'SW1A 1AA', 'customer.phone': '+441234567890',
    };
    const q = new URLSearchParams({ entityId: gw.merchant.entityId, amount: '1.00', currency: 'EUR', paymentType: 'DB', ...testCard, ...shopper });
    for (const [method, path] of [['POST', '/v1/payments'], ['POST', '/v1/checkouts'], ['GET', '/v1/query']] as const) {
      const r = await fetch(`${gw.url}${path}?${q}`, { method, headers: { authorization: `Bearer ${gw.merchant.accessToken}` } });
      await r.text();
    }
    await new Promise((r) => setTimeout(r, 200));
    // The card holder's name is redacted from the same URL: the shopper's other personal data is not.
    assert.ok(gw.logs.some((l) => l.includes('card.holder=[REDACTED]')), 'the URL is logged, the holder redacted');
    const leaks = gw.logs.filter((l) => /jane\.doe(%40|@)example\.com|Janet|Doughnut|Privet|SW1A|441234567890/.test(l));
    assert.deepEqual(leaks.map((l) => (JSON.parse(l) as { req?: { url?: string } }).req?.url), [], 'personal data of the shopper appears in log lines');
    assert.ok(gw.logs.some((l) => l.includes('card.number=[REDACTED]&')), 'the card number is redacted whole');
    assert.ok(!gw.logs.some((l) => l.includes(' REDACTED]')), 'no half-redacted value');
  } finally {
    await gw.close();
  }
});
