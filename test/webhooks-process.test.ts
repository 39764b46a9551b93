/**
 * Webhooks across real processes: the gateway killed (SIGKILL) while deliveries are in flight, and
 * the README's receiver examples run as a new user runs them against `npm start`'s demo merchant.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { createReceiver } from '../examples/webhooks/opp-receiver.ts';
import { openStorage } from '../src/storage/database.ts';
import { addOutboxEvent } from '../src/webhooks/outbox.ts';
import { opp, tempDir, testCard } from './support/harness.ts';
import { demoCredentials, startGatewayProcess } from './support/process.ts';
import { closeServer, freePort, listen, loopbackAllow } from './support/webhooks.ts';

const cli = (dataDir: string, ...args: string[]) => spawnSync(process.execPath, ['src/cli/main.ts', ...args], {
  env: { ...process.env, SWITCHYARD_DATA_DIR: dataDir, SWITCHYARD_WEBHOOK_ALLOW: loopbackAllow }, encoding: 'utf8',
});
const demoValue = (dataDir: string, name: string) => new RegExp(`^export ${name}=(.*)$`, 'm').exec(readFileSync(join(dataDir, 'demo-merchant.env'), 'utf8'))![1]!;

async function until(what: string, check: () => boolean | Promise<boolean>, timeoutMs = 30_000) {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(50);
  }
}

function addEndpoint(dataDir: string, merchantId: string, dialect: string, url: string): { endpointId: string; secret: string } {
  const r = cli(dataDir, 'webhooks', 'add', '--merchant', merchantId, '--dialect', dialect, '--url', url, '--json');
  assert.equal(r.status, 0, r.stderr);
  const out = JSON.parse(r.stdout);
  assert.deepEqual(Object.keys(out).sort(), ['endpointId', 'secret']);
  return out;
}

test('SIGKILL while deliveries are in flight: after restart every event is delivered at least once, none lost', async () => {
  const dataDir = tempDir();
  const env = { SWITCHYARD_DATA_DIR: dataDir, SWITCHYARD_WEBHOOK_ALLOW: loopbackAllow, SWITCHYARD_WEBHOOK_TIMEOUT_MS: '4000', SWITCHYARD_WEBHOOK_POLL_MS: '50' };
  let proc = await startGatewayProcess(env);
  const port = await freePort();
  const seen = new Map<string, number>();
  let inFlight = 0;
  let slow = true;
  const { endpointId, secret } = addEndpoint(dataDir, demoValue(dataDir, 'MERCHANT_ID'), 'opp', `http://127.0.0.1:${port}/`);
  const receiver = createReceiver(secret, async (n) => {
    inFlight++;
    try {
      if (slow) await sleep(800);
      if (n.type === 'PAYMENT') seen.set(n.payload.id, (seen.get(n.payload.id) ?? 0) + 1);
    } finally {
      inFlight--;
    }
  });
  await listen(receiver, port);
  try {
    const merchant = demoCredentials(dataDir);
    const paid: string[] = [];
    const payOnce = async (url: string) => {
      const r = await opp({ url, merchant }, 'POST', '/v1/payments', { ...testCard, amount: '10.00', currency: 'EUR', paymentType: 'DB' });
      assert.equal(r.body.result.code, '000.100.110');
      paid.push(r.body.id);
    };
    for (let i = 0; i < 20; i++) await payOnce(proc.url);
    await until('deliveries in flight', () => inFlight >= 3);
    await proc.stop('SIGKILL');
    slow = false;

    proc = await startGatewayProcess(env);
    for (let i = 0; i < 5; i++) await payOnce(proc.url);
    await until('every payment notified', () => paid.every((id) => seen.has(id)));
    // The log agrees: every delivery ended delivered (those cut off by the kill were sent again).
    let log: any[] = [];
    await until('the log shows everything delivered', () => {
      log = JSON.parse(cli(dataDir, 'webhooks', 'log', '--endpoint', endpointId, '--limit', '100', '--json').stdout);
      // The activation message may have gone out before the receiver listened (it is queued by
      // `webhooks add`); it is then waiting for its retry, scheduled, not lost.
      const activation = log.filter((d: any) => d.eventType === 'test');
      const payments = log.filter((d: any) => d.eventType !== 'test');
      return payments.length === paid.length && payments.every((d: any) => d.status === 'delivered')
        && activation.length === 1 && (activation[0].status === 'delivered' || (activation[0].status === 'pending' && activation[0].nextAttemptAt));
    }).catch((err) => { throw new Error(`${err.message}: ${JSON.stringify(log.filter((d) => d.status !== 'delivered'))} of ${log.length}`); });
    await proc.stop('SIGTERM');
    assert.equal(proc.child.exitCode, 0);
  } finally {
    await proc.stop('SIGKILL');
    await closeServer(receiver);
    rmSync(dataDir, { recursive: true, force: true });
  }
});

function startExample(file: string, env: Record<string, string>): { child: ChildProcess; output: () => string } {
  const child = spawn(process.execPath, [file], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout!.on('data', (d) => { out += String(d); });
  child.stderr!.on('data', (d) => { out += String(d); });
  return { child, output: () => out };
}

test('the README receivers, run as a new user would against the demo merchant, print verified events', async () => {
  const dataDir = tempDir();
  const proc = await startGatewayProcess({ SWITCHYARD_DATA_DIR: dataDir, SWITCHYARD_WEBHOOK_ALLOW: loopbackAllow, SWITCHYARD_WEBHOOK_POLL_MS: '100' });
  const examples: ChildProcess[] = [];
  try {
    const merchantId = demoValue(dataDir, 'MERCHANT_ID');
    const [oppPort, exPort] = [await freePort(), await freePort()];
    const oppEndpoint = addEndpoint(dataDir, merchantId, 'opp', `http://127.0.0.1:${oppPort}/`);
    const exEndpoint = addEndpoint(dataDir, merchantId, 'executions', `http://127.0.0.1:${exPort}/`);
    const oppReceiver = startExample('examples/webhooks/opp-receiver.ts', { WEBHOOK_KEY: oppEndpoint.secret, PORT: String(oppPort) });
    const exReceiver = startExample('examples/webhooks/executions-receiver.ts', { WEBHOOK_SECRET: exEndpoint.secret, PORT: String(exPort) });
    examples.push(oppReceiver.child, exReceiver.child);
    await until('receivers listening', () => /receiving/.test(oppReceiver.output()) && /receiving/.test(exReceiver.output()), 10_000);

    // The activation message went out before the receiver had its key: "Click to Test" sends it again.
    assert.equal(cli(dataDir, 'webhooks', 'test', '--endpoint', oppEndpoint.endpointId).status, 0);
    await until('the activation message', () => /verified test notification [0-9a-f]{32}: webhook activation/.test(oppReceiver.output()));
    const merchant = demoCredentials(dataDir);
    const r = await opp({ url: proc.url, merchant }, 'POST', '/v1/payments', { ...testCard, amount: '92.00', currency: 'EUR', paymentType: 'PA' });
    await until('the /v1 receiver prints the payment', () => oppReceiver.output().includes(`verified PAYMENT notification`) && oppReceiver.output().includes(r.body.id));
    assert.match(oppReceiver.output(), new RegExp(`verified PAYMENT notification [0-9a-f]{32}: PA ${r.body.id} 000\\.100\\.110`));

    // An executions event, written through the shared outbox writer as the executions dialect does.
    const storage = await openStorage({ kind: 'sqlite', dataDir });
    const executionId = randomBytes(16).toString('hex');
    try {
      await addOutboxEvent(storage.db, {
        id: randomBytes(16).toString('hex'), merchantId, type: 'execution.executionActionCompleted', subjectId: executionId, createdAt: Date.now(),
        payload: { event: 'executionActionCompleted', time: new Date().toISOString(), workspaceId: merchant.workspaceId, eventTrigger: 'action',
          details: { action: 'authorize', actionId: randomBytes(16).toString('hex'), success: true, execution: { id: executionId, merchantReference: 'order_1' } } },
      });
    } finally {
      await storage.close();
    }
    await until('the executions receiver prints the event', () => exReceiver.output().includes(executionId));
    assert.match(exReceiver.output(), new RegExp(`verified executionActionCompleted [0-9a-f]{32}: authorize ${executionId} true`));
  } finally {
    for (const c of examples) c.kill();
    await proc.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
});

test('the README shows exactly the receiver code the tests run', () => {
  const readme = readFileSync('README.md', 'utf8');
  for (const file of ['examples/webhooks/opp-receiver.ts', 'examples/webhooks/executions-receiver.ts']) {
    const code = readFileSync(file, 'utf8').trimEnd();
    assert.ok(readme.includes('```ts\n' + code + '\n```'), `README.md must show ${file} verbatim`);
  }
});
