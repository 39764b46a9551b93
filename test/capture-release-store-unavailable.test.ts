/**
 * /v1: a CP at a PSP that releases the rest of the hold with it (Stripe without multicapture), on a
 * node whose clock is found off after the capture's answer was recorded and before the release is.
 * errors.md: "a payment whose PSP was asked is never answered [503], but in doubt with its id".
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import type { App } from '../src/app.ts';
import { opp, postgresAvailable, secondNode, startGateway, testCard, type Gateway } from './support/harness.ts';
import { configureCascade } from './support/executions.ts';
import { startStripeFake, stripeFakeCredentials, type StripeFake } from './support/fake-psps/stripe.ts';
import { suiteCards } from './support/fake-psps/bank.ts';

const pgUp = await postgresAvailable();
let stripe: StripeFake;
let a: Gateway;
let cOffset = 0;
let c: { app: App; url: string; merchant: Gateway['merchant'] };
before(async () => {
  if (!pgUp) return;
  stripe = await startStripeFake({ multicapture: false });
  a = await startGateway({ store: 'postgres' });
  await configureCascade(a, { stripe: { connector: 'stripe', settings: { baseUrl: stripe.url, ...stripeFakeCredentials } } }, ['stripe']);
  c = await secondNode(a, { wallClock: () => Date.now() + cOffset });
  await c.app.clockGate.check();
});
after(async () => { await c?.app.close(); await a?.close(); await stripe?.close(); });

test('/v1 CP whose PSP released the rest, its node going off before the release is recorded: answered as made, not 503 (which says nothing reached the PSP)', { skip: pgUp ? false : 'PostgreSQL unreachable' }, async () => {
  const mtx = `order-${randomUUID().slice(0, 8)}`;
  const pa = await opp(a, 'POST', '/v1/payments', { amount: '50.00', currency: 'EUR', paymentType: 'PA', merchantTransactionId: mtx, ...testCard, 'card.number': suiteCards.approved });
  assert.match(pa.body.result.code, /^000\.100\.11/, JSON.stringify(pa.body));
  const ops = () => a.app.storage.db.selectFrom('transactions').select(['type', 'status', 'amount']).where('payment_id', '=', pa.body.id).orderBy('seq').execute();
  const raw = c.app.storage.uow as { run: (fn: (tx: any) => Promise<unknown>, o?: unknown) => Promise<unknown> };
  const run = raw.run.bind(raw);
  let armed = true;
  raw.run = async (fn, o) => {
    const v = await run(fn, o);
    if (armed && (await ops()).some((x) => x.type === 'capture' && x.status === 'succeeded')) { armed = false; cOffset = -60_000; await c.app.clockGate.check(); }
    return v;
  };
  let cp;
  try { cp = await opp(c, 'POST', `/v1/payments/${pa.body.id}`, { amount: '20.00', currency: 'EUR', paymentType: 'CP' }); } finally { raw.run = run; cOffset = 0; await c.app.clockGate.check(); }
  assert.equal(armed, false, 'the capture was recorded, then the node went off');
  const states = async () => (await ops()).map((o) => [o.type, o.status, Number(o.amount)]);
  const detail = `CP answered ${cp.status} ${cp.body.result.code}; ops ${JSON.stringify(await states())}`;
  assert.equal(cp.status, 200, detail);
  assert.match(cp.body.result.code, /^000\.100\.11/, detail);
  assert.deepEqual((await states()).slice(0, 2), [['authorize', 'succeeded', 5000], ['capture', 'succeeded', 2000]], detail);
});
