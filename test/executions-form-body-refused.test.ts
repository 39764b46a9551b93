/**
 * The executions API takes JSON. A form-encoded body (what OAuth client libraries send) is read only
 * by the token endpoint, which reads nothing of it. Elsewhere one used to be read as fields: a form
 * of string fields passed the route's schema, and a field given twice was read last-wins, so an
 * execution was created under a reference the merchant may not have meant. It is now refused in the
 * dialect's errors[], naming the body, and nothing is created. JSON labelled as a form is read as JSON,
 * as any body is whatever its label.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { startGateway, type Gateway } from './support/harness.ts';
import { call, tokenOf, wf } from './support/executions.ts';

let gw: Gateway;
let token: string;
before(async () => { gw = await startGateway(); token = await tokenOf(gw); });
after(async () => { await gw?.close(); });

const post = (body: string) => fetch(gw.url + wf, {
  method: 'POST', body,
  headers: { authorization: `Bearer ${token}`, 'content-type': 'application/x-www-form-urlencoded', 'x-idempotency-key': randomUUID() },
});

test('a form body creating an execution (a field given twice among it) is refused naming the body; nothing is created', async () => {
  for (const body of [
    `merchantReference=order-a&merchantReference=order-b&holderReference=h-form&workspaceId=${gw.merchant.workspaceId}`,
    `merchantReference=order-a&holderReference=h-form&workspaceId=${gw.merchant.workspaceId}`,
  ]) {
    const r = await post(body);
    const answer = await r.json() as { errors?: { code: string; detail: string }[] };
    assert.equal(r.status, 400, `created: ${JSON.stringify(answer)}`);
    assert.equal(answer.errors?.[0]?.code, 'request.malformed', 'as a body that is not JSON');
    assert.match(answer.errors?.[0]?.detail ?? '', /^body: .*JSON/);
  }
  const list = await call(gw, 'GET', `${wf}?filter[holderReference]=h-form`, { token });
  assert.equal(list.status, 200);
  assert.deepEqual(list.body.results, [], 'no execution was created');
});

test('JSON labelled as a form is read as JSON', async () => {
  const r = await post(JSON.stringify({ merchantReference: 'order-json', holderReference: 'h-json', workspaceId: gw.merchant.workspaceId, amount: { value: '1.00', currency: 'EUR' } }));
  assert.equal(r.status, 201, await r.text());
});
