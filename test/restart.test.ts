import { test } from 'node:test';
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { opp, tempDir, testCard } from './support/harness.ts';
import { demoCredentials, startGatewayProcess } from './support/process.ts';
import { authorizeBody, call, execution, instrument, poll, tokenOf, wf } from './support/executions.ts';

test('a restarted gateway keeps every record, even after SIGKILL, and does not recreate the demo merchant', async () => {
  const dataDir = tempDir();
  try {
    let proc = await startGatewayProcess({ SWITCHYARD_DATA_DIR: dataDir });
    assert.match(proc.output(), /Created the test-mode demo merchant/);
    const merchant = demoCredentials(dataDir);
    let gw = { url: proc.url, merchant };
    const pa = await opp(gw, 'POST', '/v1/payments', { ...testCard, amount: '50.00', currency: 'EUR', paymentType: 'PA', merchantTransactionId: 'restart-1' });
    assert.equal(pa.body.result.code, '000.100.110');
    const cp = await opp(gw, 'POST', `/v1/payments/${pa.body.id}`, { paymentType: 'CP', amount: '20.00', currency: 'EUR' });
    assert.equal(cp.body.result.code, '000.100.110');
    // Acknowledged means committed: a kill -9 right after the answer loses nothing.
    await proc.stop('SIGKILL');

    proc = await startGatewayProcess({ SWITCHYARD_DATA_DIR: dataDir });
    assert.doesNotMatch(proc.output(), /Created the test-mode demo merchant/);
    gw = { url: proc.url, merchant };
    const q = await opp(gw, 'GET', '/v1/query', { merchantTransactionId: 'restart-1' });
    assert.equal(q.status, 200);
    assert.deepEqual(q.body.payments.map((p: any) => [p.id, p.paymentType, p.amount]), [[pa.body.id, 'PA', '50.00']]);
    const st = await opp(gw, 'GET', `/v1/payments/${cp.body.id}`);
    assert.equal(st.body.paymentType, 'CP');
    assert.equal(st.body.referencedId, pa.body.id);
    // The amounts survived too: only the remaining 30.00 can still be captured.
    assert.equal((await opp(gw, 'POST', `/v1/payments/${pa.body.id}`, { paymentType: 'CP', amount: '30.01', currency: 'EUR' })).body.result.code, '700.400.100');
    assert.equal((await opp(gw, 'POST', `/v1/payments/${pa.body.id}`, { paymentType: 'CP', amount: '30.00', currency: 'EUR' })).body.result.code, '000.100.110');
    await proc.stop('SIGTERM');
    assert.equal(proc.child.exitCode, 0, 'a SIGTERM shuts down cleanly');
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
});

test('on the embedded store the CVV lives in memory only: after a restart the instrument says securityCodeHeld false, and the authorization goes ahead without it, the log saying why', async () => {
  const dataDir = tempDir();
  try {
    let proc = await startGatewayProcess({ SWITCHYARD_DATA_DIR: dataDir });
    const merchant = demoCredentials(dataDir);
    let gw = { url: proc.url, merchant };
    let token = '';
    let kept = '';
    try {
      token = await tokenOf(gw);
      kept = await instrument(gw, token, '4111111111111111', 'restart-holder');
      const used = await instrument(gw, token, '5555555555554444', 'restart-holder');
      assert.equal((await call(gw, 'GET', `/payment/instruments/${kept}`, { token })).body.securityCodeHeld, true);
      // Before the restart the code is there for the first authorization, and no line says otherwise.
      const before = await execution(gw, token, 'restart-holder');
      assert.equal((await call(gw, 'POST', `${wf}/${before}/authorize`, { token, body: authorizeBody(used) })).status, 200);
      assert.equal((await poll(gw, token, before, ['created', 'authorizeRequested'])).status, 'authorized');
      assert.doesNotMatch(proc.output(), /no security code held/);
    } finally {
      await proc.stop('SIGTERM');
    }

    proc = await startGatewayProcess({ SWITCHYARD_DATA_DIR: dataDir });
    try {
      gw = { url: proc.url, merchant };
      token = await tokenOf(gw);
      const shown = await call(gw, 'GET', `/payment/instruments/${kept}`, { token });
      assert.equal(shown.status, 200);
      assert.equal(shown.body.securityCodeHeld, false, 'the restarted gateway says the code is gone');
      assert.equal(shown.body.data.suffix, '1111', 'the card itself survived');
      const after = await execution(gw, token, 'restart-holder');
      assert.equal((await call(gw, 'POST', `${wf}/${after}/authorize`, { token, body: authorizeBody(kept) })).status, 200);
      assert.equal((await poll(gw, token, after, ['created', 'authorizeRequested'])).status, 'authorized');
      const line = proc.output().split('\n').find((l) => l.includes('no security code held'));
      assert.ok(line, 'a log line says the authorization went ahead without the code');
      const logged = JSON.parse(line);
      assert.equal(logged.instrumentId, kept);
      assert.equal(logged.executionId, after);
      assert.match(logged.msg, /restarted.*authorizing without it/);
    } finally {
      await proc.stop('SIGTERM');
    }
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
});
