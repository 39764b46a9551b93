/**
 * A body with a Content-Encoding is refused naming that header, on the operator API as on the
 * dialects (test/http-body-and-cors-edges.test.ts). The operator API read its bodies with the HTTP
 * framework's JSON parser, which ignores Content-Encoding: a plain body labelled gzip was acted on,
 * and a real gzip body was told "Body is not valid JSON". A body over the limit, or not JSON, is
 * answered in the API's own words too.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { gzipSync } from 'node:zlib';
import { startGateway, type Gateway } from './support/harness.ts';

const ADMIN = 'admin-body-refusals-token-0123456789';
let gw: Gateway;
before(async () => { gw = await startGateway({ env: { SWITCHYARD_ADMIN_TOKEN: ADMIN } }); });
after(async () => { await gw?.close(); });

const headers = { authorization: `Bearer ${ADMIN}`, 'content-type': 'application/json', 'content-encoding': 'gzip' };
const originsOf = async () => (await (await fetch(`${gw.url}/admin/merchants/${gw.merchant.merchantId}/origins`, { headers: { authorization: `Bearer ${ADMIN}` } })).json()) as { origins: string[] };

test('admin API: a body labelled Content-Encoding: gzip that is not gzip is refused naming the header, and changes nothing', async () => {
  const r = await fetch(`${gw.url}/admin/merchants/${gw.merchant.merchantId}/origins`, {
    method: 'POST', headers, body: JSON.stringify({ origin: 'https://labelled-gzip.example' }),
  });
  const body = await r.json() as { error?: { code: string; message: string } };
  assert.equal(r.status, 400, `answered ${r.status} ${JSON.stringify(body)}`);
  assert.match(body.error!.message, /Content-Encoding/);
  assert.deepEqual((await originsOf()).origins, [], 'nothing was added');
});

test('admin API: a gzip-compressed body is refused naming Content-Encoding, not as "Body is not valid JSON"', async () => {
  const r = await fetch(`${gw.url}/admin/merchants/${gw.merchant.merchantId}/origins`, {
    method: 'POST', headers, body: gzipSync(JSON.stringify({ origin: 'https://real-gzip.example' })),
  });
  const body = await r.json() as { error: { code: string; message: string } };
  assert.equal(r.status, 400);
  assert.match(body.error.message, /Content-Encoding/, `told: ${body.error.message}`);
  assert.deepEqual((await originsOf()).origins, []);
});

test('admin API: a body over the limit is too_large (413), one that is not JSON unsupported_media_type (415), in the API\'s own words', async () => {
  const url = `${gw.url}/admin/merchants/${gw.merchant.merchantId}/origins`;
  const big = await fetch(url, { method: 'POST', headers: { authorization: `Bearer ${ADMIN}`, 'content-type': 'application/json' }, body: JSON.stringify({ origin: 'x'.repeat(2_000_000) }) });
  assert.equal(big.status, 413);
  assert.deepEqual(((await big.json()) as { error: { code: string } }).error.code, 'too_large');
  const form = await fetch(url, { method: 'POST', headers: { authorization: `Bearer ${ADMIN}`, 'content-type': 'text/csv' }, body: 'origin\nhttps://a.example' });
  assert.equal(form.status, 415);
  const body = (await form.json()) as { error: { code: string; message: string } };
  assert.equal(body.error.code, 'unsupported_media_type');
  assert.match(body.error.message, /must be JSON/);
  assert.deepEqual((await originsOf()).origins, []);
});

test('admin API: a GET with no body is answered whatever its Content-Encoding header says', async () => {
  const labelled = await fetch(`${gw.url}/admin/merchants/${gw.merchant.merchantId}/origins`, { headers: { authorization: `Bearer ${ADMIN}`, 'content-encoding': 'gzip' } });
  assert.equal(labelled.status, 200, `a bodiless GET refused: ${labelled.status} ${await labelled.text()}`);
});
