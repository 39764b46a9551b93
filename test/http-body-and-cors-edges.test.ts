/**
 * HTTP at the browser and merchant edges: a registered origin can read why its client token was
 * refused, and a compressed body is refused naming Content-Encoding in each dialect, never read
 * as plain text.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { gzipSync } from 'node:zlib';
import { randomUUID } from 'node:crypto';
import { manualClock } from '../src/runtime/clock.ts';
import { startGateway, type Gateway } from './support/harness.ts';
import { call, tokenOf } from './support/executions.ts';

const clock = manualClock(Date.now());
const shop = 'https://shop.example';
let gw: Gateway;
before(async () => {
  gw = await startGateway({ clock });
  assert.ok(await gw.app.merchants.addOrigin(gw.merchant.merchantId, shop));
});
after(async () => { await gw?.close(); });

function raw(data: Buffer): Promise<string> {
  const { hostname, port } = new URL(gw.url);
  return new Promise((resolve) => {
    const s = connect(Number(port), hostname);
    let out = '';
    const t = setTimeout(() => { s.destroy(); resolve(out); }, 3000);
    s.on('data', (d) => { out += d.toString('latin1'); });
    s.on('error', () => undefined);
    s.on('close', () => { clearTimeout(t); resolve(out); });
    s.on('connect', () => s.write(data));
  });
}

async function clientToken(): Promise<string> {
  const init = await call(gw, 'POST', '/merchant/client/init', { token: await tokenOf(gw), body: { holderReference: 'h-cors' } });
  assert.equal(init.status, 200);
  return JSON.parse(Buffer.from(init.body.data, 'base64').toString('latin1')).token as string;
}

test('a registered origin can read the 401 telling its browser the client token expired (CORS on the refusal)', async () => {
  const token = await clientToken();
  // Valid now: the registered origin gets CORS.
  const ok = await fetch(`${gw.url}/public/payment/instruments`, { headers: { authorization: `Bearer ${token}`, origin: shop } });
  assert.equal(ok.status, 200);
  assert.equal(ok.headers.get('access-control-allow-origin'), shop);
  clock.advance(16 * 60_000); // client tokens live 15 minutes
  const r = await fetch(`${gw.url}/public/payment/instruments`, {
    method: 'POST', headers: { authorization: `Bearer ${token}`, origin: shop, 'x-idempotency-key': randomUUID(), 'content-type': 'text/plain;charset=UTF-8' },
    body: JSON.stringify({ holderReference: 'h-cors', paymentMethod: 'card', data: { encryptedData: 'x' } }),
  });
  const body = await r.json() as { errors: { detail: string }[] };
  assert.equal(r.status, 401);
  assert.match(body.errors[0]!.detail, /expired; call client\/init again/);
  // Without this header the shopper's browser hides the 401 from the SDK (a network error instead),
  // so it never learns to call client/init again.
  assert.equal(r.headers.get('access-control-allow-origin'), shop, 'the registered origin may read why it was refused');
});

test('a gzip-compressed body is refused as such, not as text that "is not UTF-8"', async () => {
  const token = await tokenOf(gw);
  const json = JSON.stringify({ merchantReference: 'o-gz', holderReference: 'c1', workspaceId: gw.merchant.workspaceId });
  const gz = gzipSync(json);
  const head = `POST /merchant/workflows/payment-acceptance/executions HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer ${token}\r\n`
    + `x-idempotency-key: ${randomUUID()}\r\nContent-Type: application/json\r\nContent-Encoding: gzip\r\nContent-Length: ${gz.length}\r\nConnection: close\r\n\r\n`;
  const answer = await raw(Buffer.concat([Buffer.from(head), gz]));
  assert.match(answer, /^HTTP\/1\.1 400 /, answer);
  assert.match(answer.split('\r\n\r\n')[1]!, /Content-Encoding/, 'the refusal names the header');
});

test('/v1: a compressed form is refused naming Content-Encoding, and makes no payment', async () => {
  const form = new URLSearchParams({ entityId: gw.merchant.entityId, amount: '10.00', currency: 'EUR', paymentType: 'DB', paymentBrand: 'VISA',
    'card.number': '4200000000000000', 'card.holder': 'Jane Jones', 'card.expiryMonth': '05', 'card.expiryYear': '2034', 'card.cvv': '123' }).toString();
  for (const body of [gzipSync(form), Buffer.from(form)]) {
    const r = await fetch(`${gw.url}/v1/payments`, {
      method: 'POST', body, headers: { authorization: `Bearer ${gw.merchant.accessToken}`, 'content-type': 'application/x-www-form-urlencoded', 'content-encoding': 'gzip' },
    });
    const text = await r.text();
    assert.equal(r.status, 400, text);
    assert.match(text, /Content-Encoding/);
  }
});

test('a body labelled Content-Encoding: gzip that is not gzip is not read as plain JSON', async () => {
  const token = await tokenOf(gw);
  const json = Buffer.from(JSON.stringify({ merchantReference: 'o-notgz', holderReference: 'c1', workspaceId: gw.merchant.workspaceId }));
  const head = `POST /merchant/workflows/payment-acceptance/executions HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer ${token}\r\n`
    + `x-idempotency-key: ${randomUUID()}\r\nContent-Type: application/json\r\nContent-Encoding: gzip\r\nContent-Length: ${json.length}\r\nConnection: close\r\n\r\n`;
  const answer = await raw(Buffer.concat([Buffer.from(head), json]));
  assert.doesNotMatch(answer, /^HTTP\/1\.1 201 /, 'a body whose declared encoding does not decode must not create an execution');
});
