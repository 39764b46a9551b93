/**
 * An action request's own `meta` (authorize, capture, refund, cancel) is the action's: each webhook
 * of that action carries it as `details.actionMeta`, apart from the execution's `meta` (reference
 * §3.4), so a backend that tagged a capture (its shipment, its operator) reads the tag back.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { startGateway, type Gateway } from './support/harness.ts';
import { authorizeBody, call, execution, instrument, poll, tokenOf, wf } from './support/executions.ts';

let gw: Gateway;
before(async () => { gw = await startGateway(); });
after(() => gw.close());

interface Event { event: string; details: { action?: string; actionMeta?: unknown } }
const eventsOf = async (id: string) => (await gw.app.storage.db.selectFrom('outbox').select('payload').where('subject_id', '=', id).orderBy('created_at').execute())
  .map((r) => JSON.parse(r.payload) as Event);

test('each action\'s webhooks carry the meta its request sent, and only its own', async () => {
  const token = await tokenOf(gw);
  const id = await execution(gw, token);
  const inst = await instrument(gw, token);
  const authorizeMeta = { risk: { sessionId: 'rs-1' }, clientContext: { osType: 'web' } };
  const ack = await call(gw, 'POST', `${wf}/${id}/authorize`, { token, body: { ...authorizeBody(inst, '50.00'), meta: authorizeMeta } });
  assert.equal(ack.status, 200, JSON.stringify(ack.body));
  await poll(gw, token, id, ['created', 'authorizeRequested']);
  const captureMeta = { shipment: 'SH-1', lines: [1, 2] };
  assert.equal((await call(gw, 'POST', `${wf}/${id}/capture`, { token, body: { amount: { value: '30.00', currency: 'EUR' }, final: false, meta: captureMeta } })).status, 202);
  await gw.app.payments.idle();
  assert.equal((await call(gw, 'POST', `${wf}/${id}/refund`, { token, body: { amount: { value: '10.00', currency: 'EUR' } } })).status, 202);
  await gw.app.payments.idle();

  const events = await eventsOf(id);
  const of = (action: string) => events.filter((e) => e.details.action === action);
  assert.ok(of('authorize').length > 0 && of('capture').length > 0 && of('refund').length > 0, events.map((e) => `${e.event}/${e.details.action}`).join(', '));
  for (const e of of('authorize')) assert.deepEqual(e.details.actionMeta, authorizeMeta, e.event);
  for (const e of of('capture')) assert.deepEqual(e.details.actionMeta, captureMeta, e.event);
  for (const e of of('refund')) assert.equal(e.details.actionMeta, undefined, 'a request without meta has none');
});

test('an action\'s meta that is not an object, or too large, is refused naming it, and nothing is asked', async () => {
  const token = await tokenOf(gw);
  const id = await execution(gw, token);
  const inst = await instrument(gw, token);
  for (const meta of ['text', [1], { big: 'x'.repeat(17 * 1024) }]) {
    const r = await call(gw, 'POST', `${wf}/${id}/authorize`, { token, body: { ...authorizeBody(inst, '50.00'), meta } });
    assert.equal(r.status, 400, JSON.stringify(r.body));
    assert.match(r.body.errors[0].detail, /^meta/, JSON.stringify(r.body));
  }
  assert.equal((await call(gw, 'GET', `${wf}/${id}`, { token })).body.status, 'created');
});
