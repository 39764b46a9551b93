/**
 * Input the executions dialect could only guess at is refused by name: a string holding half of a
 * surrogate pair, or a body whose bytes are not UTF-8 (either would be kept as U+FFFD, so two
 * holders would become one and share cards),
 * a `meta` that patches would grow past what one request may carry, and a list filter the server
 * does not know (ignored, it would list every execution); and, for a merchant that registered its
 * origins, a return URL elsewhere (where the shopper's browser would be sent after the hosted pages).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startGateway, postgresAvailable, type Gateway } from './support/harness.ts';
import { authorizeBody, call, tokenOf, wf, execution, instrument } from './support/executions.ts';

for (const store of ['sqlite', 'postgres'] as const) {
  describe(`text that is not well-formed (${store})`, { skip: store === 'postgres' && !(await postgresAvailable()) ? 'no PostgreSQL' : undefined }, () => {
    let gw: Gateway;
    let token: string;
    before(async () => { gw = await startGateway({ store }); token = await tokenOf(gw); });
    after(async () => { await gw?.close(); });

    test('a holderReference holding half of a surrogate pair is refused by name wherever a holder is named; nothing is stored', async () => {
      const card = { cardNumber: '4111111111111111', expiryMonth: '03', expiryYear: '30' };
      const instrument = await call(gw, 'POST', '/payment/instruments', { token, body: { holderReference: 'shopper-\ud800', storeInstrument: true, data: card } });
      const created = await call(gw, 'POST', wf, { token, body: { holderReference: 'shopper-\udc00' } });
      const init = await call(gw, 'POST', '/merchant/client/init', { token, body: { holderReference: 'shopper-\udc00' } });
      const meta = await call(gw, 'POST', wf, { token, body: { meta: { 'note\udfff': 'x' } } });
      for (const [r, field] of [[instrument, 'holderReference'], [created, 'holderReference'], [init, 'holderReference'], [meta, 'note']] as const) {
        assert.equal(r.status, 400, JSON.stringify(r.body));
        assert.equal(r.body.errors[0].code, 'request.param.invalid');
        assert.match(r.body.errors[0].detail, new RegExp(`^${field}.*surrogate`));
      }
      const stored = await gw.app.storage.db.selectFrom('executions').select('id').where('holder_reference', 'like', 'shopper-%').execute();
      assert.deepEqual(stored, []);
      // A whole pair (an emoji) is text like any other.
      assert.equal((await call(gw, 'POST', wf, { token, body: { holderReference: 'shopper-\ud83d\ude00' } })).status, 201);
    });

    test('a body whose bytes are not UTF-8 (a Latin-1 holder reference) is refused; two such holders are never one', async () => {
      const send = async (path: string, latin1: string) => {
        const bytes = Buffer.concat([Buffer.from('{"holderReference":"'), Buffer.from(latin1, 'latin1'), Buffer.from('"}')]);
        const r = await fetch(gw.url + path, { method: 'POST', body: bytes, headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', 'x-idempotency-key': crypto.randomUUID() } });
        return { status: r.status, body: await r.json() as any };
      };
      for (const [path, holder] of [[wf, 'caf\u00e9-1'], [wf, 'caf\u00e8-1'], ['/merchant/client/init', 'caf\u00e9-2']] as const) {
        const r = await send(path, holder);
        assert.equal(r.status, 400, JSON.stringify(r.body));
        assert.equal(r.body.errors[0].code, 'request.malformed');
        assert.match(r.body.errors[0].detail, /^body: is not UTF-8 text/);
      }
      const stored = await gw.app.storage.db.selectFrom('executions').select('holder_reference').where('holder_reference', 'like', 'caf%').execute();
      assert.deepEqual(stored, []);
      // The same text in UTF-8 is taken as sent.
      const ok = await call(gw, 'POST', wf, { token, body: { holderReference: 'caf\u00e9-1' } });
      assert.equal(ok.status, 201);
      assert.equal(ok.body.holderReference, 'caf\u00e9-1');
    });
  });
}

describe('meta, list filters and return URLs', () => {
  let gw: Gateway;
  let token: string;
  before(async () => { gw = await startGateway(); token = await tokenOf(gw); });
  after(async () => { await gw?.close(); });

  test('patches cannot grow meta past what one request may carry: the patch that would is refused by name and changes nothing', async () => {
    assert.equal((await call(gw, 'POST', wf, { token, body: { meta: { a: 'x'.repeat(70_000) } } })).status, 413);
    const id = await execution(gw, token, 'holder-meta');
    assert.equal((await call(gw, 'PATCH', `${wf}/${id}`, { token, body: { meta: { k0: 'x'.repeat(40_000) } } })).status, 200);
    const refused = await call(gw, 'PATCH', `${wf}/${id}`, { token, body: { meta: { k1: 'x'.repeat(40_000) } } });
    assert.equal(refused.status, 400, JSON.stringify(refused.body).slice(0, 300));
    assert.equal(refused.body.errors[0].code, 'request.param.invalid');
    assert.match(refused.body.errors[0].detail, /^meta: .*64 KiB/);
    const e = await call(gw, 'GET', `${wf}/${id}`, { token });
    assert.equal(e.body.meta.k0.length, 40_000);
    assert.equal(e.body.meta.k1, undefined, 'the refused patch changed nothing');
    // Replacing a key keeps the sum within the limit: taken.
    assert.equal((await call(gw, 'PATCH', `${wf}/${id}`, { token, body: { meta: { k0: null, k1: 'x'.repeat(40_000) } } })).status, 200);
  });

  test('a list filter the server does not know is refused naming it, not ignored (a misspelt filter would list every execution)', async () => {
    await execution(gw, token, 'holder-x', 'order-one');
    const r = await call(gw, 'GET', `${wf}?filter[merchantRefrence]=order-one`, { token });
    assert.equal(r.status, 400, `answered ${r.status} with ${r.body.results?.length} executions`);
    assert.equal(r.body.errors[0].code, 'request.param.invalid');
    assert.match(r.body.errors[0].detail, /^filter\[merchantRefrence\]: is not a parameter of this list/);
    const known = await call(gw, 'GET', `${wf}?filter[merchantReference]=order-one&limit=5`, { token });
    assert.equal(known.status, 200);
    assert.equal(known.body.results.length, 1);
  });

  test('returnInfo outside the merchant\'s registered origins is refused naming the URL\'s field, and nothing is authorized; on them, or with none registered, it is taken', async () => {
    const inst = await instrument(gw, token, '4200000000000042');
    const open = await execution(gw, token);
    // No origin registered yet: any https URL.
    assert.equal((await call(gw, 'POST', `${wf}/${open}/authorize`, { token, body: { ...authorizeBody(inst), returnInfo: { success: 'https://anywhere.example/ok' } } })).status, 200);

    await gw.app.merchants.addOrigin(gw.merchant.merchantId, 'https://shop.example');
    const inst2 = await instrument(gw, token, '4200000000000042');
    const id = await execution(gw, token);
    const r = await call(gw, 'POST', `${wf}/${id}/authorize`, { token, body: { ...authorizeBody(inst2), returnInfo: { success: 'https://shop.example/ok', cancel: 'https://evil.example/phish' } } });
    assert.equal(r.status, 400, JSON.stringify(r.body).slice(0, 300));
    assert.equal(r.body.errors[0].code, 'request.param.invalid');
    assert.match(r.body.errors[0].detail, /^returnInfo\.cancel: must be on one of the merchant's registered origins \(https:\/\/shop\.example\)/);
    assert.equal((await call(gw, 'GET', `${wf}/${id}`, { token })).body.status, 'created', 'nothing authorized');
    assert.equal((await call(gw, 'POST', `${wf}/${id}/authorize`, { token, body: { ...authorizeBody(inst2), returnInfo: { success: 'https://shop.example/ok' } } })).status, 200);
  });
});
