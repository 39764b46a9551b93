/** Adyen's /payments/details answers as Adyen documents them (merchantReference is optional in its Checkout API description): genuine returns finish the attempt; one naming another attempt does not. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createAdyenConnector } from '../src/processors/adyen/connector.ts';

async function adyenAnswering(status: number, answer: unknown) {
  const server = createServer((req, res) => {
    req.resume();
    req.on('end', () => { res.statusCode = status; res.setHeader('content-type', 'application/json'); res.end(JSON.stringify(answer)); });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return { connector: createAdyenConnector({ baseUrl: url, apiKey: 'k', merchantAccount: 'ShopECOM', hmacKey: '00'.repeat(32) } as never, 2000), close: () => server.close() };
}

async function completed(status: number, answer: unknown): Promise<unknown> {
  const a = await adyenAnswering(status, answer);
  try {
    return await a.connector.complete!({ attemptId: 'a'.repeat(32), amount: { amount: 100, currency: 'EUR' as never }, pspReference: undefined, parameters: { redirectResult: 'X3XtfGC9...' } });
  } catch (err) {
    return { threw: String(err) };
  } finally { a.close(); }
}

test('adyen: the details answer of Adyen\'s own example (post-payments-details-00.redirect-200: resultCode + pspReference, no merchantReference) authorizes', async () => {
  const outcome = await completed(200, { resultCode: 'Authorised', pspReference: 'V4HZ4RBFJGXXGN82' });
  assert.equal((outcome as { kind?: string }).kind, 'approved', `a genuine return was refused: ${JSON.stringify(outcome)}`);
});

test('adyen: a Refused details answer without merchantReference declines (it is not an unknown left for a webhook)', async () => {
  const outcome = await completed(200, { resultCode: 'Refused', pspReference: 'V4HZ4RBFJGXXGN83', refusalReason: 'Refused', refusalReasonCode: '2' });
  assert.equal((outcome as { kind?: string }).kind, 'declined', JSON.stringify(outcome));
});

test('adyen: a 422 for a redirectResult finishes nothing (an error answer names no payment: anyone knowing the payment\'s id could send one)', async () => {
  const outcome = await completed(422, { status: 422, errorCode: '101', message: 'Invalid redirectResult', errorType: 'validation' });
  assert.match(String((outcome as { threw?: string }).threw), /^ReturnNotOurs: .*HTTP 422, error 101/, JSON.stringify(outcome));
});

test('adyen: a details answer naming another attempt as its merchantReference does not finish this one', async () => {
  const outcome = await completed(200, { resultCode: 'Authorised', pspReference: 'V4HZ4RBFJGXXGN84', merchantReference: 'b'.repeat(32) });
  assert.match(String((outcome as { threw?: string }).threw), /another payment/, JSON.stringify(outcome));
});
