/**
 * A capture the acquirer (gateway B, through the OPP connector) approves after A ended it as never
 * received is refunded at B: A's reversal names the payment, which B accepts by its totals.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, request, type Server } from 'node:http';
import { manualClock } from '../src/runtime/clock.ts';
import { createSimulatedAcquirer } from '../src/processors/simulator/connector.ts';
import { defaultSettings } from '../src/processors/simulator/settings.ts';
import { outcomeOfPayment } from '../src/processors/opp/connector.ts';
import { opp, pay, startGateway, type Gateway } from './support/harness.ts';
import { configureCascade } from './support/executions.ts';

const sim = createSimulatedAcquirer({ latencyMs: 0, jitterMs: 0, timeoutRate: 0, errorRate: 0 });
const clock = manualClock(Date.now());
let a: Gateway;
let b: Gateway;
let proxy: Server;
let proxyUrl: string;
/** A capture the proxy swallows (the connection breaks, B never sees it), to be sent to B later. */
let held: { path: string; headers: Record<string, string>; body: string } | undefined;
let holdNextCapture = false;

before(async () => {
  b = await startGateway({ processor: sim.forAccount('b-acquirer', { ...defaultSettings }) });
  proxy = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString();
      if (holdNextCapture && new URLSearchParams(body).get('paymentType') === 'CP') {
        holdNextCapture = false;
        held = { path: req.url!, headers: { authorization: String(req.headers.authorization), 'content-type': String(req.headers['content-type']), accept: 'application/json' }, body };
        req.socket.destroy();
        return;
      }
      const target = new URL(b.url);
      const fwd = request({ hostname: target.hostname, port: target.port, path: req.url, method: req.method, headers: req.headers }, (r) => {
        res.writeHead(r.statusCode!, r.headers);
        r.pipe(res);
      });
      fwd.end(body);
    });
  });
  await new Promise<void>((r) => proxy.listen(0, '127.0.0.1', () => r()));
  proxyUrl = `http://127.0.0.1:${(proxy.address() as { port: number }).port}`;
  a = await startGateway({ clock });
  await configureCascade(a, { 'acq-b': { connector: 'opp', settings: { baseUrl: proxyUrl, accessToken: b.merchant.accessToken, entityId: b.merchant.entityId } } }, ['acq-b']);
});
after(async () => { await a?.close(); await b?.close(); proxy?.close(); });

test('a capture B approves after A ended it as never received is refunded at B', async () => {
  const pa = await pay(a, { paymentType: 'PA', amount: '30.00' });
  assert.equal(pa.body.result.code, '000.100.110', JSON.stringify(pa.body));
  holdNextCapture = true;
  const cp = await opp(a, 'POST', `/v1/payments/${pa.body.id}`, { paymentType: 'CP', amount: '30.00', currency: 'EUR' });
  assert.ok(held, `the capture was held (A answered ${cp.body.result.code})`);
  clock.advance(60_000);
  await a.app.payments.reconcile();
  await a.app.payments.idle();
  const attempt = await a.app.storage.db.selectFrom('attempts').select(['id', 'status', 'reason', 'account_id']).where('transaction_id', '=', cp.body.id).executeTakeFirstOrThrow();
  assert.deepEqual([attempt.status, attempt.reason], ['failed', 'not_received']);
  // B makes the capture after all, and says so.
  const late = await fetch(proxyUrl + held!.path, { method: 'POST', headers: held!.headers, body: held!.body });
  const outcome = outcomeOfPayment(await late.json() as any);
  assert.equal(outcome?.kind, 'approved', JSON.stringify(outcome));
  await a.app.payments.settleFromPsp(attempt.account_id, attempt.id, outcome as any);
  assert.equal(await a.app.payments.lateApprovalsUnsettled(), 1);
  const taken = await a.app.payments.reverseLateApprovals();
  const row = await a.app.storage.db.selectFrom('late_approvals').selectAll().where('attempt_id', '=', attempt.id).executeTakeFirst();
  assert.equal(taken, 1, `B refused the reversal: ${row?.last_result}`);
  assert.equal(row?.status, 'reversed');
});
