/** The Bearer scheme as clients spell it, on /metrics. */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { startGateway, type Gateway } from './support/harness.ts';

let gw: Gateway;
const token = 'm'.repeat(32);
before(async () => { gw = await startGateway({ env: { SWITCHYARD_METRICS_TOKEN: token } }); });
after(() => gw.close());

const metrics = async (authorization: string) => (await fetch(`${gw.url}/metrics`, { headers: { authorization } })).status;
const admin = async (authorization: string) => (await fetch(`${gw.url}/admin/merchants/${gw.merchant.merchantId}/origins`, { headers: { authorization } })).status;

// The auth scheme is matched in any case (RFC 7235), with any run of spaces after it, on /metrics as
// on the admin API, /v1 and the executions dialect.
test('/metrics takes the right token however the Bearer scheme is spelt, as the admin API does', async () => {
  assert.equal(await metrics(`Bearer ${token}`), 200);
  assert.equal(await admin(`bearer ${gw.app.admin.token}`), 200);
  assert.equal(await metrics(`bearer ${token}`), 200, 'lower-case scheme refused');
  assert.equal(await metrics(`BEARER ${token}`), 200, 'upper-case scheme refused');
  assert.equal(await metrics(`Bearer  ${token}`), 200, 'two spaces refused');
});
