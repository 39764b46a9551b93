/**
 * `storeInstrument: true` keeps a transient instrument as the holder's saved card, in the
 * authorization's own unit of work. A payment that then ends before any issuer saw the card (its
 * cardholder failed, cancelled or never finished 3-D Secure) takes it back: the holder was left a
 * saved card they never paid with, offered at their next checkout. So does an issuer's refusal for
 * good (stolen, fraud, expired): the card would be offered only to be declined again. An approval or
 * an issuer's soft decline keeps it (one the cascade moved on from too), and so does another payment
 * the holder made with it meanwhile.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { CompactEncrypt, importSPKI } from 'jose';
import { startGateway, type Gateway } from './support/harness.ts';
import { authorizeBody, call, configureCascade, execution, instrument, poll, tokenOf, wf } from './support/executions.ts';

let gw: Gateway;
let token: string;
let offset = 0;
before(async () => { gw = await startGateway({ clock: { now: () => Date.now() + offset }, env: { SWITCHYARD_ASYNC_TIMEOUT_MS: '60000' } }); token = await tokenOf(gw); });
after(() => gw?.close());

async function authorizeKeeping(card: string, holder: string) {
  const inst = await instrument(gw, token, card, holder);
  const id = await execution(gw, token, holder);
  const body = authorizeBody(inst, '10.00');
  body.paymentComposition[0]!.storeInstrument = true;
  const ack = await call(gw, 'POST', `${wf}/${id}/authorize`, { token, body });
  assert.equal(ack.status, 200, JSON.stringify(ack.body));
  const e = await poll(gw, token, id, ['created', 'authorizeRequested']);
  return { inst, id, e };
}
const statusOf = async (inst: string) => (await call(gw, 'GET', `/payment/instruments/${inst}`, { token })).body.status as string;

for (const outcome of ['failed', 'cancelled'] as const) {
  test(`challenge ${outcome}: the instrument the authorization kept is taken back`, async () => {
    const { inst, id, e } = await authorizeKeeping('4200000000000042', `holder-${outcome}`);
    assert.equal(e.status, 'authorizePending');
    assert.equal(await statusOf(inst), 'enabled', 'kept by the authorization');
    const answered = await fetch(`${e.requiredAction.href as string}/result`, { method: 'POST', body: new URLSearchParams({ outcome }), redirect: 'manual' });
    assert.equal(answered.status, 303);
    assert.equal((await call(gw, 'GET', `${wf}/${id}`, { token })).body.status, 'authorizeFailed');
    assert.equal(await statusOf(inst), 'deleted', `a saved card from a payment whose cardholder ${outcome} 3-D Secure`);
  });
}

test('challenge never finished: the instrument goes with the payment\'s timeout', async () => {
  const { inst, e } = await authorizeKeeping('4200000000000042', 'holder-gone');
  assert.equal(e.status, 'authorizePending');
  offset += 5 * 60_000;
  assert.ok(await gw.app.payments.expireAwaiting() >= 1);
  assert.equal(await statusOf(inst), 'deleted');
});

test('approved, or declined softly by the issuer (funds): the instrument stays saved', async () => {
  const approved = await authorizeKeeping('4111111111111111', 'holder-ok');
  assert.equal(approved.e.status, 'authorized');
  assert.equal(await statusOf(approved.inst), 'enabled');
  const declined = await authorizeKeeping('4000000000009995', 'holder-declined');
  assert.equal(declined.e.status, 'authorizeFailed');
  assert.equal(await statusOf(declined.inst), 'enabled');
});

for (const [card, what] of [['4000000000009979', 'stolen'], ['4100000000000019', 'suspected fraud'], ['4000000000000069', 'expired']] as const) {
  test(`declined for good by the issuer (${what}): the instrument the authorization kept is taken back`, async () => {
    const { inst, e } = await authorizeKeeping(card, `holder-${what.replace(' ', '-')}`);
    assert.equal(e.status, 'authorizeFailed', JSON.stringify(e.statusHistory?.at(-1)));
    assert.equal(await statusOf(inst), 'deleted', `a card the issuer refused for good (${what}) is not kept to be offered again`);
  });
}

test('a card brought with the authorization (paymentInstrumentData) and storeInstrument: saved by an approval, taken back with a failed challenge', async () => {
  const holder = 'holder-brought';
  const init = await call(gw, 'POST', '/merchant/client/init', { token, body: { workflowCode: 'payment-acceptance', holderReference: holder, workspaceId: gw.merchant.workspaceId, type: 'secureFields' } });
  assert.equal(init.status, 200);
  const data = JSON.parse(Buffer.from(init.body.data, 'base64').toString('latin1'));
  const key = await importSPKI(`-----BEGIN PUBLIC KEY-----\n${data.vaultConfiguration.encryptionPublicKey}\n-----END PUBLIC KEY-----`, 'RSA-OAEP-256');
  const authorize = async (cardNumber: string) => {
    const encryptedData = await new CompactEncrypt(new TextEncoder().encode(JSON.stringify({ cardNumber, expiryMonth: '03', expiryYear: '30', securityCode: '737', holderReference: holder })))
      .setProtectedHeader({ alg: 'RSA-OAEP-256', enc: 'A256CBC-HS512' }).encrypt(key);
    const id = await execution(gw, token, holder);
    const ack = await call(gw, 'POST', `${wf}/${id}/authorize`, { token, body: {
      amount: { value: '10.00', currency: 'EUR' }, returnInfo: { success: 'https://shop.example/return' },
      paymentComposition: [{ paymentMethodCode: 'card', integrationType: 'api', amount: { value: '10.00', currency: 'EUR' }, storeInstrument: true,
        paymentInstrumentData: { encryptedData, vaultProviderConfigId: data.vaultConfiguration.providerConfigId } }],
    } });
    assert.equal(ack.status, 200, JSON.stringify(ack.body));
    return poll(gw, token, id, ['created', 'authorizeRequested']);
  };
  const saved = async () => (await gw.app.storage.db.selectFrom('instruments').innerJoin('cards', 'cards.id', 'instruments.card_id')
    .select('cards.last4').where('instruments.holder_reference', '=', holder).where('instruments.status', '=', 'enabled').execute()).map((r) => r.last4);
  assert.equal((await authorize('4111111111111111')).status, 'authorized');
  assert.deepEqual(await saved(), ['1111'], 'an approval saves the card it brought');
  const challenged = await authorize('4200000000000042');
  assert.equal(challenged.status, 'authorizePending');
  const answered = await fetch(`${challenged.requiredAction.href as string}/result`, { method: 'POST', body: new URLSearchParams({ outcome: 'failed' }), redirect: 'manual' });
  assert.equal(answered.status, 303);
  assert.deepEqual(await saved(), ['1111'], 'the card of the failed challenge is not among the saved ones');
});

const answer = async (href: string, outcome: string) => {
  const r = await fetch(`${href}/result`, { method: 'POST', body: new URLSearchParams({ outcome }), redirect: 'manual' });
  assert.equal(r.status, 303);
};

test('an instrument a second, approved payment used meanwhile stays saved when the first (keeping) payment fails its challenge', async () => {
  const holder = 'holder-reused';
  const inst = await instrument(gw, token, '4200000000000042', holder);
  const first = await execution(gw, token, holder);
  const body1 = authorizeBody(inst, '10.00');
  body1.paymentComposition[0]!.storeInstrument = true;
  assert.equal((await call(gw, 'POST', `${wf}/${first}/authorize`, { token, body: body1 })).status, 200);
  const e1 = await poll(gw, token, first, ['created', 'authorizeRequested']);
  assert.equal(e1.status, 'authorizePending');
  const second = await execution(gw, token, holder);
  assert.equal((await call(gw, 'POST', `${wf}/${second}/authorize`, { token, body: authorizeBody(inst, '20.00') })).status, 200);
  const e2 = await poll(gw, token, second, ['created', 'authorizeRequested']);
  await answer(e2.requiredAction.href as string, 'completed');
  assert.equal((await poll(gw, token, second, ['created', 'authorizeRequested', 'authorizePending'])).status, 'authorized');
  await answer(e1.requiredAction.href as string, 'failed');
  assert.equal((await call(gw, 'GET', `${wf}/${first}`, { token })).body.status, 'authorizeFailed');
  assert.equal(await statusOf(inst), 'enabled', 'the holder paid with this saved card: it is not taken back');
});

test('a cascade whose first PSP\'s issuer declined the card, and whose next PSP erred: the issuer saw it, and the instrument stays saved', async () => {
  const cascaded = await startGateway();
  try {
    const t = await tokenOf(cascaded);
    await configureCascade(cascaded, {
      issuerDeclines: { connector: 'simulator', settings: { declines: [{ category: 'soft', cardSuffixes: ['1111'] }] } },
      errs: { connector: 'simulator', settings: { declines: [{ category: 'error', cardSuffixes: ['1111'] }] } },
    }, ['issuerDeclines', 'errs'], ['soft', 'error']);
    const inst = await instrument(cascaded, t, '4111111111111111', 'holder-cascade');
    const id = await execution(cascaded, t, 'holder-cascade');
    const body = authorizeBody(inst, '10.00');
    body.paymentComposition[0]!.storeInstrument = true;
    assert.equal((await call(cascaded, 'POST', `${wf}/${id}/authorize`, { token: t, body })).status, 200);
    assert.equal((await poll(cascaded, t, id, ['created', 'authorizeRequested', 'authorizePending'])).status, 'authorizeFailed');
    const reasons = (await cascaded.app.storage.db.selectFrom('attempts').select(['seq', 'reason']).orderBy('seq').execute()).map((a) => a.reason);
    assert.deepEqual(reasons, ['soft', 'provider_error'], 'the issuer declined at the first PSP, the next erred');
    assert.equal((await call(cascaded, 'GET', `/payment/instruments/${inst}`, { token: t })).body.status, 'enabled');
  } finally {
    await cascaded.close();
  }
});

test('a card the merchant saved itself (POST /payment/instruments, for a subscription) survives a PSP error on its first charge: no issuer saw it, but its cardholder did not fail anything', async () => {
  const erring = await startGateway();
  try {
    const t = await tokenOf(erring);
    await configureCascade(erring, { errs: { connector: 'simulator', settings: { declines: [{ category: 'error', cardSuffixes: ['1111'] }] } } }, ['errs']);
    const saved = await call(erring, 'POST', '/payment/instruments', {
      token: t, body: { holderReference: 'subscriber-1', paymentMethod: 'card', storeInstrument: true, futureUsage: 'Subscription',
        data: { cardNumber: '4111111111111111', expiryMonth: '03', expiryYear: '30', securityCode: '737', holderName: 'John Doe' } },
    });
    assert.equal(saved.status, 201, JSON.stringify(saved.body));
    const inst = saved.body.id as string;
    const id = await execution(erring, t, 'subscriber-1');
    assert.equal((await call(erring, 'POST', `${wf}/${id}/authorize`, { token: t, body: authorizeBody(inst, '10.00') })).status, 200);
    assert.equal((await poll(erring, t, id, ['created', 'authorizeRequested', 'authorizePending'])).status, 'authorizeFailed');
    assert.deepEqual((await erring.app.storage.db.selectFrom('attempts').select('reason').execute()).map((a) => a.reason), ['provider_error']);
    assert.equal((await call(erring, 'GET', `/payment/instruments/${inst}`, { token: t })).body.status, 'enabled');
  } finally {
    await erring.close();
  }
});
