/**
 * HEAD on the executions dialect's read routes (an uptime probe, a client checking an execution
 * exists) answers as GET does, without the body: Fastify answers HEAD with the GET route's handler,
 * and the dialect took it for a write needing an idempotency key (400 `request.header.missing`).
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { startGateway, type Gateway } from './support/harness.ts';
import { execution, tokenOf, wf } from './support/executions.ts';

let gw: Gateway;
before(async () => { gw = await startGateway(); });
after(async () => { await gw?.close(); });

test('HEAD on an execution and on the list answers as GET does, needing no idempotency key', async () => {
  const token = await tokenOf(gw);
  const id = await execution(gw, token);
  for (const path of [wf, `${wf}/${id}`]) {
    const get = await fetch(gw.url + path, { headers: { authorization: `Bearer ${token}` } });
    await get.arrayBuffer();
    assert.equal(get.status, 200, `GET ${path}`);
    const head = await fetch(gw.url + path, { method: 'HEAD', headers: { authorization: `Bearer ${token}` } });
    assert.equal(head.status, get.status, `HEAD ${path} answers as GET does (it is no write)`);
    assert.equal(head.headers.get('content-type'), get.headers.get('content-type'));
  }
});
