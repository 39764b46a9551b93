/**
 * The payment search (admin API, and the dashboard's list and the CLI through the same parser)
 * refuses a filter given twice with different values, naming it, as the dialects refuse a repeated
 * parameter: it took the first in silence, and `?status=captured&status=declined` listed only the
 * captured payments to an operator who asked for both.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { startGateway, type Gateway } from './support/harness.ts';
import { admin } from './support/webhooks.ts';

let gw: Gateway;
before(async () => { gw = await startGateway(); });
after(() => gw?.close());

test('a filter given twice with different values is refused naming it, not read as the first', async () => {
  const twice = await admin(gw, 'GET', '/payments?status=captured&status=declined');
  assert.equal(twice.status, 400, JSON.stringify(twice.body));
  assert.equal(twice.body.error.code, 'invalid_filter');
  assert.match(twice.body.error.message, /^status is given more than once/);
  assert.equal((await admin(gw, 'GET', '/payments?status=captured&status=captured')).status, 200, 'the same value twice is one question');
});
