/**
 * Webhooks for developers: `webhooks test` for both dialects, a refused loopback URL that names the
 * setting that opens it, and `webhooks forward`, which sends a merchant's events to a local URL
 * while it runs and prints each one.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { rmSync } from 'node:fs';
import { verifySignature } from '../examples/webhooks/executions-receiver.ts';
import { opp, startGateway, tempDir, testCard, type Gateway } from './support/harness.ts';
import { demoCredentials, runCli, startGatewayProcess } from './support/process.ts';
import { loopbackAllow } from './support/webhooks.ts';

let gw: Gateway;
let closed: Gateway;
let receiver: Server;
const received: { headers: IncomingHttpHeaders; body: string }[] = [];
const receiverUrl = () => `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook`;

before(async () => {
  gw = await startGateway({ env: { SWITCHYARD_WEBHOOK_ALLOW: loopbackAllow } });
  closed = await startGateway();
  receiver = createServer((req, res) => {
    let body = '';
    req.on('data', (c) => { body += c; }).on('end', () => { received.push({ headers: req.headers, body }); res.end('OK'); });
  });
  await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r));
});
after(async () => { await gw?.close(); await closed?.close(); receiver?.close(); });

test('webhooks test: an executions endpoint gets a signed webhookTest event; a /v1 listener its activation message', async () => {
  for (const dialect of ['executions', 'opp'] as const) {
    const added = await gw.app.webhooks.addEndpoint({ merchantId: gw.merchant.merchantId, dialect, url: receiverUrl() });
    assert.ok(added.ok);
    await gw.app.webhooks.runOnce();
    received.length = 0;
    const sent = await gw.app.webhooks.sendTest(added.value.endpointId);
    assert.ok(sent.ok, JSON.stringify(sent));
    await gw.app.webhooks.runOnce();
    assert.equal(received.length, 1, dialect);
    const [r] = received;
    if (dialect === 'executions') {
      assert.ok(verifySignature(added.value.secret, r!.body, r!.headers), 'signed like every event');
      const event = JSON.parse(r!.body);
      assert.equal(event.event, 'webhookTest');
      assert.equal(event.workspaceId, gw.merchant.workspaceId);
      assert.equal(event.details.endpointId, added.value.endpointId);
      assert.equal(r!.headers['webhook-id'], sent.value.eventId);
    } else {
      assert.equal(r!.headers['x-notification-id'], sent.value.eventId);
    }
    await gw.app.webhooks.setStatus(added.value.endpointId, 'disabled');
  }
});

test('a refused loopback URL names SWITCHYARD_WEBHOOK_ALLOW, in the API and the CLI', async () => {
  const r = await closed.app.webhooks.addEndpoint({ merchantId: closed.merchant.merchantId, dialect: 'executions', url: 'http://127.0.0.1:4000/' });
  assert.ok(!r.ok);
  assert.equal(r.error.code, 'refused_address');
  assert.match(r.error.message, /127\.0\.0\.1 is a loopback address; to allow it, open its range with SWITCHYARD_WEBHOOK_ALLOW \(e\.g\. SWITCHYARD_WEBHOOK_ALLOW=127\.0\.0\.0\/8,::1\/128/);
  const cli = runCli(closed.dataDir, 'webhooks', 'add', '--merchant', closed.merchant.merchantId, '--dialect', 'opp', '--url', 'http://localhost:4000/');
  assert.equal(cli.status, 1);
  assert.match(cli.stderr, /refused_address: refused: localhost resolves to a refused address .*SWITCHYARD_WEBHOOK_ALLOW/);
});

test('webhooks forward: the running gateway sends the merchant\'s new events to a local URL, each printed; Ctrl-C disables the endpoint', async () => {
  const dataDir = tempDir();
  const env = { SWITCHYARD_DATA_DIR: dataDir, SWITCHYARD_WEBHOOK_ALLOW: loopbackAllow, SWITCHYARD_WEBHOOK_POLL_MS: '100', SWITCHYARD_DEMO_PORT: '0' };
  const proc = await startGatewayProcess(env);
  try {
    const demo = demoCredentials(dataDir, proc.output());
    received.length = 0;
    const cli = spawn(process.execPath, ['src/cli/main.ts', 'webhooks', 'forward', '--merchant', demo.merchantId, '--dialect', 'opp', '--forward-to', receiverUrl()], {
      env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    cli.stdout.on('data', (d) => { out += String(d); });
    cli.stderr.on('data', (d) => { out += String(d); });
    const exited = new Promise<number | null>((r) => cli.once('exit', (code) => r(code)));
    const until = async (what: string, ok: () => boolean) => {
      for (let i = 0; i < 150 && !ok(); i++) await new Promise((r) => setTimeout(r, 100));
      assert.ok(ok(), `${what}; the command printed:\n${out}`);
    };
    await until('ready', () => out.includes('Ready: forwarding to'));
    const endpointId = /endpoint ([0-9a-f]{32})/.exec(out)![1]!;
    const pa = await opp({ url: proc.url, merchant: demo }, 'POST', '/v1/payments', { amount: '5.00', currency: 'EUR', paymentType: 'PA', ...testCard });
    assert.equal(pa.body.result.code, '000.100.110');
    await until('the payment\'s notification forwarded and printed', () => /PAYMENT\s+[0-9a-f]{32}\s+--> 200/.test(out));
    assert.ok(received.some((r) => r.headers['x-notification-id'] && r.headers['x-initialization-vector']), 'the receiver got the encrypted notification');
    cli.kill('SIGINT');
    assert.equal(await exited, 0, out);
    assert.match(out, new RegExp(`Stopped: endpoint ${endpointId} disabled`));
    const list = runCli(dataDir, 'webhooks', 'list', '--json');
    assert.equal(JSON.parse(list.stdout).find((e: { endpointId: string }) => e.endpointId === endpointId).status, 'disabled');
  } finally {
    await proc.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
});
