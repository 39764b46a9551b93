import { test } from 'node:test';
import assert from 'node:assert/strict';
import { normalizeOrigin } from './model.ts';

test('an origin is https (or http on a loopback host) with a host name or an address, in its canonical form', () => {
  for (const [given, canonical] of [
    ['https://Shop.example:443', 'https://shop.example'], ['https://shop.example:8443/', 'https://shop.example:8443'],
    ['https://münchen.de', 'https://xn--mnchen-3ya.de'], ['https://192.0.2.7', 'https://192.0.2.7'], ['https://[2001:db8::1]', 'https://[2001:db8::1]'],
    ['http://localhost:3000', 'http://localhost:3000'], ['http://127.0.0.1:8080', 'http://127.0.0.1:8080'],
  ] as const) assert.equal(normalizeOrigin(given), canonical, given);
});

test('wildcards, lists and other non-hosts are refused: in frame-ancestors `https://*` would let every https page frame the card fields', () => {
  for (const bad of ['https://*', 'https://*.shop.example', 'https://a,b', 'https://a;b', "https://a'b", '*', 'null', 'http://shop.example',
    'https://shop.example/path', 'https://user@shop.example', 'https://shop.example?q', 'javascript:alert(1)']) {
    assert.equal(normalizeOrigin(bad), undefined, bad);
  }
});
