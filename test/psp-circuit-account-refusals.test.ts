/**
 * What an OPP-family acquirer's refusal says about the account, for its circuit breaker and for the
 * merchant:
 * - `600.200.500` ("not configured for this currency or sub type") is the PSP working, refusing one
 *   currency or brand: counted as the provider's failure, two GBP payments opened the circuit of an
 *   account that takes EUR, and EUR payments then skipped it. It is `not_supported` now: the cascade
 *   moves on, and the circuit does not count it.
 * - `800.900.300` ("invalid authentication information": the gateway's access token for the account
 *   revoked or mistyped) refuses every payment: read as the card's soft decline, it reset the
 *   circuit's count at each payment, so it never opened, and the merchant was answered the
 *   acquirer's code, which reads as its own credentials being wrong. It is the provider's failure
 *   now, and the merchant is answered `900.100.100`.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { opp, startGateway, testCard, type Gateway } from './support/harness.ts';
import { configureCascade } from './support/executions.ts';
import { pspProxy, type PspProxy, type Routing } from './support/psp-proxy.ts';

let a: Gateway;
let b: Gateway;
let proxy: PspProxy;

before(async () => {
  b = await startGateway();
  // The acquirer's entity takes EUR only: a GBP payment is refused as not configured.
  proxy = await pspProxy(b.url, (call): Routing => call.method === 'POST' && new URLSearchParams(call.body).get('currency') === 'GBP'
    ? { answer: { status: 400, json: { result: { code: '600.200.500', description: 'Invalid payment data. You are not configured for this currency or sub type (country or brand)' } } } }
    : {});
  a = await startGateway({ env: { SWITCHYARD_BREAKER_FAILURES: '2', SWITCHYARD_BREAKER_OPEN_MS: '60000' } });
});
after(async () => { await a?.close(); await b?.close(); await proxy?.close(); });

const accountId = async (name: string) => (await a.app.storage.db.selectFrom('psp_accounts').select('id')
  .where('merchant_id', '=', a.merchant.merchantId).where('name', '=', name).executeTakeFirstOrThrow()).id;
const charge = (currency: string) => opp(a, 'POST', '/v1/payments', { ...testCard, amount: '7.00', currency, paymentType: 'DB' });

test('refusals of an unconfigured currency do not take the account out of the cascade for the currencies it takes', async () => {
  await configureCascade(a, { acq: { connector: 'opp', settings: { baseUrl: proxy.url, accessToken: b.merchant.accessToken, entityId: b.merchant.entityId } }, sim: {} }, ['acq', 'sim']);
  for (let i = 0; i < 2; i++) assert.equal((await charge('GBP')).body.result.code, '000.100.110', 'the GBP payment moved on to the account that takes it');
  const circuit = a.app.breakers.view(await accountId('acq'));
  const eurBefore = proxy.calls.filter((c) => new URLSearchParams(c.body).get('currency') === 'EUR').length;
  assert.equal((await charge('EUR')).body.result.code, '000.100.110');
  const eurSent = proxy.calls.filter((c) => new URLSearchParams(c.body).get('currency') === 'EUR').length - eurBefore;
  assert.equal(circuit.state, 'closed', `two "not configured for GBP" answers opened the account's circuit: ${JSON.stringify(circuit)}`);
  assert.equal(eurSent, 1, 'the EUR payment went to the account that takes EUR, not past it');
});

test('an OPP account whose access token the acquirer refuses is a failing account: its circuit opens', async () => {
  await configureCascade(a, { bad: { connector: 'opp', settings: { baseUrl: b.url, accessToken: 'revoked-token-0000000000', entityId: b.merchant.entityId } }, sim: {} }, ['bad', 'sim']);
  for (let i = 0; i < 2; i++) assert.equal((await charge('EUR')).body.result.code, '000.100.110');
  const reasons = (await a.app.storage.db.selectFrom('attempts').select(['reason', 'result_code']).where('account_name', '=', 'bad').execute()).map((x) => `${x.reason} ${x.result_code}`);
  assert.deepEqual(reasons, ['provider_error 800.900.300', 'provider_error 800.900.300'], 'the acquirer refused the gateway\'s credentials, not the card');
  assert.equal(a.app.breakers.view(await accountId('bad')).state, 'open', `two refusals of the account's credentials in a row: ${JSON.stringify(a.app.breakers.view(await accountId('bad')))}`);
});

test('a merchant whose only account\'s credentials the acquirer refuses is not told its own credentials are wrong', async () => {
  await configureCascade(a, { refused: { connector: 'opp', settings: { baseUrl: b.url, accessToken: 'revoked-token-1111111111', entityId: b.merchant.entityId } } }, ['refused']);
  const r = await charge('EUR');
  assert.equal(r.body.result.code, '900.100.100', JSON.stringify(r.body.result));
});
