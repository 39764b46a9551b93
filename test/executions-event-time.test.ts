/**
 * A webhook's `time` is when its change happened: an event whose change adds no history entry (a
 * partly captured authorization's rest released by its expiry) carries the time it was applied,
 * after every event before it, not the time of the execution's last history entry (a week
 * earlier, the capture's). Deliveries are unordered; a receiver keeps the event with the latest
 * `time`. And a list filtered by a history entry's code rather than a status is refused naming the
 * statuses it takes.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { manualClock } from '../src/runtime/clock.ts';
import { startGateway, type Gateway } from './support/harness.ts';
import { authorizeBody, call, execution, instrument, poll, tokenOf, wf } from './support/executions.ts';

const day = 86_400_000;

describe('the time of an execution event', () => {
  const clock = manualClock(Date.UTC(2026, 0, 5, 12));
  let gw: Gateway;
  before(async () => { gw = await startGateway({ clock, env: { SWITCHYARD_AUTHORIZATION_EXPIRY_DAYS: '7', SWITCHYARD_LONG_POLL_MS: '1000' } }); });
  after(() => gw.close());

  test('the executionActionUpdated sent when a partly captured authorization expires carries the time it happened, later than the capture\'s event', async () => {
    let token = await tokenOf(gw);
    const id = await execution(gw, token);
    const inst = await instrument(gw, token);
    assert.equal((await call(gw, 'POST', `${wf}/${id}/authorize`, { token, body: authorizeBody(inst, '50.00') })).status, 200);
    await gw.app.payments.idle();
    await poll(gw, token, id, ['created', 'authorizeRequested', 'authorizePending']);
    const part = await call(gw, 'POST', `${wf}/${id}/capture`, { token, body: { amount: { value: '20.00', currency: 'EUR' }, final: false } });
    assert.equal(part.status, 202, JSON.stringify(part.body));
    await gw.app.payments.idle();

    clock.advance(7 * day + 1000);
    const expiredAt = clock.now();
    await gw.app.jobs.runDue();
    await gw.app.payments.idle();
    token = await tokenOf(gw);
    assert.equal((await call(gw, 'GET', `${wf}/${id}`, { token })).body.status, 'captured');

    const events = (await gw.app.storage.db.selectFrom('outbox').select(['type', 'payload']).where('subject_id', '=', id).execute())
      .map((r) => JSON.parse(r.payload) as { event: string; time: string; details: { action?: string } });
    const captureDone = events.find((p) => p.event === 'executionActionCompleted' && p.details.action === 'capture');
    const updated = events.find((p) => p.event === 'executionActionUpdated');
    assert.ok(captureDone && updated, events.map((p) => p.event).join(', '));
    assert.ok(Date.parse(updated.time) > Date.parse(captureDone.time), `executionActionUpdated.time ${updated.time} is not later than the capture's ${captureDone.time}`);
    assert.ok(Date.parse(updated.time) >= expiredAt, `executionActionUpdated.time ${updated.time} is before the expiry (${new Date(expiredAt).toISOString()})`);
  });

  test('filter[lastStatus] given a history entry\'s code is refused naming the statuses it takes', async () => {
    const token = await tokenOf(gw);
    const r = await call(gw, 'GET', `${wf}?filter[lastStatus]=authorizeSuccessful`, { token });
    assert.equal(r.status, 400);
    assert.match(JSON.stringify(r.body), /authorized, .*cancelled/, JSON.stringify(r.body));
  });
});
