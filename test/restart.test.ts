import { test } from 'node:test';
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { opp, tempDir, testCard } from './support/harness.ts';
import { demoCredentials, startGatewayProcess } from './support/process.ts';

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
