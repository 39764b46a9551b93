/** Every answer of the executions dialect links where GET of the same execution links: the list, the create answer, behind a proxy too (SWITCHYARD_PUBLIC_URL). */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startGateway, type Gateway } from './support/harness.ts';
import { authorizeBody, call, execution, instrument, poll, tokenOf, wf } from './support/executions.ts';

describe('list vs GET with a public URL', () => {
  let gw: Gateway; let token: string;
  before(async () => { gw = await startGateway({ env: { SWITCHYARD_PUBLIC_URL: 'https://pay.example.com' } }); token = await tokenOf(gw); });
  after(() => gw.close());

  test('a list item equals GET of the same execution (links included)', async () => {
    const inst = await instrument(gw, token, '4242424242424242', 'h-pub');
    const id = await execution(gw, token, 'h-pub', 'pub-1');
    await call(gw, 'POST', `${wf}/${id}/authorize`, { token, body: authorizeBody(inst) });
    assert.equal((await poll(gw, token, id, ['created', 'authorizeRequested'])).status, 'authorized');
    const one = await call(gw, 'GET', `${wf}/${id}`, { token });
    const list = await call(gw, 'GET', `${wf}?filter[merchantReference]=pub-1`, { token });
    assert.equal(list.body.results.length, 1);
    assert.deepEqual(list.body.results[0].links, one.body.links);
  });

  test('the create answer links where GET links', async () => {
    const created = await call(gw, 'POST', wf, { token, body: { merchantReference: 'pub-2', holderReference: 'h-pub', workspaceId: gw.merchant.workspaceId } });
    assert.equal(created.status, 201);
    const one = await call(gw, 'GET', `${wf}/${created.body.id}`, { token });
    assert.deepEqual(created.body.links, one.body.links);
  });
});
