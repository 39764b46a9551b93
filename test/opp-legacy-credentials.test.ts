import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startGateway, testCard, type Gateway, type OppResponse } from './support/harness.ts';
import type { MerchantCredentials } from '../src/merchants/service.ts';

const success = '000.100.110';
let gw: Gateway;
let other: MerchantCredentials;
before(async () => {
  gw = await startGateway();
  other = await gw.app.merchants.create({ name: 'Other Merchant' });
});
after(() => gw.close());

/**
 * A call as a pre-bearer client makes it: credentials and entity as form fields on POST and as
 * query parameters on GET and DELETE; an Authorization header only when `bearer` is given.
 */
async function legacy(method: 'GET' | 'POST' | 'DELETE', path: string, params: Record<string, string>, bearer?: string): Promise<OppResponse> {
  const headers: Record<string, string> = bearer !== undefined ? { authorization: `Bearer ${bearer}` } : {};
  let url = gw.url + path;
  let body: string | undefined;
  if (method === 'POST') {
    headers['content-type'] = 'application/x-www-form-urlencoded;charset=UTF-8';
    body = new URLSearchParams(params).toString();
  } else {
    url += '?' + new URLSearchParams(params).toString();
  }
  const res = await fetch(url, { method, headers, ...(body !== undefined ? { body } : {}) });
  const text = await res.text();
  return { status: res.status, headers: res.headers, body: text ? JSON.parse(text) : undefined };
}

const credsOf = (m: MerchantCredentials) => ({
  'authentication.userId': m.userId, 'authentication.password': m.password, 'authentication.entityId': m.entityId,
});
const payment = { ...testCard, amount: '12.00', currency: 'EUR', paymentType: 'DB' };

function assertRefused(r: OppResponse) {
  assert.equal(r.status, 401);
  assert.equal(r.body.result.code, '800.900.300');
  assert.equal(r.body.id, undefined);
}

describe('/v1 legacy credentials (authentication.userId / password / entityId)', () => {
  test('POST with the pair in the form body pays; GET and DELETE with it in the query read and deregister', async () => {
    const paid = await legacy('POST', '/v1/payments', { ...credsOf(gw.merchant), ...payment, merchantTransactionId: 'legacy-1' });
    assert.equal(paid.status, 200);
    assert.equal(paid.body.result.code, success);
    assert.ok(paid.body.ndc.startsWith(gw.merchant.entityId + '_'));

    const status = await legacy('GET', `/v1/payments/${paid.body.id}`, credsOf(gw.merchant));
    assert.equal(status.status, 200);
    assert.equal(status.body.id, paid.body.id);
    const query = await legacy('GET', '/v1/query', { ...credsOf(gw.merchant), merchantTransactionId: 'legacy-1' });
    assert.equal(query.status, 200);
    assert.deepEqual(query.body.payments.map((p: { id: string }) => p.id), [paid.body.id]);

    const cp = await legacy('POST', '/v1/registrations', { ...credsOf(gw.merchant), ...testCard });
    assert.equal(cp.body.result.code, success);
    const del = await legacy('DELETE', `/v1/registrations/${cp.body.id}`, credsOf(gw.merchant));
    assert.equal(del.status, 200);
    assert.equal(del.body.id, cp.body.id);
    // Deregistered for real: a second DELETE finds it gone.
    assert.equal((await legacy('DELETE', `/v1/registrations/${cp.body.id}`, credsOf(gw.merchant))).body.result.code, '100.150.202');
  });

  test('the pair with `entityId` instead of `authentication.entityId` works too', async () => {
    const { 'authentication.entityId': entityId, ...pair } = credsOf(gw.merchant);
    const r = await legacy('POST', '/v1/payments', { ...pair, entityId, ...payment });
    assert.equal(r.body.result.code, success);
  });

  test('a request with both a bearer token and the pair is accepted when they name the same merchant, refused when not', async () => {
    const same = await legacy('POST', '/v1/payments', { ...credsOf(gw.merchant), ...payment }, gw.merchant.accessToken);
    assert.equal(same.body.result.code, success);
    // Bearer of one merchant, pair of another: refused whichever entity is named.
    assertRefused(await legacy('POST', '/v1/payments', { ...credsOf(other), ...payment }, gw.merchant.accessToken));
    assertRefused(await legacy('POST', '/v1/payments', { ...credsOf(gw.merchant), ...payment }, other.accessToken));
    assertRefused(await legacy('GET', '/v1/query', { ...credsOf(gw.merchant), merchantTransactionId: 'x' }, other.accessToken));
    assertRefused(await legacy('DELETE', `/v1/registrations/${'0'.repeat(32)}`, credsOf(gw.merchant), other.accessToken));
    // A good pair does not rescue a bad bearer token.
    assertRefused(await legacy('POST', '/v1/payments', { ...credsOf(gw.merchant), ...payment }, 'bm90LWEtdG9rZW4='));
  });

  test('a wrong, partial or foreign pair gets the bearer refusal: 401 800.900.300', async () => {
    const good = credsOf(gw.merchant);
    assertRefused(await legacy('POST', '/v1/payments', { ...good, 'authentication.password': good['authentication.password'] + 'x', ...payment }));
    assertRefused(await legacy('POST', '/v1/payments', { ...good, 'authentication.userId': other.userId, ...payment }));
    const { 'authentication.password': _p, ...noPassword } = good;
    assertRefused(await legacy('POST', '/v1/payments', { ...noPassword, ...payment }));
    const { 'authentication.userId': _u, ...noUser } = good;
    assertRefused(await legacy('GET', '/v1/query', { ...noUser, merchantTransactionId: 'x' }));
    // Another merchant's entity, and two different entity ids in one request.
    assertRefused(await legacy('POST', '/v1/payments', { ...good, 'authentication.entityId': other.entityId, ...payment }));
    assertRefused(await legacy('POST', '/v1/payments', { ...good, entityId: other.entityId, ...payment }));
    // The pair is not the token: sending the token as a password does not work.
    assertRefused(await legacy('DELETE', `/v1/registrations/${'0'.repeat(32)}`, { ...good, 'authentication.password': gw.merchant.accessToken }));
    // Nothing at all: still the bearer refusal with its challenge header.
    const none = await legacy('GET', '/v1/query', { 'authentication.entityId': gw.merchant.entityId, merchantTransactionId: 'x' });
    assertRefused(none);
    assert.match(none.headers.get('www-authenticate') ?? '', /^Bearer /);
  });

  test('no log line holds a password sent in a query string, plainly or percent-encoded, right or wrong', async () => {
    const canary = 'CanaryPw-7Q2zX9';
    const creds = credsOf(gw.merchant);
    const before = gw.logs.length;
    await legacy('GET', '/v1/query', { ...creds, merchantTransactionId: 'legacy-1' });
    await legacy('GET', '/v1/query', { ...creds, 'authentication.password': canary, merchantTransactionId: 'x' });
    await legacy('DELETE', `/v1/registrations/${'0'.repeat(32)}`, { ...creds, 'authentication.password': canary });
    // Percent-encoded name and value, as some HTTP libraries send them.
    const encoded = canary.split('').map((ch) => '%' + ch.charCodeAt(0).toString(16)).join('');
    await fetch(`${gw.url}/v1/query?authentication%2Euser%49d=${gw.merchant.userId}&authentication.p%61ssword=${encoded}&entityId=${gw.merchant.entityId}&merchantTransactionId=x`);
    await legacy('POST', '/v1/payments', { ...creds, 'authentication.password': canary, ...payment });
    const lines = gw.logs.slice(before);
    // The calls were logged with their URLs (so the scan below looks at something).
    assert.ok(lines.some((l) => l.includes('/v1/query?') && l.includes('authentication.password=[REDACTED]')), 'request URLs are logged, password removed');
    for (const secret of [canary, encoded, gw.merchant.password, encodeURIComponent(gw.merchant.password)]) {
      assert.equal(lines.filter((l) => l.includes(secret)).length, 0, `a log line holds ${secret}`);
    }
  });

  test('no log line holds a bearer secret sent in a query string (refused, but its URL is logged)', async () => {
    const before = gw.logs.length;
    const token = gw.merchant.accessToken;
    for (const path of [`/v1/query?entityId=${gw.merchant.entityId}&merchantTransactionId=x&access_token=${encodeURIComponent(token)}`,
      `/admin/api/webhooks/endpoints?access_token=${encodeURIComponent(gw.app.admin.token)}`]) {
      assert.equal((await fetch(`${gw.url}${path}`)).status, 401);
    }
    const lines = gw.logs.slice(before);
    assert.ok(lines.some((l) => l.includes('access_token=[REDACTED]')), 'the URLs are logged, the token removed');
    for (const secret of [token, encodeURIComponent(token), gw.app.admin.token]) {
      assert.equal(lines.filter((l) => l.includes(secret)).length, 0, `a log line holds ${secret.slice(0, 6)}…`);
    }
  });
});
