/**
 * The charge that sets a stored credential up (`standingInstruction.mode=INITIAL`, or
 * `recurringType=INITIAL`) is the cardholder's own. Declared merchant-initiated as well, it was paid
 * without the 3-D Secure challenge its card asks for, stored the card, and handed out an
 * `initialTransactionId` for a chain of stored charges the cardholder never started. It is refused
 * naming the field at fault, and nothing is stored.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { opp, startGateway, testCard, type Gateway } from './support/harness.ts';

let gw: Gateway;
before(async () => { gw = await startGateway(); });
after(() => gw?.close());

/** A card whose issuer asks for a challenge, stored with the charge. */
const storing = {
  ...testCard, 'card.number': '4200000000000042', amount: '10.00', currency: 'EUR', paymentType: 'DB', createRegistration: 'true',
  shopperResultUrl: 'https://shop.example/return',
};

const counts = async () => ({
  payments: (await gw.app.storage.db.selectFrom('payments').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow()).n,
  cards: (await gw.app.storage.db.selectFrom('cards').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow()).n,
});

for (const [what, params, field] of [
  ['standingInstruction.mode=INITIAL with source=MIT', { 'standingInstruction.mode': 'INITIAL', 'standingInstruction.type': 'UNSCHEDULED', 'standingInstruction.source': 'MIT' }, 'standingInstruction.source'],
  ['recurringType=INITIAL with source=MIT', { recurringType: 'INITIAL', 'standingInstruction.source': 'MIT' }, 'standingInstruction.source'],
  ['standingInstruction.mode=INITIAL with recurringType=REPEATED and no source', { 'standingInstruction.mode': 'INITIAL', recurringType: 'REPEATED' }, 'recurringType'],
] as const) {
  test(`an INITIAL charge declared merchant-initiated (${what}) is refused naming ${field}, nothing stored`, async () => {
    const before = await counts();
    const r = await opp(gw, 'POST', '/v1/payments', { ...storing, ...params });
    assert.equal(r.status, 400, JSON.stringify(r.body));
    assert.equal(r.body.result.code, '200.300.404');
    assert.deepEqual(r.body.result.parameterErrors.map((e: { name: string }) => e.name), [field]);
    assert.equal(r.body.registrationId, undefined);
    assert.equal(r.body.id, undefined);
    assert.deepEqual(await counts(), before, 'no payment and no card kept');
  });
}

test('the cardholder\'s INITIAL charge is challenged, and the merchant\'s REPEATED one on the registration is not', async () => {
  const first = await opp(gw, 'POST', '/v1/payments', {
    ...storing, 'standingInstruction.mode': 'INITIAL', 'standingInstruction.type': 'UNSCHEDULED', 'standingInstruction.source': 'CIT',
  });
  assert.equal(first.status, 200, JSON.stringify(first.body));
  assert.ok(first.body.redirect?.url, 'the card\'s challenge is asked for');
  const registered = await opp(gw, 'POST', '/v1/registrations', { ...testCard });
  assert.equal(registered.status, 200, JSON.stringify(registered.body));
  const later = await opp(gw, 'POST', `/v1/registrations/${registered.body.id}/payments`, {
    amount: '5.00', currency: 'EUR', paymentType: 'DB',
    'standingInstruction.mode': 'REPEATED', 'standingInstruction.type': 'UNSCHEDULED', 'standingInstruction.source': 'MIT',
  });
  assert.equal(later.body.result.code, '000.100.110', JSON.stringify(later.body));
});
