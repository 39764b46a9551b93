/**
 * The executions dialect screens every JSON body for card numbers (a keyed HMAC per run of digits
 * that could be one) before its handlers see it. The browser routes (`/public/payment/*`, with the
 * client token) and `/merchant/client/init` checked their tokens after that screen, so a caller with
 * no token at all made the gateway screen a 64 KiB body before refusing it 401: about 120 ms of CPU
 * per request, against 3 ms for a body without digits. Their tokens are now read from the headers
 * before the body is.
 *
 * Counted without a clock: every HMAC over 13-19 digits during an unauthenticated request is
 * screening work done for nobody.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { syncBuiltinESMExports } from 'node:module';
import { startGateway, type Gateway } from './support/harness.ts';

let gw: Gateway;
let maskedRuns = 0;
const realCreateHmac = crypto.createHmac;

before(async () => {
  gw = await startGateway();
  // free-text.ts imports `createHmac` from node:crypto by name: the live binding follows this.
  (crypto as { createHmac: typeof crypto.createHmac }).createHmac = ((...args: Parameters<typeof crypto.createHmac>) => {
    const h = realCreateHmac(...args);
    const update = h.update.bind(h);
    h.update = ((data: unknown, ...rest: unknown[]) => {
      if (typeof data === 'string' && /^[0-9]{13,19}$/.test(data)) maskedRuns++;
      return (update as (...a: unknown[]) => crypto.Hmac)(data, ...rest);
    }) as typeof h.update;
    return h;
  }) as typeof crypto.createHmac;
  syncBuiltinESMExports();
});
after(async () => {
  (crypto as { createHmac: typeof crypto.createHmac }).createHmac = realCreateHmac;
  syncBuiltinESMExports();
  await gw?.close();
});

const body = JSON.stringify({ holderName: 'x', meta: { note: '0000000000000 '.repeat(4500) } });

for (const path of ['/public/payment/instruments', '/public/payment/instruments/tokenize', '/merchant/client/init']) {
  test(`an unauthenticated POST ${path} is refused before its 64 KiB body is screened for card numbers`, async () => {
    maskedRuns = 0;
    const r = await fetch(`${gw.url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json', origin: 'https://shop.example' }, body });
    await r.text();
    assert.equal(r.status, 401);
    assert.equal(maskedRuns, 0, `the gateway masked ${maskedRuns} card-number-looking runs of a body sent with no token at all, before refusing it`);
  });
}
