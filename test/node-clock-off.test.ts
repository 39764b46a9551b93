/**
 * Nodes on one PostgreSQL database judge the times other nodes stamped with their own clocks: the
 * reconciler ends an attempt stamped more than twice the PSP timeout ago as lost, a webhook
 * delivery's lease ends at its stamped time, the status limit counts the hits of the last minute.
 * A node whose clock is off (NTP failed; a VM restored) writes nothing until it agrees again: it
 * answers 503 so the client goes to another node, and says it is not ready. Its payments were
 * found lost by a node with the right clock while their PSP call was under way (the card charged
 * for a payment answered failed), its deliveries' leases taken and sent twice, its status calls
 * counted outside the window.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createSimulatedAcquirer } from '../src/processors/simulator/connector.ts';
import type { Connector, ConnectorRequest } from '../src/processors/connector.ts';
import { ClockDisagreesError } from '../src/storage/clock-gate.ts';
import type { App } from '../src/app.ts';
import { opp, pay, postgresAvailable, secondNode, startGateway, type Gateway } from './support/harness.ts';

const pgUp = await postgresAvailable();
let offsetMs = -60_000;
const calls: ConnectorRequest[] = [];
const sim = createSimulatedAcquirer({ latencyMs: 0, jitterMs: 0, timeoutRate: 0, errorRate: 0 });
const counted: Connector = { ...sim, execute: (req) => { calls.push(req); return sim.execute(req); } };

let a: Gateway;
let b: { app: App; url: string; merchant: Gateway['merchant'] };
before(async () => {
  if (!pgUp) return;
  a = await startGateway({ store: 'postgres' });
  // Node B's clock runs a minute behind, for what it stamps and as compared with the database's.
  b = await secondNode(a, { clock: { now: () => Date.now() + offsetMs }, wallClock: () => Date.now() + offsetMs, processor: counted });
  await b.app.clockGate.check();
});
after(async () => { await b?.app.close(); await a?.close(); });

test('a node whose clock is off writes nothing and says it is not ready; the node with the right clock serves', { skip: pgUp ? false : 'PostgreSQL unreachable' }, async () => {
  const ready = await fetch(`${b.url}/ready`);
  assert.equal(ready.status, 503);
  assert.equal(((await ready.json()) as { checks: Record<string, string> }).checks.clock, 'failing');
  assert.equal((await fetch(`${a.url}/ready`)).status, 200);

  const refused = await opp(b, 'POST', '/v1/payments', { paymentType: 'DB', amount: '25.00', currency: 'EUR', paymentBrand: 'VISA',
    'card.number': '4200000000000000', 'card.holder': 'Jane Jones', 'card.expiryMonth': '05', 'card.expiryYear': '2034', 'card.cvv': '123' });
  assert.equal(refused.status, 503, JSON.stringify(refused.body));
  assert.equal(refused.body.result.code, '900.100.100');
  assert.equal(calls.length, 0, 'nothing reached its PSP');

  const paid = await pay(a, { paymentType: 'DB', amount: '25.00' });
  assert.equal(paid.body.result.code, '000.100.110', JSON.stringify(paid.body));
  // Its status: counted on the node with the right clock only.
  const codes: string[] = [];
  for (const node of [a, b, a, b, a]) codes.push(`${(await opp(node, 'GET', `/v1/payments/${paid.body.id}`)).status}`);
  assert.deepEqual(codes, ['200', '503', '200', '503', '429']);
  // Nor does it claim webhook deliveries.
  await assert.rejects(b.app.webhooks.runOnce(), ClockDisagreesError);
});

test('set right, the node writes again', { skip: pgUp ? false : 'PostgreSQL unreachable' }, async () => {
  offsetMs = 0;
  await b.app.clockGate.check();
  assert.equal((await fetch(`${b.url}/ready`)).status, 200);
  const paid = await pay(b, { paymentType: 'DB', amount: '26.00' });
  assert.equal(paid.body.result.code, '000.100.110', JSON.stringify(paid.body));
  assert.equal(calls.length, 1);
});

test('a node off by more than it may write under, less than a quarter of a job lease, claims no job and logs no failure on every poll', { skip: pgUp ? false : 'PostgreSQL unreachable' }, async () => {
  const c = await secondNode(a, { clock: { now: () => Date.now() + 6_000 }, wallClock: () => Date.now() + 6_000 });
  try {
    await c.app.clockGate.check();
    assert.ok(c.app.clockGate.refusal(), '6 s off: it writes nothing');
    const from = a.logs.length;
    const runs = await c.app.jobs.runDue();
    assert.deepEqual(runs, [], 'nor claims a job');
    assert.equal(a.logs.slice(from).filter((l) => l.includes('job runner pass failed')).length, 0);
  } finally {
    await c.app.close();
  }
});
