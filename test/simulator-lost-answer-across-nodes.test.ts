/**
 * The simulated acquirer's lost answer (the "answer never arrives" test card) is settled approved by
 * the reconciler whichever node runs it, and after a restart: the simulator keeps what it processed
 * and lost where every node reads it, as a real PSP's status API reads its own database. Its memory
 * was per process: on a cluster, the reconciler of another node asked a simulator that had never
 * seen the attempt, and settled as failed (900.100.400) a payment the test system had approved.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { opp, pay, postgresAvailable, secondNode, startGateway, type Gateway } from './support/harness.ts';
import { createApp, type App } from '../src/app.ts';

const skip = (await postgresAvailable()) ? false : 'PostgreSQL is not reachable';
let gw: Gateway;
let other: { app: App; url: string };
before(async () => {
  if (skip) return;
  gw = await startGateway({ store: 'postgres', env: { SWITCHYARD_PSP_TIMEOUT_MS: '300' } });
  other = await secondNode(gw);
});
after(async () => { await other?.app.close(); await gw?.close(); });

test('a payment whose answer one node lost is settled approved by the reconciler on another node', { skip }, async () => {
  const r = await pay(gw, { 'card.number': '4000000000003006', paymentType: 'PA' });
  assert.equal(r.body.result.code, '900.100.300', JSON.stringify(r.body.result));
  await new Promise((res) => setTimeout(res, 700));
  await other.app.payments.reconcile();
  await other.app.payments.idle();
  const read = await opp({ url: other.url, merchant: gw.merchant }, 'GET', `/v1/payments/${r.body.id}`);
  assert.equal(read.body.result.code, '000.100.110', `settled by the other node's reconciler as ${JSON.stringify(read.body.result)}`);
});

test('a node restarted after losing the answer settles it approved (the embedded store)', async () => {
  const one = await startGateway({ env: { SWITCHYARD_PSP_TIMEOUT_MS: '300' } });
  let restarted: App | undefined;
  try {
    const r = await pay(one, { 'card.number': '4000000000003006', paymentType: 'DB' });
    assert.equal(r.body.result.code, '900.100.300', JSON.stringify(r.body.result));
    await one.app.close();
    restarted = await createApp(one.app.config, { logger: one.app.logger });
    await new Promise((res) => setTimeout(res, 700));
    await restarted.payments.reconcile();
    await restarted.payments.idle();
    const p = await restarted.payments.details(r.body.id);
    assert.equal(p?.payment.status, 'captured', `after the restart: ${p?.payment.status}`);
  } finally {
    await restarted?.close();
    await one.close().catch(() => undefined);
  }
});
