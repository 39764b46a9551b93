/**
 * The PSP return endpoint as a PSP posts the shopper back to it: a large form (Adyen's redirectResult
 * runs to 16 KiB, a 3-D Secure 1 PaRes often past 8 KiB) reaches the handler, and what the hosted
 * pages cannot read is answered as a page, not as JSON.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { startGateway, type Gateway } from './support/harness.ts';

let gw: Gateway;
before(async () => { gw = await startGateway(); });
after(() => gw.close());

test('a PSP return POSTed with a 12 KiB redirectResult reaches the handler (404 for unknown ids, not 413)', async () => {
  const ids = `${'a'.repeat(32)}/${'b'.repeat(32)}`;
  const res = await fetch(`${gw.url}/hosted/psp-return/${ids}`, {
    method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ redirectResult: 'X'.repeat(12 * 1024) }), redirect: 'manual',
  });
  const text = await res.text();
  assert.notEqual(res.status, 413, text.slice(0, 200));
  assert.equal(res.status, 404);
  assert.equal(res.headers.get('x-frame-options'), 'DENY');
});

test('a hosted page POSTed something it cannot read answers a page, not JSON', async () => {
  const ids = `${'a'.repeat(32)}/${'b'.repeat(32)}`;
  for (const [type, payload] of [['application/x-www-form-urlencoded', 'x='.padEnd(70 * 1024, 'X')], ['text/plain', 'hello']] as const) {
    const res = await fetch(`${gw.url}/hosted/psp-return/${ids}`, { method: 'POST', headers: { 'content-type': type }, body: payload, redirect: 'manual' });
    assert.ok(res.status >= 400 && res.status < 500, String(res.status));
    assert.match(res.headers.get('content-type') ?? '', /^text\/html/);
    assert.equal(res.headers.get('x-frame-options'), 'DENY');
    await res.text();
  }
});
