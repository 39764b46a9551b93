/**
 * `createRegistration=true` on a customer-initiated payment: the registration commits with the
 * payment's intent (its id is in the answer, a pending one too), and it outlives an issuer's soft
 * decline (funds, a limit). It does not outlive a payment that ended before any issuer saw it (its
 * cardholder failed, cancelled or never finished 3-D Secure, or 3-D Secure erred or could not be
 * run), nor an issuer's refusal for good (lost, stolen, fraud, expired, a wrong security code). That
 * registration was a stored credential no cardholder set up, and a merchant-initiated charge on it
 * (no 3-D Secure) was approved for any amount, also while the cardholder was still at 3-D Secure:
 * until its payment has an outcome, it is not confirmed yet (100.150.201).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { opp, postgresAvailable, startGateway, testCard, type Gateway } from './support/harness.ts';
import { answer, openRedirect } from './support/shopper.ts';

const pgUp = await postgresAvailable();

for (const store of ['sqlite', 'postgres'] as const) {
  describe(`a registration made by a payment that ended before any issuer saw it (${store})`, { skip: store === 'postgres' && !pgUp ? 'PostgreSQL unreachable' : false }, () => {
    let gw: Gateway;
    let offset = 0;
    before(async () => { gw = await startGateway({ store, clock: { now: () => Date.now() + offset }, env: { SWITCHYARD_ASYNC_TIMEOUT_MS: '60000' } }); });
    after(() => gw?.close());

    const initial = (card: string) => opp(gw, 'POST', '/v1/payments', {
      ...testCard, 'card.number': card, amount: '10.00', currency: 'EUR', paymentType: 'DB',
      shopperResultUrl: 'https://shop.example/result', createRegistration: 'true',
      'standingInstruction.mode': 'INITIAL', 'standingInstruction.source': 'CIT', 'standingInstruction.type': 'UNSCHEDULED',
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

    async function assertNotKept(p: { id: string; registrationId: string }, how: string) {
      const reg = await opp(gw, 'GET', `/v1/registrations/${p.registrationId}`);
      assert.equal(reg.body.result.code, '100.150.202', `the registration of a payment whose ${how} is live: ${JSON.stringify(reg.body.result)}`);
      const charge = await mitCharge(p.registrationId);
      assert.equal(charge.body.result.code, '100.150.202', `a merchant-initiated charge on it: ${JSON.stringify(charge.body.result)}`);
      assert.deepEqual(await eventsOf(p.registrationId), ['registration.created', 'registration.deleted'], 'the merchant is told it is gone');
      // A shop that kept the id it was told and names it at the shopper's next checkout: the checkout
      // is not refused for it (the shopper would get none), and the widget does not offer it.
      const checkout = await opp(gw, 'POST', '/v1/checkouts', { amount: '5.00', currency: 'EUR', paymentType: 'DB', 'registrations[0].id': p.registrationId });
      assert.equal(checkout.body.result.code, '000.200.100', JSON.stringify(checkout.body.result));
      const view = (await (await fetch(`${gw.url}/v1/checkouts/${checkout.body.id}/widget`)).json()) as { registrations: unknown[] };
      assert.deepEqual(view.registrations, []);
    }

    for (const [outcome, code] of [['failed', '100.380.401'], ['cancelled', '100.396.101']] as const) {
      test(`challenge ${outcome}: the registration is deregistered with the payment, and cannot be charged`, async () => {
        const p = await challenged();
        assert.equal((await answer(await openRedirect(p.redirect), outcome)).status, 303);
        assert.equal((await opp(gw, 'GET', `/v1/query/${p.id}`)).body.result.code, code);
        await assertNotKept(p, `cardholder ${outcome} authentication`);
      });
    }

    test('challenge never finished: the registration ends with the payment\'s timeout', async () => {
      const p = await challenged();
      offset += 5 * 60_000;
      assert.ok(await gw.app.payments.expireAwaiting() >= 1, 'the timeout job ended the payment');
      await assertNotKept(p, 'cardholder never finished authentication');
    });

    for (const [what, card] of [['3-D Secure erred (status U)', '4012001037461114'], ['card not enrolled', '4012001037141112'], ['card not participating', '4532497088771651']] as const) {
      test(`${what}: the payment ends before any PSP, and takes its registration with it`, async () => {
        const r = await initial(card);
        const op = await gw.app.storage.db.selectFrom('transactions').select(['status']).where('id', '=', r.body.id).executeTakeFirstOrThrow();
        assert.equal(op.status, 'failed', JSON.stringify(r.body.result));
        assert.match(r.body.registrationId, /^[0-9a-f]{32}$/);
        await assertNotKept({ id: r.body.id, registrationId: r.body.registrationId }, what);
      });
    }

    test('challenge completed: the registration, not confirmed while its cardholder was at 3-D Secure, is kept and pays', async () => {
      const p = await challenged();
      const meanwhile = await mitCharge(p.registrationId);
      assert.equal(meanwhile.body.result.code, '100.150.201', `a merchant-initiated charge before the cardholder answered: ${JSON.stringify(meanwhile.body.result)}`);
      assert.equal((await opp(gw, 'GET', `/v1/registrations/${p.registrationId}`)).body.result.code, '100.150.201');
      // A checkout for the shopper's next purchase is not refused for it: one-click offers it once usable.
      const checkout = await opp(gw, 'POST', '/v1/checkouts', { amount: '5.00', currency: 'EUR', paymentType: 'DB', 'registrations[0].id': p.registrationId });
      assert.equal(checkout.body.result.code, '000.200.100', JSON.stringify(checkout.body.result));
      const offered = async () => ((await (await fetch(`${gw.url}/v1/checkouts/${checkout.body.id}/widget`)).json()) as { registrations: { id: string }[] }).registrations.map((r) => r.id);
      assert.deepEqual(await offered(), [], 'not offered while not confirmed');
      assert.equal((await answer(await openRedirect(p.redirect), 'completed')).status, 303);
      assert.equal((await opp(gw, 'GET', `/v1/registrations/${p.registrationId}`)).body.result.code, '000.100.110');
      assert.deepEqual(await offered(), [p.registrationId], 'offered once confirmed');
      assert.equal((await opp(gw, 'GET', `/v1/query/${p.id}`)).body.result.code, '000.100.110');
      assert.equal((await mitCharge(p.registrationId)).body.result.code, '000.100.110');
    });

    for (const [card, code, what] of [['4000000000009979', '800.100.159', 'a stolen card'], ['4000000000009987', '800.100.171', 'a lost card'],
      ['4100000000000019', '100.400.319', 'suspected fraud'], ['4000000000000127', '800.100.153', 'a wrong security code'], ['4000000000000069', '800.100.157', 'an expired card']] as const) {
      test(`an issuer's refusal for good (${what}) takes the registration back: it would only be declined again, or charged for a fraudster`, async () => {
        const r = await initial(card);
        assert.equal(r.body.result.code, code, JSON.stringify(r.body.result));
        assert.match(r.body.registrationId, /^[0-9a-f]{32}$/);
        await assertNotKept({ id: r.body.id, registrationId: r.body.registrationId }, `issuer refused it (${what})`);
      });
    }

    test('an issuer\'s soft decline keeps the registration: the card is the cardholder\'s, and will be honoured again', async () => {
      const r = await initial('4000000000009995');
      assert.equal(r.body.result.code, '800.100.155');
      assert.match(r.body.registrationId, /^[0-9a-f]{32}$/);
      assert.equal((await opp(gw, 'GET', `/v1/registrations/${r.body.registrationId}`)).body.result.code, '000.100.110');
      assert.deepEqual(await eventsOf(r.body.registrationId), ['registration.created']);
    });
  });
}
