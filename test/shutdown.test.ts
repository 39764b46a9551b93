/**
 * SIGTERM under load: a payment waiting on a slow PSP is answered and recorded once, a held long-poll
 * answers at once, and the process exits promptly (a keep-alive connection busy when the close began
 * does not hold the exit for its keep-alive timeout).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { opp, tempDir, testCard } from './support/harness.ts';
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
