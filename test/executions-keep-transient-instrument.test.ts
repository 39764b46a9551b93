/**
 * `paymentComposition[0].storeInstrument: true` with an instrument named by its id keeps a
 * transient instrument as a saved one: the authorization does not spend it and later ones can
 * charge it. Without it the transient one is spent.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { postgresAvailable, startGateway, type Gateway } from './support/harness.ts';
import { authorizeBody, call, execution, poll, tokenOf, wf } from './support/executions.ts';

let gw: Gateway;
before(async () => { gw = await startGateway(); });
after(() => gw.close());

async function transientInstrument(token: string, holderReference: string): Promise<string> {
  const r = await call(gw, 'POST', '/payment/instruments', {
    token, body: { holderReference, paymentMethod: 'card', data: { cardNumber: '4111111111111111', expiryMonth: '03', expiryYear: '30', securityCode: '737' } },
  });
  assert.equal(r.status, 201, JSON.stringify(r.body));
  assert.equal(r.body.status, 'transient');
  return r.body.id;
}

async function authorize(token: string, holder: string, instrumentId: string, storeInstrument: boolean) {
  const id = await execution(gw, token, holder);
  const body = authorizeBody(instrumentId, '10.00');
  body.paymentComposition[0]!.storeInstrument = storeInstrument;
  const ack = await call(gw, 'POST', `${wf}/${id}/authorize`, { token, body });
  return { ack, id };
}

test('a transient instrument authorized with storeInstrument true is kept: enabled, and charged again', async () => {
  const token = await tokenOf(gw);
  const instrumentId = await transientInstrument(token, 'keeper');
  const first = await authorize(token, 'keeper', instrumentId, true);
  assert.equal(first.ack.status, 200, JSON.stringify(first.ack.body));
  assert.equal((await poll(gw, token, first.id, ['created', 'authorizeRequested'])).status, 'authorized');
  assert.equal((await call(gw, 'GET', `/payment/instruments/${instrumentId}`, { token })).body.status, 'enabled');
  const second = await authorize(token, 'keeper', instrumentId, false);
  assert.equal(second.ack.status, 200, JSON.stringify(second.ack.body));
  assert.equal((await poll(gw, token, second.id, ['created', 'authorizeRequested'])).status, 'authorized');
  assert.equal((await call(gw, 'GET', `/payment/instruments/${instrumentId}`, { token })).body.status, 'enabled', 'a saved one stays saved');
});

test('without storeInstrument the transient instrument is spent by its authorization', async () => {
  const token = await tokenOf(gw);
  const instrumentId = await transientInstrument(token, 'spender');
  const first = await authorize(token, 'spender', instrumentId, false);
  assert.equal(first.ack.status, 200, JSON.stringify(first.ack.body));
  assert.equal((await call(gw, 'GET', `/payment/instruments/${instrumentId}`, { token })).body.status, 'deleted');
  const again = await authorize(token, 'spender', instrumentId, true);
  assert.equal(again.ack.status, 400, JSON.stringify(again.ack.body));
  assert.match(again.ack.body.errors[0].detail, /^paymentComposition\[0\]\.paymentInstrumentId: no such instrument/);
});

// PostgreSQL: two requests' transactions truly overlap there (the embedded store runs them one after the other).
const pg = await postgresAvailable();
test('a keeping and a spending authorization racing on one transient instrument: never both accepted with the instrument gone (PostgreSQL)', { skip: !pg && 'PostgreSQL unreachable' }, async () => {
  const node = await startGateway({ store: 'postgres' });
  try {
    const token = await tokenOf(node);
    const outcomes: string[] = [];
    for (let round = 0; round < 20; round++) {
      const holder = `racer-${round}`;
      const made = await call(node, 'POST', '/payment/instruments', {
        token, body: { holderReference: holder, paymentMethod: 'card', data: { cardNumber: '4111111111111111', expiryMonth: '03', expiryYear: '30', securityCode: '737' } },
      });
      assert.equal(made.status, 201, JSON.stringify(made.body));
      const [keepId, spendId] = [await execution(node, token, holder), await execution(node, token, holder)];
      const keepBody = authorizeBody(made.body.id, '10.00');
      keepBody.paymentComposition[0]!.storeInstrument = true;
      const [kept, spent] = await Promise.all([
        call(node, 'POST', `${wf}/${keepId}/authorize`, { token, body: keepBody }),
        call(node, 'POST', `${wf}/${spendId}/authorize`, { token, body: authorizeBody(made.body.id, '10.00') }),
      ]);
      const status = (await call(node, 'GET', `/payment/instruments/${made.body.id}`, { token })).body.status;
      outcomes.push(`keep ${kept.status} spend ${spent.status} instrument ${status}`);
    }
    // Both accepted is right only when the spending one read the instrument saved already (it stays
    // enabled); accepted with the instrument deleted, one transient instrument paid for two.
    assert.deepEqual(outcomes.filter((o) => o.startsWith('keep 200 spend 200') && o.endsWith('deleted')), [], outcomes.join('; '));
  } finally {
    await node.close();
  }
});
