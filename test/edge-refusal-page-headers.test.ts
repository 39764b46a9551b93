/**
 * A page the gateway answers for a /hosted/ or /dashboard path before any route runs (an undecodable
 * URL, headers too large for Node's parser, a request while it drains) keeps the rules of the
 * surface's other pages: a CSP that loads and runs nothing and lets no page frame it, DENY, nosniff.
 * It carried none of them, so it could be framed on any site. Every other refusal made there is
 * sent with nosniff.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { startGateway, type Gateway } from './support/harness.ts';

let gw: Gateway;
before(async () => { gw = await startGateway(); });
after(async () => { await gw?.close(); });

const pageRules = (headers: (name: string) => string | null | undefined) => {
  assert.match(headers('content-type') ?? '', /^text\/html/);
  assert.match(headers('content-security-policy') ?? '', /default-src 'none'/);
  assert.match(headers('content-security-policy') ?? '', /frame-ancestors 'none'/);
  assert.equal(headers('x-frame-options'), 'DENY');
  assert.equal(headers('x-content-type-options'), 'nosniff');
};

for (const path of ['/hosted/3ds/%zz', '/dashboard/payments/%zz']) {
  test(`the refusal page for ${path} carries the surface's CSP, frame-ancestors and nosniff`, async () => {
    const r = await fetch(gw.url + path);
    assert.equal(r.status, 400);
    pageRules((n) => r.headers.get(n));
  });
}

test('the refusal Node\'s parser leads to (headers too large) on a hosted path carries them too', async () => {
  const { port } = new URL(gw.url);
  const raw = await new Promise<string>((resolve, reject) => {
    const socket = connect(Number(port), '127.0.0.1', () => {
      socket.write(`GET /hosted/3ds/x HTTP/1.1\r\nHost: localhost\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`);
    });
    let text = '';
    socket.on('data', (d) => { text += d.toString('latin1'); });
    socket.on('end', () => resolve(text));
    socket.on('error', reject);
  });
  assert.match(raw, /^HTTP\/1\.1 431 /);
  const head = raw.split('\r\n\r\n', 1)[0]!.split('\r\n').slice(1);
  const headers = new Map(head.map((l) => [l.slice(0, l.indexOf(':')).toLowerCase(), l.slice(l.indexOf(':') + 1).trim()]));
  pageRules((n) => headers.get(n));
});

test('a JSON refusal made before any route is sent with nosniff', async () => {
  const r = await fetch(`${gw.url}/v1/payments/%zz`);
  assert.equal(r.status, 400);
  assert.equal(r.headers.get('x-content-type-options'), 'nosniff');
});
