/**
 * A NUL (or other control character) in any input answers a clear 4xx in the dialect's own format on
 * PostgreSQL (which refuses a NUL in a text column), never a 500, and stores nothing.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { opp, pay, postgresAvailable, startGateway, type Gateway } from './support/harness.ts';
import { call, configureCascade, execution, tokenOf, wf } from './support/executions.ts';
import { adminHeaders } from './support/process.ts';
import { startAdyenFake, adyenFakeCredentials, type AdyenFake } from './support/fake-psps/adyen.ts';
import { signItem } from '../src/processors/adyen/webhook.ts';

const NUL = 'a\u0000b';
const N = encodeURIComponent(NUL);
let gw: Gateway;
let adyen: AdyenFake;
let token: string;
const skip = !(await postgresAvailable());

before(async () => {
  if (skip) return;
  [adyen, gw] = await Promise.all([startAdyenFake(), startGateway({ store: 'postgres' })]);
  token = await tokenOf(gw);
  await configureCascade(gw, { adyen: { connector: 'adyen', settings: { baseUrl: adyen.url, ...adyenFakeCredentials } } }, ['adyen']);
});
after(async () => { await Promise.all([gw?.close(), adyen?.close()]); });

describe('/v1 (OPP) on PostgreSQL', { skip }, () => {
  test('POST /v1/payments with a NUL in merchantTransactionId is refused naming the field (it answered 500 / 999.999.999)', async () => {
    const r = await pay(gw, { merchantTransactionId: NUL });
    assert.equal(r.status, 400, JSON.stringify(r.body));
    assert.ok(r.body.result.parameterErrors?.some((e: { name: string }) => e.name === 'merchantTransactionId'), JSON.stringify(r.body.result));
  });

  test('GET /v1/query?merchantTransactionId= with a NUL is refused naming the field (it answered 500)', async () => {
    const r = await opp(gw, 'GET', '/v1/query', { merchantTransactionId: NUL });
    assert.equal(r.status, 400, JSON.stringify(r.body));
    assert.ok(r.body.result.parameterErrors?.some((e: { name: string }) => e.name === 'merchantTransactionId'), JSON.stringify(r.body.result));
  });

  test('a refund (POST /v1/payments/{id}) with a NUL in merchantTransactionId is refused naming the field, and refunds nothing (it answered 500)', async () => {
    const p = await pay(gw, { merchantTransactionId: 'nul-rf-parent' });
    assert.equal(p.status, 200, JSON.stringify(p.body));
    await configureCascade(gw, {}, ['adyen']);
    const r = await opp(gw, 'POST', `/v1/payments/${p.body.id}`, { paymentType: 'RF', amount: '1.00', currency: 'EUR', merchantTransactionId: NUL });
    assert.equal(r.status, 400, JSON.stringify(r.body));
    assert.ok(r.body.result.parameterErrors?.some((e: { name: string }) => e.name === 'merchantTransactionId'), JSON.stringify(r.body.result));
  });
});

describe('executions dialect on PostgreSQL', { skip }, () => {
  const refused = (r: { status: number; body: any }, field: string) => {
    assert.equal(r.status, 400, JSON.stringify(r.body));
    assert.equal(r.body.errors[0].code, 'request.param.invalid', JSON.stringify(r.body));
    assert.match(r.body.errors[0].detail, new RegExp(`^${field.replace(/[[\]]/g, '\\$&')}`), JSON.stringify(r.body));
  };

  for (const field of ['merchantReference', 'holderReference']) {
    test(`creating an execution with a NUL in ${field} is refused naming it (it answered 500)`, async () => {
      const r = await call(gw, 'POST', wf, { token, body: { merchantReference: 'm', holderReference: 'h', workspaceId: gw.merchant.workspaceId, [field]: NUL } });
      refused(r, field);
    });
    test(`listing executions with a NUL in filter[${field}] is refused naming it (it answered 500)`, async () => {
      const r = await call(gw, 'GET', `${wf}?filter[${field}]=${N}`, { token });
      refused(r, `filter[${field}]`);
    });
  }

  test('creating an instrument with a NUL in holderReference is refused naming it (it answered 500)', async () => {
    const r = await call(gw, 'POST', '/payment/instruments', { token, body: { holderReference: NUL, paymentMethod: 'card', data: { cardNumber: '4111111111111111', expiryMonth: '03', expiryYear: '30', securityCode: '737', holderName: 'J D' } } });
    refused(r, 'holderReference');
  });

  test('creating an instrument with a NUL in data.holderName is refused naming it (it answered 500)', async () => {
    const r = await call(gw, 'POST', '/payment/instruments', { token, body: { holderReference: 'h', paymentMethod: 'card', data: { cardNumber: '4111111111111111', expiryMonth: '03', expiryYear: '30', securityCode: '737', holderName: NUL } } });
    refused(r, 'data.holderName');
  });

  test('client/init with a NUL in merchantReference is refused naming it (it answered 500)', async () => {
    const r = await call(gw, 'POST', '/merchant/client/init', { token, body: { type: 'secureFields', holderReference: 'h', merchantReference: NUL } });
    refused(r, 'merchantReference');
  });

  test('an execution still works after (sanity)', async () => {
    assert.ok(await execution(gw, token, 'h-ok'));
  });
});

describe('admin API on PostgreSQL', { skip }, () => {
  const cases: [string, string, unknown?][] = [
    ['GET', `/admin/api/webhooks/endpoints?merchantId=${N}`],
    ['GET', `/admin/api/webhooks/endpoints/${N}`],
    ['POST', `/admin/api/webhooks/endpoints/${N}/rotate`, {}],
    ['POST', `/admin/api/webhooks/endpoints/${N}/disable`, {}],
    ['POST', `/admin/api/webhooks/endpoints/${N}/enable`, {}],
    ['POST', `/admin/api/webhooks/endpoints/${N}/test`, {}],
    ['GET', `/admin/api/webhooks/events/${N}`],
    ['POST', `/admin/api/webhooks/events/${N}/redeliver`, {}],
    ['GET', `/admin/api/ledger/balances?merchantId=${N}`],
    ['GET', `/admin/api/ledger/payments/${N}`],
    ['POST', `/admin/api/ledger/discrepancies/${N}/resolve`, { note: 'x' }],
    // In a body's own fields: ids and names, as in a path.
    ['POST', '/admin/api/webhooks/endpoints', { merchantId: NUL, dialect: 'executions', url: 'https://example.com/' }],
    ['POST', '/admin/api/webhooks/endpoints', { merchantId: 'MERCHANT', dialect: 'opp', entityId: NUL, url: 'https://example.com/' }],
    ['POST', '/admin/api/webhooks/redeliver', { since: '2020-01-01T00:00:00Z', endpointId: NUL }],
    ['POST', '/admin/api/webhooks/redeliver', { since: '2020-01-01T00:00:00Z', merchantId: NUL }],
  ];
  for (const [method, path, body] of cases) {
    const inBody = body && typeof body === 'object' ? Object.entries(body).find(([, v]) => v === NUL)?.[0] : undefined;
    test(`${method} ${path.replace(N, '%00')}${inBody ? ` with a NUL in ${inBody}` : ''} answers 4xx, not 500`, async () => {
      const sent = body === undefined ? undefined : JSON.stringify(body).replace('MERCHANT', gw.merchant.merchantId);
      const res = await fetch(gw.url + path, { method, headers: { ...adminHeaders(gw.dataDir, gw.app.config.adminToken), 'content-type': 'application/json' }, ...(sent !== undefined ? { body: sent } : {}) });
      const text = await res.text();
      assert.ok(res.status >= 400 && res.status < 500, `${res.status} ${text}`);
    });
  }
});

describe('PSP notifications on PostgreSQL', { skip }, () => {
  /** One authentic Adyen notification item (signed with the account's HMAC key). */
  const adyenBody = (over: Record<string, string>) => {
    const n = { pspReference: 'PSPNUL1', originalReference: undefined as string | undefined, merchantAccountCode: adyenFakeCredentials.merchantAccount, merchantReference: 'x', value: 100, currency: 'EUR', eventCode: 'AUTHORISATION', success: 'true', ...over };
    const signed = { pspReference: n.pspReference, originalReference: n.originalReference, merchantAccountCode: n.merchantAccountCode, merchantReference: n.merchantReference, value: n.value, currency: n.currency, eventCode: n.eventCode, success: n.success };
    return JSON.stringify({ live: 'false', notificationItems: [{ NotificationRequestItem: { ...n, amount: { value: n.value, currency: n.currency }, eventDate: new Date().toISOString(), additionalData: { hmacSignature: signItem(signed, adyenFakeCredentials.hmacKey) } } }] });
  };
  for (const [label, over] of [
    ['merchantReference (the attempt) of an AUTHORISATION', { merchantReference: NUL }],
    ['originalReference of a CHARGEBACK', { originalReference: NUL, eventCode: 'CHARGEBACK' }],
    ['merchantReference of a CAPTURE', { merchantReference: NUL, eventCode: 'CAPTURE', originalReference: 'ORIG1' }],
  ] as const) {
    test(`an authentic Adyen notification with a NUL in the ${label} is acknowledged (it answered 500 with PostgreSQL's error, so Adyen retries it for ever)`, async () => {
      const res = await fetch(`${gw.url}/psp-notifications/${gw.merchant.merchantId}/adyen`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: adyenBody(over) });
      const text = await res.text();
      assert.doesNotMatch(text, /byte sequence|22021/, 'the database error is not told to the caller');
      assert.deepEqual({ status: res.status, text }, { status: 200, text: '[accepted]' });
    });
  }
});

describe('hosted pages', { skip }, () => {
  test('the demo return page does not echo a control character raw into its HTML', async () => {
    const res = await fetch(`${gw.url}/hosted/return?id=${N}&resourcePath=%01`);
    const html = await res.text();
    assert.doesNotMatch(html, /[\u0000-\u0008\u000b\u000c\u000e-\u001f]/);
  });
});
