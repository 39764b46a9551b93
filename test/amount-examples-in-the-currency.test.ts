/**
 * A refused amount names an example the same check takes, in the currency it was refused in. The
 * payment search (admin API and the dashboard's list) said "such as 10.00" and the executions
 * dialect "such as "12.50"" whatever the currency: in JPY (no decimals) and KWD (three) an operator
 * or a merchant who followed the example was refused again.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { startGateway, type Gateway } from './support/harness.ts';
import { admin } from './support/webhooks.ts';
import { signIn } from './support/dashboard.ts';
import { call, execution, instrument, tokenOf, wf } from './support/executions.ts';

let gw: Gateway;
let token: string;
before(async () => { gw = await startGateway(); token = await tokenOf(gw); });
after(() => gw?.close());

const exampleIn = (message: string) => /such as (\S+?)\.?$/.exec(message)?.[1];

for (const [currency, wrong] of [['JPY', '10.5'], ['KWD', '10.1234'], ['EUR', '10.123']] as const) {
  test(`payment search: the example a refused ${currency} amount filter names is one the filter takes`, async () => {
    const refused = await admin(gw, 'GET', `/payments?currency=${currency}&min=${wrong}`);
    assert.equal(refused.status, 400);
    const example = exampleIn(refused.body.error.message);
    assert.ok(example, refused.body.error.message);
    const again = await admin(gw, 'GET', `/payments?currency=${currency}&min=${encodeURIComponent(example)}`);
    assert.equal(again.status, 200, `told "${refused.body.error.message}", the operator types ${example}: ${JSON.stringify(again.body)}`);
  });
}

test('dashboard payment list: a refused JPY "Amount from" names an example the list takes', async () => {
  assert.ok((await gw.app.dashboard.addUser({ email: 'op@example.com', role: 'operator', merchantId: undefined, password: 'a long test password' })).ok);
  const s = await signIn(gw.url, 'op@example.com', 'a long test password');
  const get = async (min: string) => fetch(`${gw.url}/dashboard/payments?currency=JPY&min=${encodeURIComponent(min)}`, { headers: { cookie: s.cookie } }).then((r) => r.text());
  const m = /must be an amount in JPY such as ([0-9.,]+?)\.?</.exec(await get('10.5'));
  assert.ok(m, 'the refusal is shown');
  assert.doesNotMatch(await get(m[1]!), /must be an amount in JPY/, `the example ${m[1]} is refused in turn`);
});

const authorize = async (value: string, currency: string) => {
  const id = await execution(gw, token, 'holder-1');
  const ins = await instrument(gw, token, '4111111111111111', 'holder-1');
  const amount = { value, currency };
  return call(gw, 'POST', `${wf}/${id}/authorize`, { token, body: { amount, returnInfo: { success: 'https://shop.example/return' },
    paymentComposition: [{ paymentMethodCode: 'card', integrationType: 'api', amount, storeInstrument: false, paymentInstrumentId: ins }] } });
};

for (const [currency, wrong] of [['JPY', '100.00'], ['KWD', '1.25'], ['EUR', '1.5']] as const) {
  test(`executions: the example a refused ${currency} amount.value names is an amount the field takes`, async () => {
    const refused = await authorize(wrong, currency);
    assert.equal(refused.status, 400);
    const detail: string = refused.body.errors[0].detail;
    assert.match(detail, /^amount\.value: /);
    const example = /such as "([^"]+)"/.exec(detail)?.[1];
    assert.ok(example, detail);
    const again = await authorize(example, currency);
    assert.equal(again.status, 200, `told ${JSON.stringify(detail)}, the merchant sends ${example} ${currency}: ${JSON.stringify(again.body)}`);
  });
}
