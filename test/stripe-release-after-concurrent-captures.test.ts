/**
 * Stripe without multicapture: two partial captures sent together. Stripe takes the
 * first, releases the rest of the hold with it, and refuses the second. The books must end with the
 * rest released (nothing held), as after a single capture.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, request } from 'node:http';
import type { AddressInfo } from 'node:net';
import { startGateway, type Gateway } from './support/harness.ts';
import { authorizedExecution, call, configureCascade, tokenOf, wf } from './support/executions.ts';
import { startStripeFake, stripeFakeCredentials, type StripeFake } from './support/fake-psps/stripe.ts';
import { suiteCards } from './support/fake-psps/bank.ts';
import { ledgerTotalsOf } from '../src/ledger/model.ts';

/** A pass-through in front of the fake that holds back the capture of `slowAmount` minor units for `ms`. */
async function delayingProxy(target: string, slowAmount: string, ms: number) {
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', async () => {
      const body = Buffer.concat(chunks);
      if (req.url?.endsWith('/capture') && new URLSearchParams(body.toString()).get('amount_to_capture') === slowAmount) await new Promise((r) => setTimeout(r, ms));
      const u = new URL(req.url ?? '/', target);
      const fwd = request(u, { method: req.method, headers: { ...req.headers, host: u.host } }, (up) => {
        res.writeHead(up.statusCode ?? 502, up.headers);
        up.pipe(res);
      });
      fwd.end(body);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, close: () => new Promise<void>((r) => { server.closeAllConnections(); server.close(() => r()); }) };
}

let stripe: StripeFake;
let proxy: Awaited<ReturnType<typeof delayingProxy>>;
let gw: Gateway;
before(async () => {
  [stripe, gw] = await Promise.all([startStripeFake({ multicapture: false }), startGateway()]);
  proxy = await delayingProxy(stripe.url, '1000', 800);
  await configureCascade(gw, { stripe: { connector: 'stripe', settings: { baseUrl: proxy.url, ...stripeFakeCredentials } } }, ['stripe']);
});
after(async () => { await Promise.all([gw?.close(), stripe?.close(), proxy?.close()]); });

test('two partial captures at once without multicapture: Stripe takes one and releases the rest; the books release it too', async () => {
  const token = await tokenOf(gw);
  const { paymentId } = await authorizedExecution(gw, token, 'race-capture', suiteCards.approved, '50.00');
  const merchant = (await gw.app.merchants.byId(gw.merchant.merchantId))!;
  const capture = (amount: number) => gw.app.payments.followUp({
    merchant, scope: { channel: 'executions' }, kind: 'capture', referencedId: paymentId,
    amount: { amount, currency: 'EUR' as never }, merchantTransactionId: undefined, context: {}, testParameters: {},
  });
  // Two shipments captured at once (the 10.00 one answered later by Stripe).
  const [slow, fast] = await Promise.all([capture(1000), new Promise((r) => setTimeout(r, 100)).then(() => capture(2000))]);
  assert.ok(slow.ok && fast.ok);
  await gw.app.payments.idle();
  const ops = await gw.app.storage.db.selectFrom('transactions').select(['type', 'status', 'amount']).where('payment_id', '=', paymentId).orderBy('seq').execute();
  const summary = ops.map((o) => [o.type, o.status, Number(o.amount)]);
  assert.deepEqual(summary.slice(0, 3), [['authorize', 'succeeded', 5000], ['capture', 'failed', 1000], ['capture', 'succeeded', 2000]], JSON.stringify(summary));
  const totals = ledgerTotalsOf(await gw.app.ledger.paymentPostings(paymentId));
  assert.deepEqual({ captured: totals.captured, held: totals.held }, { captured: 2000, held: 0 },
    `Stripe released the rest with the 20.00 capture, but the books still hold it: ${JSON.stringify(summary)}`);
  assert.equal(await gw.app.ledger.verify(), undefined);
  stripe.takeEvents();
});
