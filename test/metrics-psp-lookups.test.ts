/**
 * switchyard_psp_call_duration_seconds observes every call to a PSP, the reconciler's lookup of a
 * lost answer included, so a PSP whose status API is slow or failing shows to the SwitchyardSlowPsp alert.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { pay, startGateway } from './support/harness.ts';
import { authorizeBody, call, configureCascade, execution, instrument, poll, tokenOf, wf } from './support/executions.ts';

const pspCalls = async (url: string) => {
  const text = await (await fetch(`${url}/metrics`)).text();
  return [...text.matchAll(/^switchyard_psp_call_duration_seconds_count\{[^}]*\} (\d+)$/gm)].reduce((n, m) => n + Number(m[1]), 0);
};

test('the reconciler asking a PSP about a lost answer is a PSP call the histogram observes', async () => {
  const gw = await startGateway({ env: { SWITCHYARD_PSP_TIMEOUT_MS: '300' } });
  try {
    const token = await tokenOf(gw);
    await configureCascade(gw, { 'psp-a': { timeouts: [{ cardSuffixes: ['0000'] }] } }, ['psp-a']);
    const inst = await instrument(gw, token, '4200000000000000', 'h');
    const id = await execution(gw, token, 'h');
    assert.equal((await call(gw, 'POST', `${wf}/${id}/authorize`, { token, body: authorizeBody(inst, '10.00') })).status, 200);
    assert.equal((await poll(gw, token, id, ['created', 'authorizeRequested'])).status, 'unknown');
    const before = await pspCalls(gw.url);
    await new Promise((r) => setTimeout(r, 800));
    assert.equal(await gw.app.payments.reconcile(), 1, 'the reconciler asked the PSP and settled the attempt');
    assert.equal((await call(gw, 'GET', `${wf}/${id}`, { token })).body.status, 'authorized');
    assert.equal(await pspCalls(gw.url) - before, 1, 'the lookup is counted in switchyard_psp_call_duration_seconds');
  } finally {
    await gw.close();
  }
});

test('a PSP without a status API is not asked, so the reconciler\'s pass counts no failed PSP call', async () => {
  const { startAdyenFake, adyenFakeCredentials } = await import('./support/fake-psps/adyen.ts');
  const { suiteCards } = await import('./support/fake-psps/bank.ts');
  const adyen = await startAdyenFake();
  const gw = await startGateway({ env: { SWITCHYARD_PSP_TIMEOUT_MS: '300' } });
  try {
    const token = await tokenOf(gw);
    await configureCascade(gw, { adyen: { connector: 'adyen', settings: { baseUrl: adyen.url, ...adyenFakeCredentials } } }, ['adyen']);
    const inst = await instrument(gw, token, suiteCards.silent, 'h');
    const id = await execution(gw, token, 'h');
    assert.equal((await call(gw, 'POST', `${wf}/${id}/authorize`, { token, body: authorizeBody(inst, '10.00') })).status, 200);
    assert.equal((await poll(gw, token, id, ['created', 'authorizeRequested'])).status, 'unknown');
    const errors = async () => /switchyard_psp_call_duration_seconds_count\{[^}]*outcome="error"[^}]*\} (\d+)/.exec(await (await fetch(`${gw.url}/metrics`)).text())?.[1] ?? '0';
    const before = await errors();
    await new Promise((r) => setTimeout(r, 800));
    await gw.app.payments.reconcile();
    assert.equal(await errors(), before, 'Adyen, which has no status API, was counted as a failing PSP call on every reconciler pass');
  } finally {
    await gw.close();
    adyen.close();
  }
});

test('an outcome open at the PSP for longer than the PSP timeout stays counted as waiting, however often the reconciler has asked about it', async () => {
  const gw = await startGateway({ env: { SWITCHYARD_PSP_TIMEOUT_MS: '300' } });
  try {
    const r = await pay(gw, { paymentType: 'PA', amount: '30.00', 'customParameters[forceResultCode]': '800.400.500' });
    assert.equal(r.body.result.code, '800.400.500', 'pending at the PSP');
    const waiting = async () => Number(/^switchyard_unknown_outcomes_waiting (\d+)$/m.exec(await (await fetch(`${gw.url}/metrics`)).text())?.[1]);
    await new Promise((resolve) => setTimeout(resolve, 800));
    assert.equal(await waiting(), 1);
    // The reconciler asks; the PSP says it is still pending: the operation is touched, and open since the start.
    await gw.app.payments.reconcile();
    assert.equal(await waiting(), 1, 'the reconciler\'s asking hid an outcome open for longer than the PSP timeout');
  } finally {
    await gw.close();
  }
});
