/**
 * A /v1 payment authenticated by the merchant's own 3-D Secure server (an external MPI): its ECI
 * and cryptogram (`threeDSecure.eci`, `threeDSecure.verificationId`, and the ids that tie them to
 * the authentication) go to the PSP, and nobody challenges the shopper a second time.
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { opp, testCard } from './support/harness.ts';
import { configureCascade } from './support/executions.ts';
import { oppFakeCredentials } from './support/fake-psps/opp.ts';
import { adyenFakeCredentials } from './support/fake-psps/adyen.ts';
import { stripeFakeCredentials } from './support/fake-psps/stripe.ts';
import { suiteCards } from './support/fake-psps/bank.ts';
import { gatewayAtRecordedPsps, sentTo } from './support/recorded-psps.ts';

const psps = await gatewayAtRecordedPsps();
after(() => psps.close());
const { gw, toAcquirer, toAdyen, toStripe } = psps;

const mpi = {
  'threeDSecure.eci': '05', 'threeDSecure.verificationId': 'AAACBllleHchZTBWIGV4AAAAAAA=',
  'threeDSecure.dsTransactionId': 'f25084f0-5b16-4c0a-ae5d-b24808a95e4b', 'threeDSecure.version': '2.2.0',
};
const payment = { amount: '40.00', currency: 'EUR', paymentType: 'PA', shopperResultUrl: 'https://shop.example/back', ...testCard };

test('the merchant\'s own authentication spares the shopper the gateway\'s challenge, and is told as the result (simulator)', async () => {
  await configureCascade(gw, { sim: {} }, ['sim']);
  // Without it, this card is challenged.
  const challenged = await opp(gw, 'POST', '/v1/payments', { ...payment, 'card.number': '4200000000000042' });
  assert.equal(challenged.body.result.code, '000.200.000', JSON.stringify(challenged.body));
  const r = await opp(gw, 'POST', '/v1/payments', { ...payment, 'card.number': '4200000000000042', ...mpi });
  assert.match(r.body.result.code, /^000\.100\.11/, JSON.stringify(r.body));
  assert.equal(r.body.redirect, undefined);
  assert.equal(r.body.resultDetails['3ds.transactionStatus'], 'Y');
  assert.equal(r.body.resultDetails['3ds.version'], '2.2.0');
  assert.equal(r.body.threeDSecure.eci, '05');
  assert.equal(r.body.threeDSecure.verificationId, mpi['threeDSecure.verificationId']);
});

test('an OPP-family acquirer gets the cryptogram and its ids and does not run its own 3-D Secure', async () => {
  await configureCascade(gw, { acq: { connector: 'opp', settings: { baseUrl: toAcquirer.url, ...oppFakeCredentials } } }, ['acq']);
  const r = await opp(gw, 'POST', '/v1/payments', { ...payment, ...mpi });
  assert.match(r.body.result.code, /^000\.100\.11/, JSON.stringify(r.body));
  const form = new URLSearchParams(sentTo(toAcquirer, '/v1/payments'));
  assert.deepEqual(Object.fromEntries([...form].filter(([k]) => k.startsWith('threeDSecure.'))), mpi);
  assert.equal(form.get('shopperResultUrl'), null, 'no return address: the acquirer is not asked to authenticate');
});

test('Adyen gets it as mpiData with the cryptogram, and is told not to authenticate: a challenge card is approved without a redirect', async () => {
  await configureCascade(gw, { ady: { connector: 'adyen', settings: { baseUrl: toAdyen.url, ...adyenFakeCredentials } } }, ['ady']);
  const r = await opp(gw, 'POST', '/v1/payments', { ...payment, 'card.number': suiteCards.challenge, ...mpi });
  assert.match(r.body.result.code, /^000\.100\.11/, JSON.stringify(r.body));
  const body = JSON.parse(sentTo(toAdyen, '/payments')!);
  assert.deepEqual(body.mpiData, { directoryResponse: 'Y', eci: '05', threeDSVersion: '2.2.0', cavv: mpi['threeDSecure.verificationId'], dsTransID: mpi['threeDSecure.dsTransactionId'] });
  assert.deepEqual(body.authenticationData, { attemptAuthentication: 'never' });
});

test('a cryptogram without the ECI of an authentication, or ids without a cryptogram, is refused naming the field, and nothing is made', async () => {
  await configureCascade(gw, { sim: {} }, ['sim']);
  const cases: [Record<string, string>, string][] = [
    [{ ...mpi, 'threeDSecure.eci': '07' }, 'threeDSecure.eci'],
    [{ 'threeDSecure.verificationId': mpi['threeDSecure.verificationId'] }, 'threeDSecure.eci'],
    [{ 'threeDSecure.eci': '05', 'threeDSecure.xid': 'CAACCVVUlwCXUyhQNlSXAAAAAAA=' }, 'threeDSecure.verificationId'],
    [{ ...mpi, 'threeDSecure.verificationId': 'not a cryptogram' }, 'threeDSecure.verificationId'],
    [{ ...mpi, 'threeDSecure.dsTransactionId': '12345' }, 'threeDSecure.dsTransactionId'],
    // Without the authentication's id, or a 3-D Secure 2 id without its version: no PSP takes it whole.
    [{ 'threeDSecure.eci': '05', 'threeDSecure.verificationId': mpi['threeDSecure.verificationId'] }, 'threeDSecure.dsTransactionId'],
    [Object.fromEntries(Object.entries(mpi).filter(([k]) => k !== 'threeDSecure.version')), 'threeDSecure.version'],
    // The ECI is the card scheme's: a Mastercard family ECI on a Visa card authenticates nothing of it.
    [{ ...mpi, 'threeDSecure.eci': '02' }, 'threeDSecure.eci'],
    // A directory server's transaction id is 3-D Secure 2's.
    [{ ...mpi, 'threeDSecure.version': '1.0.2' }, 'threeDSecure.version'],
  ];
  for (const [given, field] of cases) {
    const reference = `mpi-${field}-${Math.random().toString(36).slice(2, 8)}`;
    const r = await opp(gw, 'POST', '/v1/payments', { ...payment, ...given, merchantTransactionId: reference });
    assert.equal(r.status, 400, JSON.stringify(r.body));
    assert.deepEqual(r.body.result.parameterErrors.map((e: { name: string }) => e.name), [field], JSON.stringify(given));
    const found = await opp(gw, 'GET', '/v1/query', { merchantTransactionId: reference });
    assert.equal(found.body.payments?.length ?? 0, 0, 'nothing was made');
  }
  // An ECI alone, as before, is the merchant's to echo: the payment goes on as without it.
  const plain = await opp(gw, 'POST', '/v1/payments', { ...payment, 'threeDSecure.eci': '07' });
  assert.match(plain.body.result.code, /^000\.100\.11/, JSON.stringify(plain.body));
});

test('Stripe gets the cryptogram with its id and version as a result made elsewhere; a 3-D Secure 1 result (an XID) goes as version 1.0.2', async () => {
  await configureCascade(gw, { stripe: { connector: 'stripe', settings: { baseUrl: toStripe.url, ...stripeFakeCredentials } } }, ['stripe']);
  const r = await opp(gw, 'POST', '/v1/payments', { ...payment, 'card.number': suiteCards.challenge, ...mpi });
  assert.match(r.body.result.code, /^000\.100\.11/, JSON.stringify(r.body));
  const form = new URLSearchParams(sentTo(toStripe, '/v1/payment_intents'));
  const at = 'payment_method_options[card][three_d_secure]';
  assert.equal(form.get(`${at}[cryptogram]`), mpi['threeDSecure.verificationId']);
  assert.equal(form.get(`${at}[transaction_id]`), mpi['threeDSecure.dsTransactionId']);
  assert.equal(form.get(`${at}[version]`), '2.2.0');
  const xid = 'CAACCVVUlwCXUyhQNlSXAAAAAAA=';
  const v1 = await opp(gw, 'POST', '/v1/payments', { ...payment, 'threeDSecure.eci': '05', 'threeDSecure.verificationId': mpi['threeDSecure.verificationId'], 'threeDSecure.xid': xid });
  assert.match(v1.body.result.code, /^000\.100\.11/, JSON.stringify(v1.body));
  const v1form = new URLSearchParams(sentTo(toStripe, '/v1/payment_intents'));
  assert.equal(v1form.get(`${at}[transaction_id]`), xid);
  assert.equal(v1form.get(`${at}[version]`), '1.0.2');
});

test('the ECI is checked against the scheme of the card number: a co-badged brand on a Mastercard number takes Mastercard\'s', async () => {
  await configureCascade(gw, { sim: {} }, ['sim']);
  for (const brand of ['CARTEBLEUE', 'MADA', 'MASTER']) {
    const r = await opp(gw, 'POST', '/v1/payments', { ...payment, 'card.number': '5454545454545454', paymentBrand: brand, ...mpi, 'threeDSecure.eci': '02' });
    assert.match(r.body.result.code, /^000\.100\.11/, `${brand}: ${JSON.stringify(r.body)}`);
    const visa = await opp(gw, 'POST', '/v1/payments', { ...payment, 'card.number': '5454545454545454', paymentBrand: brand, ...mpi });
    assert.deepEqual(visa.body.result.parameterErrors?.map((e: { name: string }) => e.name), ['threeDSecure.eci'], `${brand} with Visa's 05`);
  }
});
