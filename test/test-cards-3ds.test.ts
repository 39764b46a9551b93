/**
 * The 3-D Secure test cards, each outcome in both dialects: frictionless (authenticated and
 * attempted), a challenge the shopper completes or fails, a card not enrolled, one whose issuer does
 * not participate, and a technical error in the 3-D Secure system. docs/test-cards.md lists the same
 * cards, with every decline card of the simulated acquirer; a test below keeps the two together.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { opp, startGateway, testCard, type Gateway } from './support/harness.ts';
import { authorizeBody, call, execution, instrument, poll, tokenOf, wf } from './support/executions.ts';
import { answer, openRedirect } from './support/shopper.ts';
import { testCards } from '../src/processors/simulator/test-cards.ts';

interface ThreeDsCard {
  readonly card: string;
  readonly outcome: string;
  /** How the shopper answers the challenge page, for challenge cards. */
  readonly shopper?: 'completed' | 'failed';
  /** /v1: the result code, and the ECI when authenticated. */
  readonly code: string;
  readonly eci?: string;
  /** Executions: the final status, and the reason's response code when it failed. */
  readonly status: 'authorized' | 'authorizeFailed';
  /** Executions: the reason's `result` when it is not an authentication error with the /v1 code. */
  readonly result?: string;
}

const cards: readonly ThreeDsCard[] = [
  { card: '4200000000000091', outcome: 'frictionless, authenticated', code: '000.100.110', eci: '05', status: 'authorized' },
  { card: '4200000000000109', outcome: 'frictionless, attempted', code: '000.100.110', eci: '06', status: 'authorized' },
  { card: '4200000000000042', outcome: 'challenge, the shopper completes it', shopper: 'completed', code: '000.100.110', eci: '05', status: 'authorized' },
  { card: '4200000000000042', outcome: 'challenge, the shopper fails it', shopper: 'failed', code: '100.380.401', status: 'authorizeFailed', result: 'PayerAuthenticationFailed' },
  { card: '4012001037141112', outcome: 'not enrolled', code: '000.400.109', status: 'authorizeFailed' },
  { card: '4532497088771651', outcome: 'authentication unavailable (issuer not participating)', code: '000.400.101', status: 'authorizeFailed' },
  { card: '4012001037461114', outcome: 'technical error in the 3-D Secure system', code: '100.390.112', status: 'authorizeFailed' },
];

let gw: Gateway;
let token: string;
before(async () => {
  gw = await startGateway();
  token = await tokenOf(gw);
});
after(() => gw.close());

describe('/v1: a DB on each 3-D Secure test card', () => {
  for (const c of cards) {
    test(`${c.card}: ${c.outcome} → ${c.code}`, async () => {
      const r = await opp(gw, 'POST', '/v1/payments', {
        amount: '92.00', currency: 'EUR', paymentType: 'DB', ...testCard, 'card.number': c.card, shopperResultUrl: 'https://shop.example/return',
      });
      let body = r.body;
      if (c.shopper) {
        assert.equal(body.result.code, '000.200.000', 'pending: the shopper goes to the challenge');
        const page = await openRedirect(body.redirect);
        assert.equal(page.status, 200);
        const back = await answer(page, c.shopper);
        assert.equal(back.status, 303);
        body = (await opp(gw, 'GET', `/v1/payments/${body.id}`)).body;
      }
      assert.equal(body.result.code, c.code, JSON.stringify(body.result));
      if (c.eci) assert.equal(body.threeDSecure.eci, c.eci);
    });
  }
});

describe('executions: an authorize on each 3-D Secure test card', () => {
  cards.forEach((c, i) => {
    test(`${c.card}: ${c.outcome} → ${c.status}`, async () => {
      const holder = `tds-${i}`;
      const inst = await instrument(gw, token, c.card, holder);
      const id = await execution(gw, token, holder);
      const ack = await call(gw, 'POST', `${wf}/${id}/authorize`, { token, body: authorizeBody(inst) });
      assert.equal(ack.status, 200, JSON.stringify(ack.body));
      let x = await poll(gw, token, id, ['created', 'authorizeRequested']);
      if (c.shopper) {
        assert.equal(x.status, 'authorizePending');
        assert.equal(x.actionRequired, '3ds');
        const page = await openRedirect({ url: x.requiredAction.href, method: 'GET', parameters: [] });
        assert.equal(page.status, 200);
        assert.equal((await answer(page, c.shopper)).status, 303);
        x = await poll(gw, token, id, ['authorizePending']);
      }
      assert.equal(x.status, c.status, JSON.stringify(x.statusHistory.at(-1)));
      if (c.status === 'authorizeFailed') {
        const reason = x.statusHistory.at(-1).errors[0].reason;
        assert.equal(reason.category, 'PayerAuthentication');
        if (c.result) assert.equal(reason.result, c.result);
        else assert.deepEqual([reason.result, reason.responseCode], ['AuthenticationError', c.code]);
      } else {
        assert.equal(x.paymentComposition[0].attempts.at(-1).authenticated, true);
      }
    });
  });
});

test('docs/test-cards.md lists every test card with its outcome code', () => {
  const doc = readFileSync(join(import.meta.dirname, '..', 'docs', 'test-cards.md'), 'utf8');
  for (const c of cards) {
    const row = doc.split('\n').find((l) => l.includes(c.card) && l.includes(c.code));
    assert.ok(row, `${c.card} with ${c.code}`);
  }
  for (const c of testCards) {
    const row = doc.split('\n').find((l) => l.includes(c.number));
    assert.ok(row, c.number);
    if (c.behaviour.kind === 'decline') assert.ok(row.includes(c.behaviour.code), `${c.number} with ${c.behaviour.code}`);
  }
});
