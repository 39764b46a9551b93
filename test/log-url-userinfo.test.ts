/**
 * Requests refused before any hook are now logged: Node's
 * parser refusals with their path, an undecodable URL with the request's URL. A request target in
 * absolute form (as a client sends through a forward proxy) may carry a password in its userinfo
 * (`http://merchant:PASSWORD@host/…`); the path logged is cut at `?` only, and the line scrubber
 * knows query parameters and card numbers, not userinfo: the password reaches the log in the clear.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { startGateway, type Gateway } from './support/harness.ts';

let gw: Gateway;
before(async () => { gw = await startGateway(); });
after(async () => { await gw?.close(); });

const raw = (s: string) => new Promise<string>((resolve) => {
  const { hostname, port } = new URL(gw.url);
  const so = connect(Number(port), hostname); let a = '';
  so.on('data', (d) => { a += String(d); }); so.on('error', () => undefined); so.once('close', () => resolve(a));
  so.once('connect', () => so.write(s));
});

test('a password in the userinfo of a refused request\'s URL (431, undecodable URL) is not written to the log', async () => {
  const from = gw.logs.length;
  const a = await raw(`GET http://merchant:Zq7s3cretPass@localhost/v1/payments HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`);
  assert.match(a, /^HTTP\/1\.1 431 /);
  const b = await raw('GET http://merchant:Zq7s3cretPass@localhost/v1/payments/%zz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
  assert.match(b, /^HTTP\/1\.1 400 /);
  await new Promise((r) => setTimeout(r, 300));
  const leaked = gw.logs.slice(from).filter((l) => l.includes('Zq7s3cretPass'));
  assert.deepEqual(leaked, [], `the URL's password is in ${leaked.length} log line(s): ${leaked[0]?.slice(0, 300)}`);
});
