/**
 * A cascade changed by an operator while a payment's first attempt is open (its answer lost, or
 * still at its PSP): the cascade's next step must not send the card again to the account that just
 * declined it, nor skip the account the operator put first, nor go to an account the operator took
 * out of it, nor (a card sent unauthenticated for its PSPs to run 3-D Secure) to an account added
 * since that runs none. An attempt left open at an account that is gone is not taken for one never
 * received.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { manualClock } from '../src/runtime/clock.ts';
import { opp, pay, startGateway } from './support/harness.ts';
import { configureCascade } from './support/executions.ts';
import { adminHeaders } from './support/process.ts';
import { adyenFakeCredentials } from './support/fake-psps/adyen.ts';

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

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

test('an account taken out of the cascade (and removed) while the first attempt is at its PSP is not sent the card: the cascade as it is now goes on', async () => {
  const gw = await startGateway();
  try {
    const admin = adminHeaders(gw.dataDir, gw.app.config.adminToken);
    const base = `${gw.url}/admin/merchants/${gw.merchant.merchantId}`;
    // acq-a takes 1.5 s and declines this card softly; acq-b and acq-c approve.
    await configureCascade(gw, {
      'acq-a': { connector: 'simulator', settings: { latencyMs: 1500, declines: [{ category: 'soft', cardSuffixes: ['0000'] }] } },
      'acq-b': { connector: 'simulator', settings: {} },
      'acq-c': { connector: 'simulator', settings: {} },
    }, ['acq-a', 'acq-b', 'acq-c'], ['soft']);

    const paying = pay(gw, { paymentType: 'PA', amount: '10.00' });
    const atAcqA = () => gw.app.storage.db.selectFrom('attempts').select('id').where('account_name', '=', 'acq-a').executeTakeFirst();
    for (let i = 0; i < 200 && !(await atAcqA()); i++) await sleep(10);
    assert.ok(await atAcqA(), 'the first attempt went to acq-a');
    // While acq-a has it, the operator takes acq-b out of the cascade, then removes it: both accepted.
    const patched = await fetch(`${base}/workflows/payment-acceptance`, { method: 'PATCH', headers: admin, body: JSON.stringify({ accounts: ['acq-a', 'acq-c'] }) });
    assert.equal(patched.status, 200, await patched.text());
    const removed = await fetch(`${base}/psp-accounts/acq-b`, { method: 'DELETE', headers: { authorization: admin.authorization! } });
    assert.equal(removed.status, 200, 'acq-b holds nothing yet: its removal is accepted');

    const p = await paying;
    const attempts = await gw.app.storage.db.selectFrom('attempts').select(['seq', 'account_name', 'status', 'reason'])
      .where('transaction_id', '=', p.body.id).orderBy('seq').execute();
    assert.deepEqual(attempts.map((a) => a.account_name), ['acq-a', 'acq-c'], `the cascade went on as it was when the payment began: ${JSON.stringify(attempts)}`);
    assert.match(p.body.result.code, /^000\.(000|100)\./, `acq-c, next in the cascade now, approves: ${JSON.stringify(p.body.result)}`);
  } finally { await gw.close(); }
});

test('an attempt in doubt at an account removed meanwhile stays unknown: nobody can say the PSP never received it', async () => {
  const clock = manualClock(Date.now());
  const gw = await startGateway({ clock, env: { SWITCHYARD_PSP_TIMEOUT_MS: '200' } });
  try {
    // acq-b approves, but its answer is lost (processed, never answered): the PSP charged the card.
    await configureCascade(gw, {
      'acq-b': { connector: 'simulator', settings: { timeouts: [{ cardSuffixes: ['0000'] }] }, timeoutMs: 100 },
      'acq-c': { connector: 'simulator', settings: {} },
    }, ['acq-b', 'acq-c'], ['soft', 'error']);
    const p = await pay(gw, { paymentType: 'PA', amount: '10.00' });
    assert.equal(p.body.result.code, '900.100.300', JSON.stringify(p.body));
    // The account is gone as a removal racing the attempt's record leaves it (its in-use check ran
    // just before the attempt was recorded); the admin API itself refuses to remove it now.
    await gw.app.storage.db.deleteFrom('psp_accounts').where('name', '=', 'acq-b').execute();

    clock.advance(60_000);
    await gw.app.payments.reconcile();
    await gw.app.payments.idle();
    const attempts = await gw.app.storage.db.selectFrom('attempts').select(['seq', 'account_name', 'status', 'reason'])
      .where('transaction_id', '=', p.body.id).orderBy('seq').execute();
    assert.deepEqual(attempts.map((a) => [a.account_name, a.status]), [['acq-b', 'unknown']],
      `an attempt the PSP charged was taken for one never received, and the card sent on: ${JSON.stringify(attempts)}`);
    const q = await opp(gw, 'GET', `/v1/query/${p.body.id}`);
    assert.equal(q.body.result.code, '900.100.300', JSON.stringify(q.body.result));
  } finally { await gw.close(); }
});

test('a card the engine did not authenticate (its PSPs run 3-D Secure) never goes to a simulated account added to the cascade while the first PSP has it', async () => {
  // An Adyen that holds /payments until released, then refuses softly (code 2).
  let release!: () => void;
  const released = new Promise<void>((r) => { release = r; });
  let received!: () => void;
  const arrived = new Promise<void>((r) => { received = r; });
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', async () => {
      const body = chunks.length ? JSON.parse(Buffer.concat(chunks).toString('utf8')) : {};
      if (req.url === '/payments') {
        received();
        await released;
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({
          merchantReference: body.reference, pspReference: 'ADY0001', resultCode: 'Refused', refusalReason: 'Refused', refusalReasonCode: '2',
        }));
        return;
      }
      res.writeHead(404).end();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const adyenUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const gw = await startGateway();
  try {
    await configureCascade(gw, {
      adyen1: { connector: 'adyen', settings: { baseUrl: adyenUrl, ...adyenFakeCredentials } },
      sim: { connector: 'simulator', settings: {} },
    }, ['adyen1'], ['soft', 'error']);
    // 4200000000000042: the simulated issuer wants a challenge; the engine leaves it to Adyen.
    const paying = opp(gw, 'POST', '/v1/payments', {
      amount: '50.00', currency: 'EUR', paymentType: 'PA', paymentBrand: 'VISA', 'card.number': '4200000000000042',
      'card.holder': 'Jane Jones', 'card.expiryMonth': '05', 'card.expiryYear': '2034', 'card.cvv': '123', shopperResultUrl: 'https://shop.example/back',
    });
    await arrived;
    // While Adyen has it, the operator adds a simulated account to the cascade.
    const r = await fetch(`${gw.url}/admin/merchants/${gw.merchant.merchantId}/workflows/payment-acceptance`, {
      method: 'PATCH', headers: adminHeaders(gw.dataDir, gw.app.config.adminToken), body: JSON.stringify({ accounts: ['adyen1', 'sim'] }),
    });
    assert.equal(r.status, 200, await r.text());
    release();
    const p = await paying;
    const attempts = await gw.app.storage.db.selectFrom('attempts').select(['seq', 'account_name', 'status', 'authenticated'])
      .where('transaction_id', '=', p.body.id).orderBy('seq').execute();
    assert.deepEqual(attempts.map((a) => a.account_name), ['adyen1'],
      `the card went on, unauthenticated, to a PSP that runs no 3-D Secure: ${JSON.stringify(attempts)} ${JSON.stringify(p.body.result)}`);
  } finally {
    await gw.close();
    server.closeAllConnections();
    await new Promise<void>((r) => server.close(() => r()));
  }
});
