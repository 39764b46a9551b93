/**
 * Stripe without multicapture: a partial capture whose answer was lost (Stripe took it,
 * and released the rest of the hold with it) is settled later by the reconciler. The books must
 * release the rest as they do when the answer arrives (RestReleased), not keep it held (and capturable).
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, request } from 'node:http';
import type { AddressInfo } from 'node:net';
import { manualClock } from '../src/runtime/clock.ts';
import { startGateway, type Gateway } from './support/harness.ts';
import { authorizedExecution, call, configureCascade, tokenOf, wf } from './support/executions.ts';
import { startStripeFake, stripeFakeCredentials, type StripeFake } from './support/fake-psps/stripe.ts';
import { suiteCards } from './support/fake-psps/bank.ts';
import { ledgerTotalsOf } from '../src/ledger/model.ts';

/** A pass-through in front of the fake whose first capture reaches Stripe but whose answer is lost (a 502 from a proxy). */
async function losingProxy(target: string) {
  let lost = false;
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      const u = new URL(req.url ?? '/', target);
      const lose = !lost && req.method === 'POST' && (req.url ?? '').endsWith('/capture');
      if (lose) lost = true;
      const fwd = request(u, { method: req.method, headers: { ...req.headers, host: u.host } }, (up) => {
        if (lose) { up.resume(); res.writeHead(502, { 'content-type': 'text/html' }).end('<html>Bad Gateway</html>'); return; }
        res.writeHead(up.statusCode ?? 502, up.headers);
        up.pipe(res);
      });
      fwd.end(body);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, close: () => new Promise<void>((r) => { server.closeAllConnections(); server.close(() => r()); }) };
}

const clock = manualClock(Date.now());
let stripe: StripeFake;
let proxy: Awaited<ReturnType<typeof losingProxy>>;
let gw: Gateway;
before(async () => {
  [stripe, gw] = await Promise.all([startStripeFake({ multicapture: false }), startGateway({ clock })]);
  proxy = await losingProxy(stripe.url);
  await configureCascade(gw, { stripe: { connector: 'stripe', settings: { baseUrl: proxy.url, ...stripeFakeCredentials } } }, ['stripe']);
});
after(async () => { await Promise.all([gw?.close(), stripe?.close(), proxy?.close()]); });

test('a capture without multicapture settled by the reconciler releases the rest in the books', async () => {
  const token = await tokenOf(gw);
  const { id, paymentId } = await authorizedExecution(gw, token, 'lost-capture', suiteCards.approved, '50.00');
  assert.equal((await call(gw, 'POST', `${wf}/${id}/capture`, { token, body: { amount: { value: '20.00', currency: 'EUR' }, final: false } })).status, 202);
  await gw.app.payments.idle();
  clock.advance(15 * 60_000);
  await gw.app.payments.reconcile();
  await gw.app.payments.idle();
  const ops = await gw.app.storage.db.selectFrom('transactions').select(['type', 'status', 'amount']).where('payment_id', '=', paymentId).orderBy('seq').execute();
  const summary = ops.map((o) => [o.type, o.status, Number(o.amount)]);
  assert.deepEqual(summary.slice(0, 2), [['authorize', 'succeeded', 5000], ['capture', 'succeeded', 2000]], JSON.stringify(summary));
  const totals = ledgerTotalsOf(await gw.app.ledger.paymentPostings(paymentId));
  assert.deepEqual({ captured: totals.captured, held: totals.held }, { captured: 2000, held: 0 },
    `Stripe released the rest with the capture, but the books still hold it: ${JSON.stringify(summary)}`);
  stripe.takeEvents();
});
