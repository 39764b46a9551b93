/**
 * Refusals of requests nobody authenticated (a POST to an /admin/ path without a token, a
 * dashboard post with a foreign Origin, a sign-in post without its form token) are audit rows. A
 * stranger could grow the audit table (and bury the operators' own entries) as fast as they could
 * send requests: per address, the first few are written, then one row says the rest are counted.
 * An operator's own refused requests (with the token) are all written.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { startGateway, type Gateway } from './support/harness.ts';

let gw: Gateway;
before(async () => { gw = await startGateway(); });
after(async () => { await gw?.close(); });

const rows = async () => (await gw.app.dashboard.auditLog({ limit: 100_000 } as never)).length;
const N = 120;
/** The allowance (20 an address in ten minutes) and the row that says the rest are counted, with room to spare. */
const bound = 30;

const surfaces: [string, () => Promise<Response>][] = [
  ['POST /admin/api/... without a token', () => fetch(`${gw.url}/admin/api/webhooks/endpoints`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' })],
  // The method and the path are the caller's to choose: neither earns an allowance of its own.
  ['PUT, POST, DELETE on ever other admin paths without a token', (() => {
    let i = 0;
    const methods = ['PUT', 'POST', 'DELETE', 'PATCH'];
    return () => { i++; return fetch(`${gw.url}/admin/merchants/${i.toString(16).padStart(32, '0')}/origins/${i}`, { method: methods[i % methods.length], headers: { 'content-type': 'application/json' }, body: '{}' }); };
  })()],
  ['a cross-site dashboard post', () => fetch(`${gw.url}/dashboard/sign-out`, { method: 'POST', headers: { origin: 'https://evil.example', 'content-type': 'application/x-www-form-urlencoded' }, body: 'x=1' })],
  ['a sign-in post without its form token', () => fetch(`${gw.url}/dashboard/sign-in`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'email=a%40b.c&password=x' })],
];

for (const [name, send] of surfaces) {
  test(`${name}: ${N} of them from one address do not write ${N} audit rows`, async () => {
    const before = await rows();
    for (let i = 0; i < N; i++) {
      const r = await send();
      await r.arrayBuffer();
      assert.ok(r.status >= 400 && r.status < 500, `status ${r.status}`);
    }
    const added = (await rows()) - before;
    assert.ok(added <= bound, `${added} audit rows written for ${N} unauthenticated, refused requests from one address`);
  });
}

test('an operator\'s own refused admin requests (with the token) are each written', async () => {
  const before = await rows();
  for (let i = 0; i < 40; i++) {
    const r = await fetch(`${gw.url}/admin/merchants/${'0'.repeat(32)}/origins`, { method: 'POST', headers: { authorization: `Bearer ${gw.app.admin.token}`, 'content-type': 'application/json' }, body: '{}' });
    await r.arrayBuffer();
    assert.ok(r.status >= 400 && r.status < 500, `status ${r.status}`);
  }
  assert.equal((await rows()) - before, 40);
  const limited = (await gw.app.dashboard.auditLog({ limit: 100_000 } as never)).filter((e) => e.action === 'audit.refusals_limited');
  assert.ok(limited.length >= 1, 'a stranger\'s flood says once that the rest are counted');
});
