/**
 * A client that counts Content-Length in characters instead of bytes (a body with "Müller" in it,
 * sent raw as UTF-8) leaves the body's last bytes after the declared length. Node reads the
 * request the length declares, the payment is made and approved, and the left-over bytes are read
 * as the next request on the socket, which Node's parser refuses. The refusal of those bytes must
 * not take the place of the payment's own answer (the merchant read "invalid parameter, nothing
 * done" for a payment that was charged, and paid again): that answer goes out, then the socket closes.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { opp, startGateway, type Gateway } from './support/harness.ts';

let gw: Gateway;
before(async () => { gw = await startGateway(); });
after(async () => { await gw?.close(); });

function exchange(data: Buffer[]): Promise<string> {
  const { hostname, port } = new URL(gw.url);
  return new Promise((resolve) => {
    const s = connect(Number(port), hostname);
    let out = '';
    const t = setTimeout(() => { s.destroy(); resolve(out); }, 5000);
    s.on('data', (d) => { out += d.toString('utf8'); });
    s.on('error', () => undefined);
    s.on('close', () => { clearTimeout(t); resolve(out); });
    s.on('connect', () => { for (const d of data) s.write(d); });
  });
}

test('a payment made from a body whose Content-Length fell short is answered with its own result, never a refusal', async () => {
  const body = `entityId=${gw.merchant.entityId}&amount=3.00&currency=EUR&paymentType=DB&card.number=4200000000000000`
    + '&card.holder=J\u00fcrgen M\u00fcller&card.expiryMonth=05&card.expiryYear=2034&card.cvv=123&paymentBrand=VISA&merchantTransactionId=order-17';
  // Two non-ASCII characters: the length in characters is two bytes short of the UTF-8 body.
  const head = `POST /v1/payments HTTP/1.1\r\nHost: gateway\r\nAuthorization: Bearer ${gw.merchant.accessToken}\r\n`
    + `Content-Type: application/x-www-form-urlencoded; charset=UTF-8\r\nContent-Length: ${body.length}\r\n\r\n`;
  const answer = await exchange([Buffer.from(head, 'latin1'), Buffer.from(body, 'utf8')]);

  // What the gateway made of the request it read (the reference cut two characters short).
  let stored = await opp(gw, 'GET', '/v1/query', { merchantTransactionId: 'order-' });
  for (let i = 0; i < 50 && stored.status !== 200; i++) {
    await new Promise((r) => setTimeout(r, 100));
    stored = await opp(gw, 'GET', '/v1/query', { merchantTransactionId: 'order-' });
  }
  assert.equal(stored.status, 200, 'the payment was made');
  const payment = stored.body.payments[0];
  assert.equal(payment.result.code, '000.100.110', 'and approved: the card was charged');

  const statusLine = answer.split('\r\n', 1)[0];
  const firstBody = answer.split('\r\n\r\n')[1] ?? '';
  assert.equal(statusLine, 'HTTP/1.1 200 OK',
    `the first answer on the socket is the payment's own, not a refusal of it: ${statusLine} ${firstBody.slice(0, 200)}`);
  assert.ok(firstBody.includes(payment.id), 'the answer names the payment that was made');
});
