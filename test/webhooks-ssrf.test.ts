/**
 * Refused address classes, tried as endpoints: refused at registration, and refused again at
 * connect time (after DNS resolution) when an endpoint slipped through, with no connection made.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import net, { type AddressInfo } from 'node:net';
import { createServer } from 'node:http';
import { manualClock } from '../src/runtime/clock.ts';
import { createAddressPolicy } from '../src/webhooks/address.ts';
import { createSender } from '../src/webhooks/sender.ts';
import { pay, startGateway, type Gateway } from './support/harness.ts';
import { admin, closeServer, loopbackAllow } from './support/webhooks.ts';

/** Classes that would leave this machine: a connect() towards them is recorded and stopped before any packet. */
const remoteClasses = [
  '10.0.0.1', '172.16.0.1', '192.168.1.1', '100.64.0.1', '169.254.169.254', '100.100.100.200', '224.0.0.1',
  '198.18.0.1', '192.0.2.1', '[fe80::1]', '[fd00:ec2::254]', '[fc00::1]', '[64:ff9b::a9fe:a9fe]', '[2002:a00:1::]', '[::ffff:169.254.169.254]',
  '[::ffff:10.0.0.1]', '[::10.0.0.1]', '[ff02::1]', '[2001:db8::1]', '[100::1]',
];
/** Classes that reach this machine: a listening server counts any connection that arrives. */
const localClasses = ['127.0.0.1', '127.8.9.10', '0.0.0.0', '[::1]', '[::]', '[::ffff:127.0.0.1]', '[::ffff:7f00:1]', '[::127.0.0.1]', '[::ffff:0:127.0.0.1]', 'localhost'];

const attempted: unknown[] = [];
const originalConnect = net.Socket.prototype.connect;
let accepted = 0;
const trap = createServer(() => {});
let port = 0;

before(async () => {
  // A fuse under the sender: any connect() to a non-loopback address is recorded and refused.
  net.Socket.prototype.connect = function (this: net.Socket, ...args: unknown[]) {
    // http calls connect() with node's normalized [options, callback] array.
    const first = Array.isArray(args[0]) ? args[0][0] : args[0];
    const opts = (typeof first === 'object' && first !== null ? first : { host: args[1] }) as { host?: string };
    const host = String(opts.host ?? '');
    if (host && host !== 'localhost' && net.isIP(host) && !/^(127\.|::1$|::ffff:127\.)/.test(host)) {
      attempted.push(host);
      throw new Error(`test fuse: connect to ${host}`);
    }
    return (originalConnect as (...a: unknown[]) => net.Socket).apply(this, args);
  } as typeof net.Socket.prototype.connect;
  // Dual-stack on every local address: 127.x, 0.0.0.0, ::1 and mapped forms all land here.
  trap.on('connection', () => { accepted++; });
  await new Promise<void>((r) => trap.listen(0, '::', r));
  port = (trap.address() as AddressInfo).port;
});
after(async () => {
  net.Socket.prototype.connect = originalConnect;
  await closeServer(trap);
});

test('the trap server does count connections (so a zero below means something)', async () => {
  const before = accepted;
  const sender = createSender(createAddressPolicy(loopbackAllow));
  const r = await sender({ url: `http://127.0.0.1:${port}/`, headers: {}, body: 'x', timeoutMs: 300 });
  assert.equal(r.error, 'timeout after 300 ms');
  assert.equal(accepted, before + 1);
});

test('the sender refuses every class at connect time: no connection made, the reason logged', async () => {
  const sender = createSender(createAddressPolicy(undefined));
  const before = accepted;
  for (const host of [...localClasses, ...remoteClasses]) {
    const r = await sender({ url: `http://${host}:${port}/hook`, headers: {}, body: '{}', timeoutMs: 2000 });
    assert.equal(r.status, undefined, host);
    assert.match(r.error ?? '', /^refused: /, `${host}: ${r.error}`);
  }
  assert.equal(accepted, before, 'no connection reached this machine');
  assert.deepEqual(attempted, [], 'no connection towards another machine was even tried');
});

test('registration refuses each class; an endpoint registered while allowed is refused at connect time once the policy closes', async () => {
  const clock = manualClock();
  const strictSender = createSender(createAddressPolicy(undefined));
  // Registration under the operator's allow list (loopback), delivery through a closed policy:
  // the check after DNS resolution at connect time is what stops it.
  const gw: Gateway = await startGateway({ clock, sender: strictSender, env: { SWITCHYARD_WEBHOOK_ALLOW: loopbackAllow } });
  const strict: Gateway = await startGateway({ clock });
  try {
    for (const host of [...localClasses, ...remoteClasses]) {
      const r = await admin(strict, 'POST', '/webhooks/endpoints', { merchantId: strict.merchant.merchantId, dialect: 'executions', url: `http://${host}:${port}/` });
      assert.equal(r.status, 400, host);
      assert.equal(r.body.error.code, 'refused_address', `${host}: ${JSON.stringify(r.body)}`);
    }
    assert.deepEqual((await admin(strict, 'GET', '/webhooks/endpoints')).body.endpoints, []);

    const before = accepted;
    const added = await admin(gw, 'POST', '/webhooks/endpoints', { merchantId: gw.merchant.merchantId, dialect: 'opp', url: `http://localhost:${port}/` });
    assert.equal(added.status, 201);
    await pay(gw, {});
    await gw.app.webhooks.runOnce();
    const log = (await admin(gw, 'GET', `/webhooks/deliveries?endpointId=${added.body.endpointId}`)).body.deliveries;
    assert.equal(log.length, 2);
    for (const d of log) {
      assert.equal(d.status, 'pending');
      assert.match(d.lastError, /refused: localhost resolves to a refused address/);
    }
    assert.equal(accepted, before, 'no connection made');
    assert.deepEqual(attempted, []);
  } finally {
    await gw.close();
    await strict.close();
  }
});

test('redirects are not followed and only a small part of a large answer is read', async () => {
  let redirected = 0;
  const target = createServer((req, res) => {
    if (req.url === '/moved') { res.writeHead(307, { location: '/final' }).end(); return; }
    if (req.url === '/final') { redirected++; res.writeHead(200).end(); return; }
    res.writeHead(200, { 'content-type': 'text/plain' });
    res.write('x'.repeat(64 * 1024));
    // Never ends: the sender must stop reading on its own.
  });
  await new Promise<void>((r) => target.listen(0, '127.0.0.1', r));
  const p = (target.address() as AddressInfo).port;
  try {
    const sender = createSender(createAddressPolicy(loopbackAllow), { excerptLimit: 1024 });
    const moved = await sender({ url: `http://127.0.0.1:${p}/moved`, headers: {}, body: '{}', timeoutMs: 2000 });
    assert.equal(moved.status, 307);
    assert.equal(redirected, 0);
    const big = await sender({ url: `http://127.0.0.1:${p}/big`, headers: {}, body: '{}', timeoutMs: 5000 });
    assert.equal(big.status, 200);
    assert.equal(big.excerpt!.length, 1024);
    assert.ok(big.latencyMs < 4000, 'did not wait for the endless body');
  } finally {
    await closeServer(target);
  }
});
