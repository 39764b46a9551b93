/**
 * A JSON body nested some 1,700–2,400 levels deep (well inside the 64 KiB body limit) parsed, then
 * overflowed the stack of the card-data screen's recursive walk: the merchant got `500 internal`
 * and the gateway logged an error for a request that is simply malformed. Every depth beyond the
 * dialect's bound is `400 request.malformed` now, and nothing is created.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { startGateway, type Gateway } from './support/harness.ts';
import { tokenOf, wf } from './support/executions.ts';

let gw: Gateway;
before(async () => { gw = await startGateway(); });
after(async () => { await gw?.close(); });

test('an over-deep JSON body is a 4xx request.* error, never 500 internal', async () => {
  const token = await tokenOf(gw);
  const answers: string[] = [];
  for (let depth = 2600; depth >= 1500; depth -= 50) {
    const body = `{"merchantReference":"deep-${depth}","holderReference":"h","meta":{"x":${'['.repeat(depth)}${']'.repeat(depth)}}}`;
    const r = await fetch(`${gw.url}${wf}`, {
      method: 'POST', body,
      headers: { 'content-type': 'application/json', 'x-idempotency-key': randomUUID(), authorization: `Bearer ${token}` },
    });
    const json = await r.json() as { errors?: { code: string }[] };
    answers.push(`${depth}: ${r.status} ${json.errors?.[0]?.code ?? 'created'}`);
  }
  const internal = answers.filter((a) => / 500 /.test(a));
  assert.deepEqual(internal, [], `answers by nesting depth:\n${answers.join('\n')}`);
  assert.deepEqual(answers.filter((a) => !/: 400 request\.malformed$/.test(a)), [], 'every over-deep body is request.malformed');
  const shallow = `{"merchantReference":"deep-ok","holderReference":"h","meta":{"x":${'['.repeat(60)}${']'.repeat(60)}}}`;
  const ok = await fetch(`${gw.url}${wf}`, { method: 'POST', body: shallow, headers: { 'content-type': 'application/json', 'x-idempotency-key': randomUUID(), authorization: `Bearer ${token}` } });
  assert.equal(ok.status, 201, 'a body within the bound is taken');
  assert.equal(gw.logs.filter((l) => /Maximum call stack size exceeded/.test(l)).length, 0, 'a stack overflow was logged as a gateway failure');
});
