/** A create's replay is the first answer byte for byte: status, headers and body, for a 201 and for a refusal. */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { startGateway, type Gateway } from './support/harness.ts';
import { tokenOf, wf } from './support/executions.ts';

async function raw(gw: Gateway, path: string, token: string, key: string, body: unknown) {
  const r = await fetch(gw.url + path, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', 'x-idempotency-key': key }, body: JSON.stringify(body) });
  const h = Object.fromEntries([...r.headers].filter(([k]) => !['date', 'x-request-id', 'keep-alive', 'connection'].includes(k)));
  return { status: r.status, headers: h, text: await r.text() };
}

describe('replays byte for byte', () => {
  let gw: Gateway; let token: string;
  before(async () => { gw = await startGateway(); token = await tokenOf(gw); });
  after(() => gw.close());
  const cases: [string, string, (gw: Gateway) => unknown][] = [
    ['execution 201', wf, (g) => ({ merchantReference: `r-${randomUUID().slice(0, 6)}`, workspaceId: g.merchant.workspaceId, meta: { a: 1 } })],
    ['instrument 201', '/payment/instruments', () => ({ holderReference: 'h', paymentMethod: 'card', data: { cardNumber: '4111111111111111', expiryMonth: '03', expiryYear: '30', securityCode: '737', holderName: 'J D' } })],
    ['instrument 4xx (expired)', '/payment/instruments', () => ({ holderReference: 'h', paymentMethod: 'card', data: { cardNumber: '4111111111111111', expiryMonth: '03', expiryYear: '20', securityCode: '737' } })],
    ['execution 4xx (initialActions)', wf, (g) => ({ workspaceId: g.merchant.workspaceId, meta: {}, initialActions: [] })],
  ];
  for (const [name, path, body] of cases) {
    test(name, async () => {
      const key = randomUUID(); const b = body(gw);
      const first = await raw(gw, path, token, key, b);
      const second = await raw(gw, path, token, key, b);
      const { 'idempotent-replayed': replayed, ...secondHeaders } = second.headers;
      assert.equal(replayed, 'true', JSON.stringify(second));
      assert.deepEqual({ status: second.status, headers: secondHeaders, text: second.text }, first);
    });
  }
});
