/**
 * A PSP slower than the gateway's patience: the call times out (unknown), and the reconciler asks
 * the PSP while it is still working on the request. "Processing" must not be taken for "never
 * received": the cascade would move on and a second PSP charge the card the first one then charges
 * too. The attempt waits, and settles with the first PSP's own answer.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { startGateway } from './support/harness.ts';
import { authorizeBody, call, configureCascade, execution, instrument, poll, tokenOf, wf } from './support/executions.ts';

test('a PSP still processing a request is not taken for one that never received it (no second charge)', async () => {
  const gw = await startGateway({ env: { SWITCHYARD_PSP_TIMEOUT_MS: '300' } });
  try {
    await configureCascade(gw, { 'psp-slow': { latencyMs: 1500 }, 'psp-b': {} }, ['psp-slow', 'psp-b']);
    const token = await tokenOf(gw);
    const inst = await instrument(gw, token);
    const id = await execution(gw, token);
    await call(gw, 'POST', `${wf}/${id}/authorize`, { token, body: authorizeBody(inst) });
    const e = await poll(gw, token, id, ['created', 'authorizeRequested']);
    assert.equal(e.status, 'unknown');
    await sleep(700); // past twice the PSP timeout, psp-slow still processing
    await gw.app.payments.reconcile();
    await gw.app.payments.idle();
    await sleep(1200); // psp-slow finishes
    await gw.app.payments.reconcile();
    await gw.app.payments.idle();
    assert.equal((await call(gw, 'GET', `${wf}/${id}`, { token })).body.status, 'authorized', 'settled by the slow PSP\'s own answer');
    const after = (await call(gw, 'GET', `${wf}/${id}`, { token })).body;
    const attempts = after.paymentComposition[0].attempts;
    const approvedAtPsp = [];
    for (const a of attempts) {
      const r = await gw.app.simulator.lookup(a.id);
      if (r?.kind === 'approved') approvedAtPsp.push(a.pspAccount);
    }
    assert.deepEqual(approvedAtPsp, ['psp-slow'], `one charge, at the PSP asked first; attempts ${JSON.stringify(attempts.map((a: any) => [a.pspAccount, a.status]))}`);
    assert.deepEqual(attempts.map((a: any) => [a.pspAccount, a.status]), [['psp-slow', 'succeeded']], 'the cascade never moved on');
  } finally {
    await gw.close();
  }
});
