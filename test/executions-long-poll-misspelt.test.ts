/**
 * The long-poll is `waitWhile[status]`. One asked under another name (`waitWhile=…`, the PHP-style
 * `waitWhile[status][]=…`, `wait_while[status]`) is refused naming it: it was ignored and answered at
 * once, and its client, believing it had waited, polled again without a pause. Other parameters a
 * client adds (a cache buster) are still ignored.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { startGateway, type Gateway } from './support/harness.ts';
import { call, execution, tokenOf, wf } from './support/executions.ts';

let gw: Gateway;
before(async () => { gw = await startGateway({ env: { SWITCHYARD_LONG_POLL_MS: '1000' } }); });
after(async () => { await gw?.close(); });

test('a long-poll under another name is refused naming it; waitWhile[status] and other parameters are taken', async () => {
  const token = await tokenOf(gw);
  const id = await execution(gw, token);
  for (const q of ['waitWhile=%5B%22created%22%5D', 'waitWhile%5Bstatus%5D%5B%5D=created', 'wait_while%5Bstatus%5D=created', 'WaitWhile%5Bstatus%5D=created']) {
    const r = await call(gw, 'GET', `${wf}/${id}?${q}`, { token });
    assert.equal(r.status, 400, `${q}: ${r.status} ${JSON.stringify(r.body)}`);
    assert.equal(r.body.errors[0].code, 'request.param.invalid');
    assert.match(r.body.errors[0].detail, /^wait_?while/i, r.body.errors[0].detail);
  }
  const started = Date.now();
  const waited = await call(gw, 'GET', `${wf}/${id}?waitWhile%5Bstatus%5D=created&_=123`, { token });
  assert.equal(waited.status, 200);
  assert.ok(Date.now() - started >= 900, 'waitWhile[status] still holds the request');
});
