/**
 * What a /v1 answer says is what the acquirer said. An OPP-family acquirer's "success, review
 * manually" code tells the merchant to hold the order for review, and comes back as such, not as a
 * plain success; a card "not yet valid" and a long pending keep their families; `risk.score` is the
 * acquirer's score, or empty, never a score nobody computed.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { opp, startGateway, testCard, type Gateway } from './support/harness.ts';
import { configureCascade } from './support/executions.ts';
import { oppFakeCredentials } from './support/fake-psps/opp.ts';
import { classifyResultCode } from '../src/processors/result-codes.ts';
import { signIn } from './support/dashboard.ts';
import { runCli } from './support/process.ts';

let answerCode = '000.400.090';
let answerRisk: string | undefined;
let n = 0;
const server = createServer((req, res) => {
  const chunks: Buffer[] = [];
  req.on('data', (c: Buffer) => chunks.push(c));
  req.on('end', () => {
    const body = new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
    n += 1;
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({
      id: `8ac7a4a1${String(n).padStart(24, '0')}`, paymentType: body.get('paymentType'), amount: body.get('amount'), currency: body.get('currency'),
      merchantTransactionId: body.get('merchantTransactionId'),
      result: { code: answerCode, description: 'Transaction succeeded (please review manually due to external risk check)' },
      ...(answerRisk !== undefined ? { risk: { score: answerRisk } } : {}),
      timestamp: new Date().toISOString().replace('T', ' ').slice(0, 23) + '+0000', ndc: 'x',
    }));
  });
});
let gw: Gateway;
before(async () => {
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  gw = await startGateway();
  await configureCascade(gw, {
    acq: { connector: 'opp', settings: { baseUrl: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, ...oppFakeCredentials } },
  }, ['acq']);
});
after(async () => {
  await gw?.close();
  server.closeAllConnections();
  await new Promise<void>((r) => server.close(() => r()));
});

for (const code of ['000.400.040', '000.400.090']) {
  test(`an acquirer's review code ${code} is not answered as a plain success`, async () => {
    answerCode = code;
    const r = await opp(gw, 'POST', '/v1/payments', { ...testCard, amount: '10.00', currency: 'EUR', paymentType: 'DB', paymentBrand: 'VISA' });
    const got = (r.body as { result: { code: string } }).result.code;
    // The merchant's own classifier (the reference's regexes) must still see "review manually".
    assert.equal(classifyResultCode(got), 'review', `answered ${got} for the acquirer's ${code}: the order would ship unreviewed`);
  });
}

// Codes of the family the catalogue does not list are not made into other families: a card "not
// yet valid" (100.100.304, validation: account) is not "invalid or missing parameter" (the
// merchant's own request, 200.300.404); a long pending (800.400.501, may change after days) is not
// the half-hour session pending 000.200.000.
for (const [code, family] of [['100.100.304', /^100\.100\./], ['800.400.501', /^(800\.400\.5|100\.400\.500)/]] as const) {
  test(`an acquirer's ${code} keeps its family in the answer`, async () => {
    answerCode = code;
    const r = await opp(gw, 'POST', '/v1/payments', { ...testCard, amount: '10.00', currency: 'EUR', paymentType: 'DB', paymentBrand: 'VISA' });
    const got = (r.body as { result: { code: string } }).result.code;
    assert.match(got, family, `answered ${got} for the acquirer's ${code}`);
  });
}

test('risk.score repeats the acquirer\'s score, and is not shown among the result details', async () => {
  answerCode = '000.100.110';
  answerRisk = '100';
  const r = await opp(gw, 'POST', '/v1/payments', { ...testCard, amount: '10.00', currency: 'EUR', paymentType: 'DB', paymentBrand: 'VISA' });
  const body = r.body as { risk?: { score?: string }; resultDetails?: Record<string, string> };
  assert.deepEqual(body.risk, { score: '100' });
  assert.equal(body.resultDetails?.riskScore, undefined);
});

test('a payment the acquirer declined for risk does not carry risk.score "0"', async () => {
  answerCode = '100.400.319';
  answerRisk = undefined;
  const r = await opp(gw, 'POST', '/v1/payments', { ...testCard, amount: '10.00', currency: 'EUR', paymentType: 'DB', paymentBrand: 'VISA' });
  const body = r.body as { result: { code: string }; risk?: { score?: string } };
  assert.equal(body.result.code, '100.400.319');
  assert.deepEqual(body.risk, { score: '' }, 'declined "by risk system", no score given: empty, not "0" (no risk)');
});

// The operator's views say it too: a merchant's support desk reads the dashboard or the CLI, and a
// bare "captured" there would ship the order the acquirer held.
const visibleText = (page: string) => page.slice(page.indexOf('<main')).replace(/<[^>]+>/g, ' ').replace(/\s+/g, ' ');
let operator: Promise<{ cookie: string }> | undefined;
const operatorSession = () => (operator ??= (async () => {
  const password = 'a long test password';
  assert.ok((await gw.app.dashboard.addUser({ email: 'ops@example.com', role: 'operator', merchantId: undefined, password })).ok);
  return signIn(gw.url, 'ops@example.com', password);
})());

for (const code of ['000.400.040', '000.400.060']) {
  test(`the dashboard's payment page tells the operator to hold an order the acquirer approved with ${code}`, async () => {
    answerCode = code;
    answerRisk = undefined;
    const r = await opp(gw, 'POST', '/v1/payments', { ...testCard, amount: '10.00', currency: 'EUR', paymentType: 'DB', paymentBrand: 'VISA' });
    assert.equal(r.body.result.code, code);
    const page = await fetch(`${gw.url}/dashboard/payments/${r.body.id}`, { headers: { cookie: (await operatorSession()).cookie } });
    assert.equal(page.status, 200);
    assert.match(visibleText(await page.text()), new RegExp(`Hold the order: approved by the acquirer for manual review: .*\\(${code.replaceAll('.', '\\.')}\\)`));
  });
}

test('payments show (the CLI) tells the operator to hold an order the acquirer approved for manual review', async () => {
  answerCode = '000.400.090';
  answerRisk = undefined;
  const r = await opp(gw, 'POST', '/v1/payments', { ...testCard, amount: '12.00', currency: 'EUR', paymentType: 'DB', paymentBrand: 'VISA' });
  assert.equal(r.body.result.code, '000.400.090');
  const shown = runCli(gw.dataDir, 'payments', 'show', r.body.id);
  assert.equal(shown.status, 0, shown.stderr);
  assert.match(shown.stdout, /HOLD THE ORDER: approved by the acquirer for manual review: .*\(000\.400\.090\)/, shown.stdout);
});
