import { test } from 'node:test';
import assert from 'node:assert/strict';
import { endpointWants, nextAttemptAt, routeOf, shouldDisable } from './model.ts';
import { createAddressPolicy } from './address.ts';

const minute = 60_000;
const day = 86_400_000;

test('the /v1 ladder: 1, 2, 4, 8, 15, 30 min, 1 h, then daily, never beyond 30 days', () => {
  const start = 0;
  let at = start;
  const waits: number[] = [];
  for (let i = 0; ; i++) {
    const next = nextAttemptAt('opp', i, start, at);
    if (next === undefined) break;
    waits.push(next - at);
    at = next;
  }
  assert.deepEqual(waits.slice(0, 8).map((w) => w / minute), [1, 2, 4, 8, 15, 30, 60, 1440]);
  assert.ok(at <= 30 * day && at > 29 * day, `last try at ${at / day} days`);
});

test('the executions ladder spans more than three days and ends', () => {
  let at = 0;
  let tries = 1;
  for (let i = 0; ; i++) {
    const next = nextAttemptAt('executions', i, 0, at);
    if (next === undefined) break;
    at = next;
    tries++;
  }
  assert.ok(at > 3 * day, `last try after ${at / day} days`);
  assert.equal(tries, 14);
});

test('routing follows the outbox type convention', () => {
  assert.deepEqual(routeOf('operation.succeeded', { entityId: 'e1' }), { dialect: 'opp', entityId: 'e1', notificationType: 'PAYMENT' });
  assert.equal(routeOf('operation.succeeded', {}), undefined, 'no entity, no /v1 listener');
  assert.deepEqual(routeOf('registration.deleted', { entityId: 'e1' }), { dialect: 'opp', entityId: 'e1', notificationType: 'REGISTRATION' });
  assert.deepEqual(routeOf('execution.executionActionCompleted', {}), { dialect: 'executions', entityId: undefined, notificationType: 'executionActionCompleted' });
  assert.equal(routeOf('execution.somethingElse', {}), undefined);
  assert.equal(routeOf('ledger.posted', {}), undefined);
});

test('an endpoint gets its own dialect, entity and chosen types, and only events made after it was added', () => {
  const listener = { dialect: 'opp' as const, entityId: 'e1', types: ['PAYMENT'], status: 'active' as const, createdAt: 100 };
  const payment = routeOf('operation.succeeded', { entityId: 'e1' })!;
  assert.equal(endpointWants(listener, payment, 100), true);
  assert.equal(endpointWants(listener, payment, 99), false);
  assert.equal(endpointWants(listener, routeOf('operation.succeeded', { entityId: 'e2' })!, 200), false);
  assert.equal(endpointWants(listener, routeOf('registration.created', { entityId: 'e1' })!, 200), false);
  assert.equal(endpointWants({ ...listener, types: [] }, routeOf('registration.created', { entityId: 'e1' })!, 200), true);
  assert.equal(endpointWants({ ...listener, dialect: 'executions' }, payment, 200), false);
});

test('an endpoint is disabled only after failing without a success for the configured time', () => {
  assert.equal(shouldDisable(undefined, 10 * day, day), false);
  assert.equal(shouldDisable(0, day - 1, day), false);
  assert.equal(shouldDisable(0, day, day), true);
});

test('address policy refuses every non-public class, in IPv4, IPv6 and IPv4-mapped forms, unless allowed', () => {
  const strict = createAddressPolicy(undefined);
  const refused = [
    '127.0.0.1', '127.1.2.3', '0.0.0.0', '10.0.0.1', '172.16.5.4', '192.168.1.1', '100.64.0.1', '169.254.169.254',
    '224.0.0.1', '255.255.255.255', '192.0.2.1', '198.18.0.1', '::1', '::', 'fe80::1', 'fc00::1', 'fd00:ec2::254',
    '::ffff:127.0.0.1', '::ffff:7f00:1', '::7f00:1', '::a00:1', '::ffff:0:7f00:1', '100::1', '3fff::1', '::ffff:169.254.169.254', '::ffff:10.0.0.1', '64:ff9b::7f00:1', '2002:7f00:1::', 'ff02::1', '2001:db8::1',
  ];
  for (const a of refused) assert.ok(strict.refusal(a), `${a} must be refused`);
  for (const a of ['8.8.8.8', '93.184.216.34', '2606:4700::1111']) assert.equal(strict.refusal(a), undefined, a);
  assert.ok(strict.refusal('not-an-ip'));
  const loop = createAddressPolicy('127.0.0.0/8, ::1/128');
  assert.equal(loop.refusal('127.0.0.1'), undefined);
  assert.equal(loop.refusal('::ffff:127.0.0.1'), undefined, 'the mapped form of an allowed address is the address');
  assert.equal(loop.refusal('::1'), undefined);
  assert.ok(loop.refusal('10.0.0.1'));
  assert.ok(loop.refusal('169.254.169.254'));
  assert.throws(() => createAddressPolicy('127.0.0.0/8,bogus'), /SWITCHYARD_WEBHOOK_ALLOW/);
});
