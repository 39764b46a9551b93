/**
 * PSP-run 3-D Secure at an OPP acquirer: the shopper passed the challenge (the acquirer authorized) and
 * came back; the gateway is killed while its status call on that return is at the acquirer. Nothing
 * of the return was recorded, so the payment still awaits its shopper after the restart; when it
 * would expire, the acquirer is asked first, and the authorization stands: approved, never expired
 * and then reversed as a late approval.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { tempDir, opp, type Gateway } from './support/harness.ts';
import { onDatabase, urlWithSchema } from './support/stores.ts';
import { demoCredentials, startGatewayProcess, type GatewayProcess } from './support/process.ts';
import { configureCascade } from './support/executions.ts';
import { challengedPa, passAcquirerChallenge, startOppFake, oppFakeCredentials } from './support/fake-psps/opp.ts';
import { pspProxy } from './support/psp-proxy.ts';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

for (const store of ['sqlite', 'postgres'] as const) test(`${store}: /v1 PA, PSP 3-D Secure: killed while the status call of the shopper\'s return is at the acquirer, the payment the acquirer approved is approved when its page expires, not expired and reversed`, async () => {
  const dataDir = tempDir();
  const fake = await startOppFake();
  let held = false;
  const proxy = await pspProxy(fake.url, (c) => (c.method === 'GET' && /^\/v1\/payments\//.test(c.url) && !held ? (held = true, { delayMs: 2500 }) : {}));
  // The shopper's page lives 6 s here (30 min by default); the expiry job runs every second.
  const env: Record<string, string> = { SWITCHYARD_DATA_DIR: dataDir, SWITCHYARD_PSP_TIMEOUT_MS: '1000', SWITCHYARD_JOB_LEASE_MS: '500', SWITCHYARD_JOB_POLL_MS: '100', SWITCHYARD_ASYNC_TIMEOUT_MS: '6000', SWITCHYARD_BANK_RECEIPT_DELAY_MS: '1000' };
  const schema = `sy_crash_${randomBytes(6).toString('hex')}`;
  if (store === 'postgres') {
    await onDatabase((c) => c.query(`CREATE SCHEMA "${schema}"`));
    env.DATABASE_URL = urlWithSchema(schema);
  }
  let proc: GatewayProcess | undefined;
  try {
    proc = await startGatewayProcess(env);
    const merchantId = /merchantId\s+([0-9a-f]{32})/.exec(proc.output())![1]!;
    let gw = { url: proc.url, merchant: { ...demoCredentials(dataDir), merchantId }, dataDir } as unknown as Gateway;
    await configureCascade(gw, { acq: { connector: 'opp', settings: { baseUrl: proxy.url, ...oppFakeCredentials } } }, ['acq']);
    const r = await opp(gw, 'POST', '/v1/payments', challengedPa('50.00'));
    assert.equal(r.body.result.code, '000.200.000', JSON.stringify(r.body));
    const { transaction: t, returnUrl: back } = await passAcquirerChallenge(fake);
    const returning = fetch(back, { redirect: 'manual' }).catch(() => undefined);
    for (let i = 0; i < 300 && !held; i++) await sleep(10);
    assert.ok(held, 'the status call is at the acquirer');
    await proc.stop('SIGKILL');
    await returning;
    assert.equal(t.payment!.status, 'authorized', 'the acquirer authorized');

    proc = await startGatewayProcess(env);
    gw = { ...gw, url: proc.url } as Gateway;
    // Past the page's lifetime, with the expiry job's passes after it.
    // (Asked once: the status call is throttled per payment, as the platform's is.)
    await sleep(9_000);
    const st = await opp(gw, 'GET', `/v1/payments/${r.body.id}`);
    await proc.stop('SIGTERM');
    assert.equal(st.body.result.code, '000.100.110', `the acquirer approved; the gateway says ${JSON.stringify(st.body.result)} once the shopper's page expired`);
    assert.equal(t.payment!.status, 'authorized', 'the acquirer\'s authorization was not reversed');
  } finally {
    await proc?.stop('SIGKILL');
    await proxy.close(); await fake.close();
    rmSync(dataDir, { recursive: true, force: true });
    if (store === 'postgres') await onDatabase((c) => c.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`));
  }
});
