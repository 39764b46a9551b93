import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Cvv, Pan } from '../../vault/card.ts';
import { money, type Currency } from '../../money/money.ts';
import { createAdyenConnector } from './connector.ts';

// Adyen documents `PartiallyAuthorised`: the payment was authorised for a part of the amount (the
// answer's amount, additionalData.authorisedAmountValue). An approval for another amount is not the
// approval asked for: the attempt stays unknown (the connector throws). Declined instead, a cascade
// would charge the full amount at the next PSP while Adyen holds (for a sale: takes) the part.
test('Adyen PartiallyAuthorised (approved for less than asked) is never a decline: the attempt stays unknown', async () => {
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (c) => { body += c; });
    req.on('end', () => {
      const sent = JSON.parse(body) as { amount: { value: number; currency: string }; reference: string };
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({
        resultCode: 'PartiallyAuthorised', pspReference: 'PSP0000000000001', merchantReference: sent.reference,
        amount: { value: sent.amount.value / 2, currency: sent.amount.currency },
        additionalData: { authorisedAmountValue: String(sent.amount.value / 2), authorisedAmountCurrency: sent.amount.currency },
      }));
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  try {
    const port = (server.address() as AddressInfo).port;
    const adyen = createAdyenConnector({ baseUrl: `http://127.0.0.1:${port}/v71`, apiKey: 'AQE-key-123456', merchantAccount: 'ShopECOM', hmacKey: 'ab'.repeat(32) }, 5000);
    const card = { pan: new Pan('4111111111111111'), cvv: new Cvv('737'), brand: 'VISA' as const, holder: 'Jane Jones', expiryMonth: '03', expiryYear: '30' };
    const run = adyen.execute({ operation: 'sale', attemptId: 'att-partial-1', amount: money(10000, 'EUR' as Currency), live: false, card, testParameters: {} });
    const outcome = await run.then((o) => o, (err: Error) => ({ kind: 'thrown', message: err.message }));
    assert.equal(outcome.kind, 'thrown', `a partial approval was answered as ${JSON.stringify(outcome)}`);
    assert.match((outcome as { message: string }).message, /PartiallyAuthorised/);
  } finally {
    server.close();
  }
});
