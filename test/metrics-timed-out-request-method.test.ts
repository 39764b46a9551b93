/**
 * A request Node's parser refuses before any hook is counted in
 * switchyard_http_requests_total as `unmatched`, its method `other` only "when it is none of the
 * standard ones" (docs/metrics.md, Labels). A POST whose headers were read but whose body never
 * came (408 at the request timeout: Node holds the request, and its method) is counted with
 * method="other": the method is read only from the parser's raw bytes, which a timeout has none of.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { startGateway, type Gateway } from './support/harness.ts';

let gw: Gateway;
before(async () => { gw = await startGateway({ env: { SWITCHYARD_REQUEST_TIMEOUT_MS: '1000', SWITCHYARD_HEADERS_TIMEOUT_MS: '600' } }); });
after(async () => { await gw?.close(); });

const count = async (method: string) => (await (await fetch(`${gw.url}/metrics`)).text()).split('\n')
  .filter((l) => l.startsWith('switchyard_http_requests_total{') && l.includes('status="408"') && l.includes(`method="${method}"`))
  .reduce((n, l) => n + Number(l.split(' ').at(-1)), 0);

test('a POST cut off at the request timeout (408) is counted under method POST, not "other"', async () => {
  const [postBefore, otherBefore] = [await count('POST'), await count('other')];
  const { hostname, port } = new URL(gw.url);
  const answer = await new Promise<string>((resolve) => {
    const s = connect(Number(port), hostname);
    let a = '';
    s.on('data', (d) => { a += String(d); });
    s.on('error', () => undefined);
    s.once('close', () => resolve(a));
    s.once('connect', () => s.write('POST /v1/payments HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 100\r\n\r\nab'));
  });
  assert.match(answer, /^HTTP\/1\.1 408 /);
  const [post, other] = [await count('POST') - postBefore, await count('other') - otherBefore];
  assert.deepEqual({ post, other }, { post: 1, other: 0 }, `the POST's 408 was counted as method="other" ${other} time(s), method="POST" ${post} time(s)`);
});
