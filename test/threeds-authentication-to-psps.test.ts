/**
 * A cascade holding a simulated account runs the engine's own 3-D Secure first, and every real
 * PSP it tries is sent that result instead of authenticating again. A recording PSP (declining, so
 * the cascade moves on) shows what it was sent after the shopper passed the engine's challenge.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { startGateway, opp, type Gateway } from './support/harness.ts';
import { configureCascade } from './support/executions.ts';
import { adyenFakeCredentials } from './support/fake-psps/adyen.ts';

async function recorder() {
  const seen: { path: string; body: string }[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      seen.push({ path: req.url ?? '', body });
      const json = (status: number, j: unknown) => res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(j));
      if (req.url === '/v1/payments') {
        const f = new URLSearchParams(body);
        return json(200, { id: '8ac7a4a1000000000000000000000001', paymentType: f.get('paymentType'), amount: f.get('amount'), currency: f.get('currency'), merchantTransactionId: f.get('merchantTransactionId'), result: { code: '800.100.152', description: 'transaction declined by authorization system' } });
      }
      if (req.url === '/payments') return json(200, { pspReference: 'ADY0000000000001', resultCode: 'Refused', refusalReason: 'Refused', refusalReasonCode: '2', merchantReference: JSON.parse(body).reference });
      res.writeHead(404).end();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return { url, seen, close: () => new Promise<void>((r) => { server.closeAllConnections(); server.close(() => r()); }) };
}

let psp: Awaited<ReturnType<typeof recorder>>;
let gw: Gateway;
before(async () => { psp = await recorder(); gw = await startGateway(); });
after(async () => { await gw?.close(); await psp?.close(); });

/** A challenge card through /v1 with the cascade [psp, sim]; the shopper passes the engine's challenge. */
async function challengedThenAuthorized(): Promise<string> {
  const r = await opp(gw, 'POST', '/v1/payments', {
    amount: '40.00', currency: 'EUR', paymentType: 'PA', paymentBrand: 'VISA', 'card.number': '4200000000000042',
    'card.holder': 'Jane Jones', 'card.expiryMonth': '05', 'card.expiryYear': '2034', 'card.cvv': '123', shopperResultUrl: 'https://shop.example/back',
  });
  assert.equal(r.body.result.code, '000.200.000', JSON.stringify(r.body));
  const done = await fetch(`${r.body.redirect.url}/result`, { method: 'POST', redirect: 'manual', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'outcome=completed' });
  assert.equal(done.status, 303);
  const d = (await gw.app.payments.details(r.body.id))!;
  assert.equal(d.operations[0]!.details['3ds.transactionStatus'], 'Y');
  assert.equal(d.operations[0]!.details['3ds.acsEci'], '05');
  return r.body.id;
}

test('an OPP-family acquirer is sent the 3-D Secure result of the engine\'s challenge (threeDSecure.eci ...), not a bare card', async () => {
  await configureCascade(gw, { acq: { connector: 'opp', settings: { baseUrl: psp.url, accessToken: 'OGE4fakeOppBearerToken0123', entityId: '8a8294174b7ecb28014b9699220015ca' } }, sim: {} }, ['acq', 'sim'], ['soft', 'error']);
  psp.seen.length = 0;
  await challengedThenAuthorized();
  const sent = psp.seen.find((s) => s.path === '/v1/payments');
  assert.ok(sent, 'the acquirer was never asked');
  const form = new URLSearchParams(sent.body);
  const threeDs = [...form.keys()].filter((k) => k.startsWith('threeDSecure.'));
  assert.equal(form.get('threeDSecure.eci'), '05',
    `the acquirer got the card without the authentication the shopper just passed (threeDSecure fields sent: ${JSON.stringify(threeDs)}); it may challenge again or charge without liability shift`);
});

test('Adyen mpiData of a challenged (3-D Secure 2) authentication: directoryResponse C (the ARes asked for a challenge) and threeDSVersion', async () => {
  await configureCascade(gw, { ady: { connector: 'adyen', settings: { baseUrl: psp.url, ...adyenFakeCredentials } }, sim: {} }, ['ady', 'sim'], ['soft', 'error']);
  psp.seen.length = 0;
  await challengedThenAuthorized();
  const sent = psp.seen.find((s) => s.path === '/payments');
  assert.ok(sent, 'Adyen was never asked');
  const mpi = JSON.parse(sent.body).mpiData;
  // CheckoutService-v71 ThreeDSecureData: directoryResponse "In 3D Secure 2, this is the transStatus from the ARes"
  // (C for a challenge), authenticationResponse the challenge result's transStatus, threeDSVersion the protocol's version.
  assert.deepEqual({ directoryResponse: mpi.directoryResponse, authenticationResponse: mpi.authenticationResponse, eci: mpi.eci, threeDSVersion: mpi.threeDSVersion },
    { directoryResponse: 'C', authenticationResponse: 'Y', eci: '05', threeDSVersion: '2.2.0' }, JSON.stringify(mpi));
});

test('Adyen mpiData of a frictionless authentication: directoryResponse the ARes\'s Y, no authenticationResponse (Adyen: omitted when frictionless)', async () => {
  await configureCascade(gw, { ady: { connector: 'adyen', settings: { baseUrl: psp.url, ...adyenFakeCredentials } }, sim: {} }, ['ady', 'sim'], ['soft', 'error']);
  psp.seen.length = 0;
  const r = await opp(gw, 'POST', '/v1/payments', {
    amount: '40.00', currency: 'EUR', paymentType: 'PA', paymentBrand: 'VISA', 'card.number': '4200000000000091',
    'card.holder': 'Jane Jones', 'card.expiryMonth': '05', 'card.expiryYear': '2034', 'card.cvv': '123', shopperResultUrl: 'https://shop.example/back',
  });
  assert.equal(r.body.result.code, '000.100.110', JSON.stringify(r.body));
  const mpi = JSON.parse(psp.seen.find((s) => s.path === '/payments')!.body).mpiData;
  assert.deepEqual(mpi, { directoryResponse: 'Y', eci: '05', threeDSVersion: '2.2.0' });
});
