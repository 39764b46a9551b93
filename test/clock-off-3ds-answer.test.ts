/**
 * A shopper whose 3-D Secure answer reaches a node whose clock is off PostgreSQL's: that node
 * "writes nothing until it agrees again", so the shopper, sent again (to another node), finishes
 * the payment. The challenge's own store writes outside a unit of work: were such writes not held
 * back too, the node would mark the challenge answered, then fail to carry the payment on, and the
 * shopper's answer, sent again, would be "used", the payment left awaiting until it expires.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type { App } from '../src/app.ts';
import { opp, postgresAvailable, secondNode, startGateway, testCard, type Gateway } from './support/harness.ts';
import { answer, openRedirect } from './support/shopper.ts';

const pgUp = await postgresAvailable();
const skip = pgUp ? false : 'PostgreSQL unreachable';
let a: Gateway;
let b: { app: App; url: string; merchant: Gateway['merchant'] };
before(async () => {
  if (!pgUp) return;
  a = await startGateway({ store: 'postgres' });
  b = await secondNode(a, { clock: { now: () => Date.now() - 60_000 }, wallClock: () => Date.now() - 60_000 });
  await b.app.clockGate.check();
  assert.ok(b.app.clockGate.refusal());
});
after(async () => { await b?.app.close(); await a?.close(); });

test('a 3-D Secure answer refused by the clock-off node leaves the challenge open: sent again to a good node, the payment completes', { skip }, async () => {
  const challenged = await opp(a, 'POST', '/v1/payments', {
    ...testCard, amount: '12.00', currency: 'EUR', paymentType: 'DB',
    'customParameters[3DS2_enrolled]': 'true', shopperResultUrl: 'https://shop.example/result',
  });
  assert.equal(challenged.body.result.code, '000.200.000', JSON.stringify(challenged.body));
  const page = await openRedirect(challenged.body.redirect);
  assert.ok(page.action, page.html.slice(0, 300));
  // The load balancer sends the answer to node B.
  const atB = await answer({ action: page.action.replace(a.url, b.url) }, 'completed');
  const challenge = await a.app.storage.db.selectFrom('challenges').select(['status']).where('subject_id', '=', challenged.body.id).executeTakeFirst();
  // Sent again, to node A.
  const atA = await answer(page, 'completed');
  const done = await opp(a, 'GET', `/v1/query/${challenged.body.id}`);
  assert.deepEqual(
    { atB: atB.status >= 500, challengeAfterB: challenge?.status, paid: done.body.result?.code },
    { atB: true, challengeAfterB: 'open', paid: '000.100.110' },
    `B answered ${atB.status} ${/<h1>([^<]*)/.exec(atB.html)?.[1]}; A answered ${atA.status} ${atA.location ?? /<h1>([^<]*)/.exec(atA.html)?.[1]}`,
  );
});
