import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { startGateway, type Gateway } from './support/harness.ts';

let gw: Gateway;
before(async () => { gw = await startGateway(); });
after(async () => { await gw?.close(); });

// A client set up to send the executions API key as a query parameter under its header's name (an
// HTTP tool's "API key: add to query params") is refused, but its URL is logged.
test('the API key sent as ?x-api-key= to the token endpoint is refused and never written to a log line', async () => {
  const from = gw.logs.length;
  const key = gw.merchant.apiKey;
  for (const name of ['x-api-key', 'X-Api-Key', 'api-key']) {
    const r = await fetch(`${gw.url}/auth/token/${gw.merchant.clientId}?${name}=${encodeURIComponent(key)}`, { method: 'POST' });
    assert.equal(r.status, 401);
    assert.deepEqual(await r.json(), { error: 'invalid_client', error_description: 'Unknown client id or API key' });
  }
  const lines = gw.logs.slice(from);
  assert.ok(lines.some((l) => l.includes('/auth/token/')), 'the requests are logged');
  const leaking = lines.filter((l) => l.includes(key) || l.includes(encodeURIComponent(key)));
  assert.deepEqual(leaking.map((l) => l.slice(0, 200).replaceAll(key, '<key>')), []);
  assert.ok(lines.some((l) => l.includes('x-api-key=[REDACTED]')));
});
