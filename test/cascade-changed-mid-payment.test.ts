/**
 * A cascade changed by an operator while a payment's first attempt is open (its answer lost): the
 * cascade's next step must not send the card again to the account that just declined it, nor skip
 * the account the operator put first.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { manualClock } from '../src/runtime/clock.ts';
import { opp, pay, startGateway } from './support/harness.ts';
import { configureCascade } from './support/executions.ts';
import { adminHeaders } from './support/process.ts';

test('cascade reordered while the first attempt is unknown: after its decline the next step goes to an account not yet tried, not back to the one that declined', async () => {
  const clock = manualClock(Date.now());
  const gw = await startGateway({ clock, env: { SWITCHYARD_PSP_TIMEOUT_MS: '200' } });
  try {
    // acq-a declines this card softly, and its answer is lost (processed, never answered).
    const lossy = { connector: 'simulator', settings: { declines: [{ category: 'soft', cardSuffixes: ['0000'] }], timeouts: [{ cardSuffixes: ['0000'] }] }, timeoutMs: 100 };
    await configureCascade(gw, { 'acq-a': lossy, 'acq-b': { connector: 'simulator', settings: {} } }, ['acq-a', 'acq-b'], ['soft', 'error']);
    const p = await pay(gw, { paymentType: 'PA', amount: '10.00' });
    assert.equal(p.body.result.code, '900.100.300', JSON.stringify(p.body));

    // The operator puts acq-b first (acq-a stays as the fallback).
    const r = await fetch(`${gw.url}/admin/merchants/${gw.merchant.merchantId}/workflows/payment-acceptance`, {
      method: 'PATCH', headers: adminHeaders(gw.dataDir, gw.app.config.adminToken), body: JSON.stringify({ accounts: ['acq-b', 'acq-a'] }),
    });
    assert.equal(r.status, 200);

    // The reconciler learns acq-a declined it: the cascade moves on.
    clock.advance(60_000);
    await gw.app.payments.reconcile();
    await gw.app.payments.idle();

    const attempts = await gw.app.storage.db.selectFrom('attempts').select(['seq', 'account_name', 'status']).where('transaction_id', '=', p.body.id).orderBy('seq').execute();
    const names = attempts.map((a) => a.account_name);
    assert.deepEqual(names.filter((n) => n === 'acq-a').length, 1, `acq-a was sent the same card again after declining it: ${JSON.stringify(attempts)}`);
    assert.ok(names.includes('acq-b'), `acq-b (first in the cascade now) was never tried: ${JSON.stringify(attempts)}`);
    const q = await opp(gw, 'GET', `/v1/query/${p.body.id}`);
    assert.equal(q.body.result.code, '000.100.110', JSON.stringify(q.body.result));
  } finally { await gw.close(); }
});
