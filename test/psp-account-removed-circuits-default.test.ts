/**
 * The sweep of removed PSP accounts' circuits keeps the gateway's own acquirer's: its circuit is
 * keyed `default`, no row of the accounts, and an open one would have been closed by every sweep.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { pay, startGateway } from './support/harness.ts';
import type { Connector } from '../src/processors/connector.ts';

test('the sweep of removed accounts\' circuits keeps the default acquirer\'s open circuit', async () => {
  const failing: Connector = {
    name: 'real-default', runsThreeDs: false, dedupesByKey: true, statusApi: true, operations: ['authorize', 'sale', 'capture', 'void', 'refund'],
    async execute() { throw new Error('PSP down'); },
    async lookup() { return undefined; },
  } as unknown as Connector;
  const gw = await startGateway({ processor: failing, env: { SWITCHYARD_BREAKER_FAILURES: '1', SWITCHYARD_BREAKER_OPEN_MS: '600000' } });
  try {
    await pay(gw);
    assert.equal(gw.app.breakers.view('default').state, 'open', 'the failing default acquirer\'s circuit opened');
    await gw.app.sweepCircuits();
    assert.equal(gw.app.breakers.view('default').state, 'open', 'the sweep closed the default acquirer\'s open circuit');
  } finally { await gw.close(); }
});
