import { test, before, after, describe } from 'node:test';
import assert from 'node:assert/strict';
import { opp, pay, startGateway, testCard, type Gateway } from './support/harness.ts';
import { authorizeBody, call, configureCascade, execution, instrument, poll, tokenOf, wf } from './support/executions.ts';
import { testCards } from '../src/processors/simulator/test-cards.ts';
import { declineReasonOf } from '../src/processors/result-codes.ts';
import { luhnValid } from '../src/runtime/scrub.ts';

/** Each decline card: its code, the neutral reason that code gets, and what the executions dialect reports. */
const expected: Record<string, { code: string; reason: string; result: string }> = {
  '4000000000000002': { code: '800.100.152', reason: 'soft', result: 'GenericRejection' },
  '4000000000009995': { code: '800.100.155', reason: 'soft', result: 'InsufficientBalance' },
  '4000000000009623': { code: '800.100.162', reason: 'soft', result: 'LimitExceeded' },
  '4000000000000069': { code: '800.100.157', reason: 'hard', result: 'ExpiredInstrument' },
  '4000000000009987': { code: '800.100.171', reason: 'hard', result: 'BlockedInstrument' },
  '4000000000009979': { code: '800.100.159', reason: 'hard', result: 'BlockedInstrument' },
  '4100000000000019': { code: '100.400.319', reason: 'fraud', result: 'FraudRisk' },
  '4000000000000127': { code: '800.100.153', reason: 'hard', result: 'InvalidInstrument' },
};
const noAnswer = '4000000000003006';

let gw: Gateway;
let token: string;
before(async () => {
  gw = await startGateway({ env: { SWITCHYARD_PSP_TIMEOUT_MS: '300' } });
  token = await tokenOf(gw);
});
after(() => gw.close());

test('the catalogue: Luhn-valid numbers, each decline classified as documented, one card that is never answered', () => {
  assert.deepEqual(testCards.map((c) => c.number).sort(), [...Object.keys(expected), noAnswer].sort());
  for (const c of testCards) {
    assert.ok(luhnValid(c.number), c.number);
    if (c.behaviour.kind === 'decline') {
      assert.equal(c.behaviour.code, expected[c.number]!.code);
      assert.equal(declineReasonOf(c.behaviour.code), expected[c.number]!.reason, `${c.reason} is ${expected[c.number]!.reason}`);
    } else assert.equal(c.number, noAnswer);
  }
});

describe('/v1: a DB on each test card', () => {
  for (const [number, e] of Object.entries(expected)) {
    test(`${number} declines with ${e.code}`, async () => {
      const r = await pay(gw, { 'card.number': number });
      assert.equal(r.body.result.code, e.code, JSON.stringify(r.body.result));
      assert.equal(r.body.card.last4Digits, number.slice(-4));
      assert.ok(!JSON.stringify(r.body).includes(number), 'the card number is not echoed');
    });
  }
  test(`${noAnswer}: the answer is lost, the merchant gets 900.100.300 and the payment stays unknown`, async () => {
    const r = await pay(gw, { 'card.number': noAnswer, paymentType: 'PA' });
    assert.equal(r.body.result.code, '900.100.300');
    const row = await gw.app.storage.db.selectFrom('transactions').select('status').where('id', '=', r.body.id).executeTakeFirstOrThrow();
    assert.equal(row.status, 'unknown');
  });
  test('the ordinary test card is still approved, and a live merchant\'s payment never reaches the simulator', async () => {
    assert.equal((await pay(gw)).body.result.code, '000.100.110');
    const live = await gw.app.merchants.create({ name: 'Live Shop', live: true });
    const r = await opp({ url: gw.url, merchant: live }, 'POST', '/v1/payments', { amount: '1.00', currency: 'EUR', paymentType: 'DB', ...testCard, 'card.number': '4000000000009995' });
    assert.equal(r.body.result.code, '900.100.100');
    assert.equal(gw.app.simulator.received.has(r.body.id), false, 'the simulated acquirer never saw it');
  });
  test('a capture is not touched by the catalogue (authorize and sale only)', async () => {
    const pa = await pay(gw, { paymentType: 'PA' });
    const cp = await opp(gw, 'POST', `/v1/payments/${pa.body.id}`, { paymentType: 'CP', amount: '92.00', currency: 'EUR' });
    assert.equal(cp.body.result.code, '000.100.110');
  });
});

describe('executions: an authorize on each test card', () => {
  const authorize = async (number: string, holder: string) => {
    const inst = await instrument(gw, token, number, holder);
    const id = await execution(gw, token, holder);
    const ack = await call(gw, 'POST', `${wf}/${id}/authorize`, { token, body: authorizeBody(inst) });
    assert.equal(ack.status, 200, JSON.stringify(ack.body));
    return poll(gw, token, id, ['created', 'authorizeRequested']);
  };
  for (const [number, e] of Object.entries(expected)) {
    test(`${number} fails with ${e.result} (${e.code})`, async () => {
      const x = await authorize(number, `h-${number.slice(-4)}`);
      assert.equal(x.status, 'authorizeFailed');
      const reason = x.statusHistory.at(-1).errors[0].reason;
      assert.equal(reason.responseCode, e.code);
      assert.equal(reason.result, e.result);
    });
  }
  test(`${noAnswer}: the attempt is unknown`, async () => {
    const x = await authorize(noAnswer, 'h-noanswer');
    assert.equal(x.status, 'unknown');
  });
  test('a cascade moves on from the soft declines and stops at the hard and fraud ones', async () => {
    await configureCascade(gw, { 'psp-a': {}, 'psp-b': {} }, ['psp-a', 'psp-b']);
    for (const [number, e] of Object.entries(expected)) {
      const x = await authorize(number, `c-${number.slice(-4)}`);
      assert.equal(x.status, 'authorizeFailed');
      const accounts = x.paymentComposition[0].attempts.map((a: any) => a.pspAccount);
      assert.deepEqual(accounts, e.reason === 'soft' ? ['psp-a', 'psp-b'] : ['psp-a'], `${number} (${e.reason})`);
    }
  });
});
