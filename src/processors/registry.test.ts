import { test } from 'node:test';
import assert from 'node:assert/strict';
import { manualClock } from '../runtime/clock.ts';
import { createBreakers } from './breaker.ts';
import type { ConnectorAccount, ConnectorFactory } from './connector.ts';
import { createConnectorRegistry, type RoutedAccount } from './registry.ts';

test('an account\'s timeout is at most the gateway\'s: one stored before the setting was lowered is cut to it', async () => {
  const created: ConnectorAccount[] = [];
  const factory: ConnectorFactory = {
    name: 'recording',
    parseSettings: (input) => ({ ok: true, value: input }),
    create(account) {
      created.push(account);
      return { name: 'recording', operations: ['authorize'], execute: async () => ({ kind: 'approved', pspReference: undefined, acquirerCode: undefined, details: {} }), lookup: async () => undefined };
    },
  };
  const accounts: Record<string, RoutedAccount> = {
    long: { id: 'long', name: 'long', connector: 'recording', settings: {}, timeoutMs: 60_000 },
    short: { id: 'short', name: 'short', connector: 'recording', settings: {}, timeoutMs: 2_000 },
    own: { id: 'own', name: 'own', connector: 'recording', settings: {}, timeoutMs: undefined },
  };
  const registry = createConnectorRegistry({
    defaultConnector: factory.create({ id: 'default', settings: {}, timeoutMs: 10_000 }),
    factories: [factory], accountOf: async (id) => accounts[id], breakers: createBreakers({ clock: manualClock() }), defaultTimeoutMs: 10_000,
  });
  created.length = 0;
  for (const id of ['long', 'short', 'own']) await registry.connectorFor(id);
  assert.deepEqual(created.map((a) => [a.id, a.timeoutMs]), [['long', 10_000], ['short', 2_000], ['own', 10_000]]);
});
