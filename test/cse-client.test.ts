import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { PayrailsCSE } from '@payrails/web-cse';
import { startGateway, type Gateway } from './support/harness.ts';
import { authorizeBody, call, execution, poll, tokenOf, wf } from './support/executions.ts';

/** The public client-side-encryption library (npm `@payrails/web-cse`), used unchanged as an outside client. */
let gw: Gateway;
let token: string;
before(async () => {
  gw = await startGateway();
  token = await tokenOf(gw);
});
after(async () => { await gw?.close(); });

const card = { cardNumber: '4111111111111111', expiryMonth: '03', expiryYear: '30', securityCode: '737', holderName: 'John Doe' };

async function clientInit(holderReference: string, extra: Record<string, unknown> = {}) {
  const r = await call(gw, 'POST', '/merchant/client/init', { token, body: { type: 'tokenization', holderReference, workflowCode: 'payment-acceptance', ...extra } });
  assert.equal(r.status, 200, JSON.stringify(r.body));
  return r.body as { version: string; data: string };
}

describe('client/init and the public CSE library', () => {
  test('client/init answers {version, data}: base64 ASCII JSON with a scoped token, vault links and an RSA public key', async () => {
    const init = await clientInit('holder-cse-1');
    const raw = Buffer.from(init.data, 'base64').toString('latin1');
    assert.match(raw, /^[\x20-\x7e]+$/, 'ASCII only');
    const data = JSON.parse(raw);
    assert.equal(data.holderReference, 'holder-cse-1');
    assert.equal(data.tokenization.links.tokenize.href, `${gw.url}/public/payment/instruments/tokenize`);
    assert.equal(data.vaultConfiguration.links.saveInstrument.href, `${gw.url}/public/payment/instruments`);
    assert.equal(data.vaultConfiguration.encryptionPublicKey, data.tokenization.publicKey);
    const { createPublicKey } = await import('node:crypto');
    const key = createPublicKey({ key: Buffer.from(data.tokenization.publicKey, 'base64'), format: 'der', type: 'spki' });
    assert.equal(key.asymmetricKeyDetails?.modulusLength, 2048);
    // The browser token is not a merchant token: the merchant API refuses it.
    const asMerchant = await call(gw, 'GET', `${wf}?limit=1`, { token: data.token });
    assert.equal(asMerchant.status, 401);
    assert.equal(data.execution, undefined, 'no execution unless the request describes one');
    const withExecution = JSON.parse(Buffer.from((await clientInit('holder-cse-1', { merchantReference: 'order-cse-x' })).data, 'base64').toString('latin1'));
    assert.equal(withExecution.execution.status, 'created');
    assert.equal(withExecution.execution.merchantReference, 'order-cse-x');
  });

  test('a card whose optional holder name and security code were left empty in the form is tokenized: they are absent, not wrong', async () => {
    const cse = PayrailsCSE.init(await clientInit('holder-cse-empty'));
    const res = await cse.tokenize({ ...card, holderName: '', securityCode: '' }, { storeInstrument: false });
    const body = await res.json() as any;
    assert.equal(res.status, 201, JSON.stringify(body));
    assert.equal(body.data.holderName, null);
    const blank = await (await PayrailsCSE.init(await clientInit('holder-cse-blank')).tokenize({ ...card, holderName: '   ' }, { storeInstrument: false })).json() as any;
    assert.equal(blank.data.holderName, null, JSON.stringify(blank));
  });

  test('tokenize with @payrails/web-cse, then authorize the instrument through an execution', async () => {
    const cse = PayrailsCSE.init(await clientInit('holder-cse-2'));
    const res = await cse.tokenize(card, { storeInstrument: true, futureUsage: 'CardOnFile' });
    const body = await res.json() as any;
    assert.equal(res.status, 201, JSON.stringify(body));
    assert.deepEqual({ bin: body.data.bin, suffix: body.data.suffix, network: body.data.network, status: body.status }, { bin: '411111', suffix: '1111', network: 'visa', status: 'enabled' });
    assert.equal(body.holderReference, 'holder-cse-2');
    assert.doesNotMatch(JSON.stringify(body), /4111111111111111/);
    // The code as a value of its own: as a bare substring it can turn up inside a random id.
    const leaves = (v: unknown): unknown[] => (v !== null && typeof v === 'object' ? Object.values(v).flatMap(leaves) : [v]);
    assert.ok(!leaves(body).some((v) => String(v) === '737'), 'no field carries the CVV');
    const id = await execution(gw, token, 'holder-cse-2');
    const ack = await call(gw, 'POST', `${wf}/${id}/authorize`, { token, body: authorizeBody(body.id) });
    assert.equal(ack.status, 200, JSON.stringify(ack.body));
    const done = await poll(gw, token, id, ['created', 'authorizeRequested']);
    assert.equal(done.status, 'authorized');
  });

  test('an ephemeral instrument is spent by its first authorization', async () => {
    const cse = PayrailsCSE.init(await clientInit('holder-cse-3'));
    const instrument = await (await cse.tokenize(card, { storeInstrument: false })).json() as any;
    assert.equal(instrument.status, 'transient');
    const first = await execution(gw, token, 'holder-cse-3');
    assert.equal((await call(gw, 'POST', `${wf}/${first}/authorize`, { token, body: authorizeBody(instrument.id) })).status, 200);
    assert.equal((await poll(gw, token, first, ['created', 'authorizeRequested'])).status, 'authorized');
    const second = await execution(gw, token, 'holder-cse-3');
    const again = await call(gw, 'POST', `${wf}/${second}/authorize`, { token, body: authorizeBody(instrument.id) });
    assert.equal(again.status, 400);
    assert.equal((await call(gw, 'GET', `/payment/instruments/${instrument.id}`, { token })).body.status, 'deleted');
  });

  test('the browser token is for one holder, tokenization only; bad ciphertext and wrong algorithms are refused', async () => {
    const init = await clientInit('holder-cse-4');
    const data = JSON.parse(Buffer.from(init.data, 'base64').toString('latin1'));
    const post = (body: unknown, headers: Record<string, string> = {}) => fetch(`${gw.url}/public/payment/instruments/tokenize`, {
      method: 'POST', headers: { authorization: `Bearer ${data.token}`, 'content-type': 'application/json', 'x-idempotency-key': crypto.randomUUID(), ...headers }, body: JSON.stringify(body),
    });
    const cse = PayrailsCSE.init(init);
    const jwe = await cse.encryptCardData({ card, data: { holderReference: 'holder-cse-4' } });
    const other = await post({ encryptedInstrumentDetails: jwe, id: data.tokenization.id, holderReference: 'someone-else' });
    assert.equal(other.status, 403);
    // The ciphertext's first character changed: all six of its bits are data (a last character's low
    // bits may be padding, which decodes to the same bytes: a tamper that changes nothing).
    const forged = jwe.split('.'); forged[3] = (forged[3]!.startsWith('A') ? 'B' : 'A') + forged[3]!.slice(1);
    const tampered = await post({ encryptedInstrumentDetails: forged.join('.'), id: data.tokenization.id });
    assert.equal(tampered.status, 400);
    assert.equal(((await tampered.json()) as any).errors[0].code, 'request.param.invalid');
    const { CompactEncrypt, importSPKI } = await import('jose');
    const pem = `-----BEGIN PUBLIC KEY-----\n${data.tokenization.publicKey}\n-----END PUBLIC KEY-----`;
    const weak = await new CompactEncrypt(new TextEncoder().encode(JSON.stringify(card)))
      .setProtectedHeader({ alg: 'RSA-OAEP', enc: 'A128GCM' }).encrypt(await importSPKI(pem, 'RSA-OAEP'));
    assert.equal((await post({ encryptedInstrumentDetails: weak })).status, 400);
    const noToken = await fetch(`${gw.url}/public/payment/instruments/tokenize`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ encryptedInstrumentDetails: jwe }) });
    assert.equal(noToken.status, 401);
    // An unregistered origin gets no CORS grant and a refusal.
    const foreign = await post({ encryptedInstrumentDetails: jwe }, { origin: 'https://evil.example' });
    assert.equal(foreign.status, 403);
    assert.equal(foreign.headers.get('access-control-allow-origin'), null);
    await gw.app.merchants.addOrigin(gw.merchant.merchantId, 'https://shop.example');
    const registered = await post({ encryptedInstrumentDetails: jwe }, { origin: 'https://shop.example' });
    assert.equal(registered.status, 201);
    assert.equal(registered.headers.get('access-control-allow-origin'), 'https://shop.example');
    const saved = await fetch(`${gw.url}/public/payment/instruments`, { headers: { authorization: `Bearer ${data.token}` } });
    assert.deepEqual(((await saved.json()) as any).results, [], 'ephemeral instruments are not saved cards');
  });

  test('a tokenize sent again under its idempotency key answers the same instrument, stored once with its answer', async () => {
    const init = await clientInit('holder-cse-replay');
    const data = JSON.parse(Buffer.from(init.data, 'base64').toString('latin1'));
    const jwe = await PayrailsCSE.init(init).encryptCardData({ card, data: { holderReference: 'holder-cse-replay' } });
    const key = crypto.randomUUID();
    const send = () => fetch(`${gw.url}/public/payment/instruments/tokenize`, {
      method: 'POST', headers: { authorization: `Bearer ${data.token}`, 'content-type': 'application/json', 'x-idempotency-key': key },
      body: JSON.stringify({ encryptedInstrumentDetails: jwe, id: data.tokenization.id }),
    });
    const first = await send();
    const firstBody = await first.json() as any;
    assert.equal(first.status, 201, JSON.stringify(firstBody));
    const again = await send();
    assert.equal(again.status, 201);
    assert.equal(again.headers.get('idempotent-replayed'), 'true');
    assert.deepEqual(await again.json(), firstBody);
    const stored = await gw.app.storage.db.selectFrom('idempotency_keys').select(['state', 'response_body']).where('key', '=', key).executeTakeFirstOrThrow();
    assert.deepEqual([stored.state, JSON.parse(stored.response_body!)], ['done', firstBody]);
    const rows = await gw.app.storage.db.selectFrom('instruments').select('id').where('holder_reference', '=', 'holder-cse-replay').execute();
    assert.equal(rows.length, 1);
  });

  test('a tokenize key answers only its own holder: another holder\'s browser sending the same body under it gets a conflict, not that holder\'s instrument', async () => {
    const send = (token: string, body: string, key: string) => fetch(`${gw.url}/public/payment/instruments/tokenize`, {
      method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', 'x-idempotency-key': key }, body,
    });
    const x = JSON.parse(Buffer.from((await clientInit('holder-cse-x')).data, 'base64').toString('latin1'));
    const y = JSON.parse(Buffer.from((await clientInit('holder-cse-y')).data, 'base64').toString('latin1'));
    const jwe = await PayrailsCSE.init(await clientInit('holder-cse-x')).encryptCardData({ card, data: { holderReference: 'holder-cse-x' } });
    const key = crypto.randomUUID();
    const body = JSON.stringify({ encryptedInstrumentDetails: jwe, id: x.tokenization.id });
    const first = await send(x.token, body, key);
    assert.equal(first.status, 201);
    const firstBody = await first.json() as any;
    const other = await send(y.token, body, key);
    const otherBody = await other.text();
    assert.equal(other.status, 409, otherBody);
    assert.ok(!otherBody.includes(firstBody.id), 'another holder\'s browser was answered that holder\'s instrument');
  });

  test('each merchant has its own encryption key: card data encrypted for one merchant cannot be tokenized into another', async () => {
    const victim = PayrailsCSE.init(await clientInit('holder-cse-6'));
    const jwe = await victim.encryptCardData({ card, data: { holderReference: 'holder-cse-6' } });
    const other = await gw.app.merchants.create({ name: 'Other CSE' });
    const otherToken = await tokenOf({ url: gw.url, merchant: other } as any);
    const r = await call(gw, 'POST', '/merchant/client/init', { token: otherToken, body: { type: 'tokenization', holderReference: 'holder-cse-6' } });
    assert.equal(r.status, 200, JSON.stringify(r.body));
    const data = JSON.parse(Buffer.from(r.body.data, 'base64').toString('latin1'));
    const mine = JSON.parse(Buffer.from((await clientInit('holder-cse-6')).data, 'base64').toString('latin1'));
    assert.notEqual(data.tokenization.publicKey, mine.tokenization.publicKey, 'a key of its own');
    assert.notEqual(data.tokenization.id, mine.tokenization.id);
    const replayed = await fetch(`${gw.url}/public/payment/instruments/tokenize`, {
      method: 'POST', headers: { authorization: `Bearer ${data.token}`, 'content-type': 'application/json', 'x-idempotency-key': crypto.randomUUID() },
      body: JSON.stringify({ encryptedInstrumentDetails: jwe, id: data.tokenization.id, storeInstrument: true }),
    });
    const body = await replayed.json() as any;
    assert.equal(replayed.status, 400, JSON.stringify(body));
    assert.equal(body.errors[0].code, 'request.param.invalid');
    const saved = await fetch(`${gw.url}/public/payment/instruments`, { headers: { authorization: `Bearer ${data.token}` } });
    assert.deepEqual(((await saved.json()) as any).results, [], 'nothing was saved for the other merchant');
    // The merchant the card was encrypted for still takes it.
    assert.equal((await victim.tokenize(card, { storeInstrument: false })).status, 201);
  });

  test('tokenization is rate-limited per holder', async () => {
    const init = await clientInit('holder-cse-5');
    const cse = PayrailsCSE.init(init);
    const statuses: number[] = [];
    for (let i = 0; i < 32; i++) statuses.push((await cse.tokenize({ ...card, securityCode: undefined }, { storeInstrument: false })).status);
    assert.deepEqual(statuses.slice(0, 30), Array(30).fill(201));
    assert.deepEqual(statuses.slice(30), [429, 429]);
  });

  test('past the limit, a tokenize sent again under its idempotency key still gets its stored answer; a new one is refused and leaves its key free', async () => {
    const init = await clientInit('holder-cse-limit-replay');
    const data = JSON.parse(Buffer.from(init.data, 'base64').toString('latin1'));
    const jwe = await PayrailsCSE.init(init).encryptCardData({ card, data: { holderReference: 'holder-cse-limit-replay' } });
    const send = (key: string) => fetch(`${gw.url}/public/payment/instruments/tokenize`, {
      method: 'POST', headers: { authorization: `Bearer ${data.token}`, 'content-type': 'application/json', 'x-idempotency-key': key },
      body: JSON.stringify({ encryptedInstrumentDetails: jwe, id: data.tokenization.id }),
    });
    const first = crypto.randomUUID();
    const answered = await send(first);
    const firstBody = await answered.json();
    assert.equal(answered.status, 201);
    for (let i = 1; i < 30; i++) assert.equal((await send(crypto.randomUUID())).status, 201);
    const fresh = crypto.randomUUID();
    assert.equal((await send(fresh)).status, 429, 'the limit holds for new work');
    const again = await send(first);
    assert.equal(again.status, 201, 'a retry of an answered request is not new work');
    assert.equal(again.headers.get('idempotent-replayed'), 'true');
    assert.deepEqual(await again.json(), firstBody);
    const refusedKey = await gw.app.storage.db.selectFrom('idempotency_keys').select('state').where('key', '=', fresh).executeTakeFirst();
    assert.equal(refusedKey, undefined, 'the refused request holds no key');
  });
});
