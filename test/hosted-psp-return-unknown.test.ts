/**
 * A /v1 payment that never went to a PSP's own 3-D Secure (sent without shopperResultUrl) has no
 * return to take: its PSP-return address, which anyone who knows the payment id can form, answers
 * the "unknown session" page; it answered 500 and logged a gateway failure (counted against the
 * 5xx-rate alert).
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { pay, startGateway, type Gateway } from './support/harness.ts';

let gw: Gateway;
before(async () => { gw = await startGateway(); });
after(async () => { await gw?.close(); });

test('a PSP return naming a finished /v1 payment without shopperResultUrl answers a 4xx page, not a 500', async () => {
  const p = await pay(gw);
  assert.equal(p.status, 200);
  const id = p.body.id as string;
  for (const method of ['GET', 'POST'] as const) {
    const r = await fetch(`${gw.url}/hosted/psp-return/${id}/${id}?redirectResult=abc`, {
      method, redirect: 'manual',
      ...(method === 'POST' ? { body: 'id=abc', headers: { 'content-type': 'application/x-www-form-urlencoded' } } : {}),
    });
    const body = await r.text();
    assert.match(r.headers.get('content-type') ?? '', /text\/html/);
    assert.ok(r.status < 500, `${method} answered ${r.status}: ${/<title>([^<]*)/.exec(body)?.[1]}`);
  }
  const failures = gw.logs.filter((l) => l.includes('hosted page failure'));
  assert.deepEqual(failures, [], 'a stranger\'s request is logged as a gateway failure');
});

