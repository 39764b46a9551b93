/**
 * `createRegistration=true` on a customer-initiated payment whose card is challenged: the
 * registration commits with the payment's intent (its id is in the pending answer), unconfirmed
 * until the payment's outcome. It outlives an issuer's decline. It does not outlive a payment whose
 * cardholder failed, cancelled or never finished 3-D Secure: that registration was the stored
 * credential of a first charge its holder refused, and a merchant-initiated charge on it (no 3-D
 * Secure) was approved for any amount, before the cardholder had answered too.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { opp, startGateway, testCard, type Gateway } from './support/harness.ts';
import { answer, openRedirect } from './support/shopper.ts';

let gw: Gateway;
let offset = 0;
before(async () => { gw = await startGateway({ clock: { now: () => Date.now() + offset }, env: { SWITCHYARD_ASYNC_TIMEOUT_MS: '60000' } }); });
after(() => gw?.close());

const initial = (card: string, extra: Record<string, string> = {}) => opp(gw, 'POST', '/v1/payments', {
  ...testCard, 'card.number': card, amount: '10.00', currency: 'EUR', paymentType: 'DB',
  shopperResultUrl: 'https://shop.example/result', createRegistration: 'true',
  'standingInstruction.mode': 'INITIAL', 'standingInstruction.source': 'CIT', 'standingInstruction.type': 'UNSCHEDULED', ...extra,
});
const mitCharge = (registrationId: string) => opp(gw, 'POST', `/v1/registrations/${registrationId}/payments`, {
  amount: '500.00', currency: 'EUR', paymentType: 'DB',
  'standingInstruction.mode': 'REPEATED', 'standingInstruction.source': 'MIT', 'standingInstruction.type': 'UNSCHEDULED',
});
const eventsOf = async (subjectId: string) => (await gw.app.storage.db.selectFrom('outbox').select('type').where('subject_id', '=', subjectId).orderBy('created_at').execute()).map((e) => e.type);

async function challenged(): Promise<{ id: string; registrationId: string; redirect: Parameters<typeof openRedirect>[0] }> {
  const r = await initial('4200000000000042');
  assert.equal(r.body.result.code, '000.200.000', JSON.stringify(r.body.result));
  assert.match(r.body.registrationId, /^[0-9a-f]{32}$/, 'the pending answer names the registration');
  return { id: r.body.id, registrationId: r.body.registrationId, redirect: r.body.redirect };
}

async function assertNotKept(p: { id: string; registrationId: string }, code: string, how: string) {
  assert.equal((await opp(gw, 'GET', `/v1/query/${p.id}`)).body.result.code, code);
  const reg = await opp(gw, 'GET', `/v1/registrations/${p.registrationId}`);
  assert.equal(reg.body.result.code, '100.150.202', `the registration of a payment whose cardholder ${how} is live: ${JSON.stringify(reg.body.result)}`);
  const charge = await mitCharge(p.registrationId);
  assert.equal(charge.body.result.code, '100.150.202', `a merchant-initiated charge on it: ${JSON.stringify(charge.body.result)}`);
  assert.deepEqual(await eventsOf(p.registrationId), ['registration.created', 'registration.deleted'], 'the merchant is told it is gone');
}

describe('a registration made by a payment whose cardholder did not authenticate', () => {
  for (const [outcome, code] of [['failed', '100.380.401'], ['cancelled', '100.396.101']] as const) {
    test(`challenge ${outcome}: the registration is deregistered with the payment, and cannot be charged`, async () => {
      const p = await challenged();
      assert.equal((await answer(await openRedirect(p.redirect), outcome)).status, 303);
      await assertNotKept(p, code, `${outcome} authentication`);
    });
  }

  test('challenge never finished: the registration ends with the payment\'s timeout', async () => {
    const p = await challenged();
    offset += 5 * 60_000;
    assert.ok(await gw.app.payments.expireAwaiting() >= 1, 'the timeout job ended the payment');
    const code = (await opp(gw, 'GET', `/v1/query/${p.id}`)).body.result.code as string;
    await assertNotKept(p, code, 'never finished authentication');
  });

  test('challenge completed: the registration, unconfirmed while the cardholder was at it, is kept and pays', async () => {
    const p = await challenged();
    const meanwhile = await mitCharge(p.registrationId);
    assert.equal(meanwhile.body.result.code, '100.150.201', `a merchant-initiated charge before the cardholder answered: ${JSON.stringify(meanwhile.body.result)}`);
    assert.equal((await opp(gw, 'GET', `/v1/registrations/${p.registrationId}`)).body.result.code, '100.150.201');
    assert.equal((await answer(await openRedirect(p.redirect), 'completed')).status, 303);
    assert.equal((await opp(gw, 'GET', `/v1/registrations/${p.registrationId}`)).body.result.code, '000.100.110');
    assert.equal((await opp(gw, 'GET', `/v1/query/${p.id}`)).body.result.code, '000.100.110');
    assert.equal((await mitCharge(p.registrationId)).body.result.code, '000.100.110');
  });

  test('an issuer\'s decline keeps the registration: the card is the cardholder\'s, and passed every check', async () => {
    const r = await initial('4000000000009995');
    assert.equal(r.body.result.code, '800.100.155');
    assert.match(r.body.registrationId, /^[0-9a-f]{32}$/);
    assert.equal((await opp(gw, 'GET', `/v1/registrations/${r.body.registrationId}`)).body.result.code, '000.100.110');
    assert.deepEqual(await eventsOf(r.body.registrationId), ['registration.created']);
  });
});
