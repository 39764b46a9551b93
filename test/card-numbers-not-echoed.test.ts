/**
 * A card number put where it does not belong (an id, a path, a parameter's name, a filter, a
 * dashboard address) is not echoed in an error body, a link or a page, nor kept in a store.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { opp, startGateway, testCard } from './support/harness.ts';
import { assertNoCardData, assertNoCardDataInFiles, newCanary } from './support/canary.ts';

test('a /v1 payment naming a registrationId that holds a card number, sent with card data, does not echo the card number', async () => {
  const canary = newCanary();
  const gw = await startGateway();
  try {
    const r = await opp(gw, 'POST', '/v1/payments', { ...testCard, amount: '1.00', currency: 'EUR', paymentType: 'DB', registrationId: canary.pan });
    assert.equal(r.status, 400);
    assertNoCardData(canary, 'the refusal', JSON.stringify(r.body));
  } finally { await gw.close(); }
});

test('a /v1 form parameter whose name is a card number and whose value is over-long is refused without echoing the number', async () => {
  const canary = newCanary();
  const gw = await startGateway();
  try {
    const body = `entityId=${gw.merchant.entityId}&amount=1.00&currency=EUR&paymentType=DB&${canary.pan}=${'x'.repeat(5000)}`;
    const res = await fetch(`${gw.url}/v1/payments`, { method: 'POST', body, headers: { authorization: `Bearer ${gw.merchant.accessToken}`, 'content-type': 'application/x-www-form-urlencoded' } });
    const text = await res.text();
    assert.equal(res.status, 400, text);
    assertNoCardData(canary, 'the refusal', text);
    assertNoCardData(canary, 'the logs', gw.logs.join(''));
  } finally { await gw.close(); }
});

import { sql } from 'kysely';
import { call, tokenOf } from './support/executions.ts';

test('an execution path naming an unknown workflow that is a card number is refused without echoing it', async () => {
  const canary = newCanary();
  const gw = await startGateway();
  try {
    const token = await tokenOf(gw);
    const get = await call(gw, 'GET', `/merchant/workflows/${canary.pan}/executions`, { token });
    assertNoCardData(canary, 'the list refusal', JSON.stringify(get.body));
    const post = await call(gw, 'POST', `/merchant/workflows/${canary.pan}/executions`, { token, body: { merchantReference: 'r' } });
    assertNoCardData(canary, 'the create refusal', JSON.stringify(post.body));
  } finally { await gw.close(); }
});

test('a write whose path holds a card number does not keep it in the idempotency table', async () => {
  const canary = newCanary();
  const gw = await startGateway();
  try {
    const token = await tokenOf(gw);
    const r = await call(gw, 'POST', `/merchant/workflows/payment-acceptance/executions/${canary.pan}/authorize`, { token, body: {} });
    assert.ok(r.status >= 400, JSON.stringify(r.body));
    await call(gw, 'POST', `/merchant/workflows/${canary.pan}/executions`, { token, body: { merchantReference: 'r' } });
    const rows = await sql<{ operation: string }>`select operation from idempotency_keys`.execute(gw.app.storage.db).catch(() => ({ rows: [] as { operation: string }[] }));
    for (const row of rows.rows) assertNoCardData(canary, `idempotency operation ${row.operation}`, row.operation);
    assertNoCardDataInFiles(canary, gw.dataDir);
  } finally { await gw.close(); }
});

test('an executions list filtered by a merchantReference holding a card number does not echo it in links.self', async () => {
  const canary = newCanary();
  const gw = await startGateway();
  try {
    const token = await tokenOf(gw);
    const r = await call(gw, 'GET', `/merchant/workflows/payment-acceptance/executions?filter[merchantReference]=${canary.pan}`, { token });
    assert.equal(r.status, 200, JSON.stringify(r.body));
    assertNoCardData(canary, 'the list answer', JSON.stringify(r.body));
  } finally { await gw.close(); }
});

test('the dashboard sign-in page for a path holding a card number does not carry the number', async () => {
  const canary = newCanary();
  const gw = await startGateway();
  try {
    const res = await fetch(`${gw.url}/dashboard/payments/${canary.pan}`, { redirect: 'follow' });
    assertNoCardData(canary, 'the sign-in page', await res.text());
    for (const [k, v] of res.headers) assertNoCardData(canary, `header ${k}`, v);
  } finally { await gw.close(); }
});

test('the operator API does not echo a card number put where an id or a filter belongs (merchant, endpoint, event, payment)', async () => {
  const canary = newCanary();
  const gw = await startGateway();
  try {
    const headers = { authorization: `Bearer ${gw.app.admin.token}` };
    const paths = [
      `/admin/api/ledger/balances?merchantId=${canary.pan}`,
      `/admin/api/ledger/discrepancies?merchantId=${canary.pan}`,
      `/admin/api/ledger/postings?from=2026-01-01&to=2026-01-02&merchantId=${canary.pan}`,
      `/admin/api/webhooks/endpoints/${canary.pan}`,
      `/admin/api/webhooks/events/${canary.pan}`,
      `/admin/api/ledger/payments/${canary.pan}`,
    ];
    for (const path of paths) {
      const res = await fetch(`${gw.url}${path}`, { headers });
      assertNoCardData(canary, `GET ${path.replace(canary.pan, 'PAN')} (${res.status})`, await res.text());
    }
  } finally { await gw.close(); }
});
