/**
 * `/dashboard/assets/:file` serves the dashboard's stylesheet and script by name. Looked up in a
 * plain object, `__proto__`, `constructor`, `toString`… were found on its prototype, and the route
 * answered 500 ("Something went wrong") to anyone, signed in or not. An asset that does not exist is
 * a 404, whatever its name.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { startGateway, type Gateway } from './support/harness.ts';

let gw: Gateway;
before(async () => { gw = await startGateway(); });
after(async () => { await gw?.close(); });

for (const name of ['__proto__', 'constructor', 'toString', 'hasOwnProperty', 'valueOf']) {
  test(`GET and HEAD /dashboard/assets/${name} answer 404, not 500`, async () => {
    for (const method of ['GET', 'HEAD']) {
      const r = await fetch(`${gw.url}/dashboard/assets/${name}`, { method });
      await r.text();
      assert.equal(r.status, 404, `${method} /dashboard/assets/${name} answered ${r.status}`);
    }
  });
}

test('a real asset is still served', async () => {
  const r = await fetch(`${gw.url}/dashboard/assets/dashboard.css`);
  assert.equal(r.status, 200);
  assert.match(r.headers.get('content-type') ?? '', /text\/css/);
});
