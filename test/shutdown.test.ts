/**
 * SIGTERM under load: a payment waiting on a slow PSP is answered and recorded once, a held long-poll
 * answers at once, and the process exits promptly (a keep-alive connection busy when the close began
 * does not hold the exit for its keep-alive timeout).
 */
import { test } from 'node:test';
import { spawn } from 'node:child_process';
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { opp, startGateway, tempDir, testCard } from './support/harness.ts';
import { demoCredentials, startGatewayProcess } from './support/process.ts';
import { call, execution, tokenOf, wf } from './support/executions.ts';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

test('SIGTERM while a /v1 payment waits on a slow PSP: the payment is answered, the process exits, and the restart knows it', async () => {
  const dataDir = tempDir();
  try {
    let proc = await startGatewayProcess({ SWITCHYARD_DATA_DIR: dataDir, SWITCHYARD_SIM_LATENCY_MS: '3000' });
    const merchant = demoCredentials(dataDir);
    let gw = { url: proc.url, merchant };
    const inFlight = opp(gw, 'POST', '/v1/payments', { ...testCard, amount: '12.00', currency: 'EUR', paymentType: 'DB', merchantTransactionId: 'sigterm-1' });
    await sleep(500);
    const t0 = Date.now();
    const stopped = proc.stop('SIGTERM');
    const r = await inFlight;
    await stopped;
    const exitMs = Date.now() - t0;
    assert.equal(r.status, 200, JSON.stringify(r.body));
    assert.equal(r.body.result.code, '000.100.110');
    assert.equal(proc.child.exitCode, 0);
    assert.ok(exitMs < 10_000, `exited in ${exitMs} ms`);
    proc = await startGatewayProcess({ SWITCHYARD_DATA_DIR: dataDir });
    try {
      gw = { url: proc.url, merchant };
      const q = await opp(gw, 'GET', '/v1/query', { merchantTransactionId: 'sigterm-1' });
      assert.deepEqual(q.body.payments.map((p: any) => p.id), [r.body.id]);
    } finally { await proc.stop('SIGTERM'); }
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
});

test('SIGTERM while a waitWhile long-poll is held: the long-poll is answered and the process exits promptly, not after the full hold', async () => {
  const dataDir = tempDir();
  try {
    const proc = await startGatewayProcess({ SWITCHYARD_DATA_DIR: dataDir, SWITCHYARD_LONG_POLL_MS: '25000' });
    const merchant = demoCredentials(dataDir);
    const gw = { url: proc.url, merchant };
    const token = await tokenOf(gw);
    const id = await execution(gw, token, 'lp-holder');
    const held = call(gw, 'GET', `${wf}/${id}?waitWhile[status]=${encodeURIComponent(JSON.stringify(['created']))}`, { token });
    await sleep(500);
    const t0 = Date.now();
    const stopped = proc.stop('SIGTERM');
    const r = await held;
    const answeredMs = Date.now() - t0;
    await stopped;
    const exitMs = Date.now() - t0;
    assert.equal(r.status, 200);
    assert.ok(answeredMs < 5_000, `the held long-poll was answered ${answeredMs} ms after SIGTERM`);
    assert.ok(exitMs < 5_000, `the process exited ${exitMs} ms after SIGTERM`);
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
});

// One Ctrl-C on `npm start`: the terminal sends SIGINT to the whole foreground process group, and npm
// passes its own on, so the gateway sees the signal twice (systemd's stop of a unit's group does the
// same with SIGTERM). Where sh is bash, npm's shell execs node in its place and node gets both; the
// second, a moment after the first, must not be taken as the operator's "stop now".
for (const signal of ['SIGINT', 'SIGTERM'] as const) test(`one ${signal} to npm start's process group (Ctrl-C; systemd's stop of the unit's cgroup) while a payment waits on a slow PSP: the payment is answered`, async () => {
  const dataDir = tempDir();
  const child = spawn('npm', ['start', '--silent', '--script-shell=bash'], {
    cwd: new URL('..', import.meta.url).pathname, detached: true, stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, PATH: `${process.execPath.replace(/\/node$/, '')}:${process.env.PATH}`, PORT: '0', LOG_LEVEL: 'info', SWITCHYARD_DATA_DIR: dataDir, SWITCHYARD_SIM_LATENCY_MS: '3000' },
  });
  let out = '';
  child.stdout!.on('data', (d) => { out += String(d); });
  child.stderr!.on('data', (d) => { out += String(d); });
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  try {
    for (let i = 0; i < 600 && !/Switchyard listening on (http:\/\/[^\s"]+)/.test(out); i++) await sleep(100);
    const url = /Switchyard listening on (http:\/\/[^\s"]+)/.exec(out)![1]!;
    const gw = { url, merchant: demoCredentials(dataDir) };
    const inFlight = opp(gw, 'POST', '/v1/payments', { ...testCard, amount: '12.00', currency: 'EUR', paymentType: 'DB', merchantTransactionId: `ctrl-c-${signal}` })
      .catch((err: unknown) => ({ status: 0, body: String(err) }));
    await sleep(500);
    process.kill(-child.pid!, signal); // what the terminal does on Ctrl-C (SIGINT), systemd's KillMode=control-group (SIGTERM)
    const r = await inFlight;
    await exited;
    assert.ok(!/stopping now, without waiting/.test(out), `one Ctrl-C was taken as two signals:\n${out.split('\n').filter((l) => /shutting down|stopping now/.test(l)).join('\n')}`);
    assert.equal(r.status, 200, `the payment under way was cut: ${JSON.stringify(r.body)}`);
  } finally {
    try { process.kill(-child.pid!, 'SIGKILL'); } catch { /* gone */ }
    rmSync(dataDir, { recursive: true, force: true });
  }
});

test('the longest accepted PSP timeout: a payment under way at shutdown is still answered (the hard close waits no longer than a timer can)', async () => {
  const gw = await startGateway({ env: { SWITCHYARD_PSP_TIMEOUT_MS: String(2 ** 31 - 1), SWITCHYARD_SIM_LATENCY_MS: '1500' } });
  const creds = { url: gw.url, merchant: gw.merchant };
  const inFlight = opp(creds, 'POST', '/v1/payments', { ...testCard, amount: '12.00', currency: 'EUR', paymentType: 'DB' })
    .catch((err: unknown) => ({ status: 0, body: String(err) }));
  await new Promise((r) => setTimeout(r, 300));
  const closed = gw.close();
  const r = await inFlight;
  await closed;
  assert.equal(r.status, 200, `the payment under way was cut at shutdown: ${JSON.stringify(r.body)}`);
});
