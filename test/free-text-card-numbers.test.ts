/**
 * A full card number typed into a field that is not a card field: refused where the field is human
 * text, masked where it is a reference or merchant data — and, either way, never in a response, a
 * webhook, a log line or the database in plain text. Both dialects, both stores.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { readFileSync } from 'node:fs';
import { opp, pay, postgresAvailable, startGateway, testCard, type Gateway } from './support/harness.ts';
import { call, poll, tokenOf, wf } from './support/executions.ts';
import { admin, closeServer, freePort, listen, loopbackAllow, recordRequests } from './support/webhooks.ts';
import { createReceiver } from '../examples/webhooks/opp-receiver.ts';
import { assertNoCardData, assertNoCardDataInFiles, assertNoCardDataInRows, newCanary } from './support/canary.ts';
import { luhnValid } from '../src/runtime/scrub.ts';

/** A Luhn-valid international phone number (13 digits after the +), which must be kept as sent. */
function luhnPhone(): string {
  for (let i = 0; ; i++) {
    const digits = `4915112${String(100000 + i)}`;
    if (luhnValid(digits)) return `+${digits}`;
  }
}

for (const store of ['sqlite', 'postgres'] as const) {
  describe(`card numbers in free-text fields (${store})`, () => {
    test('refused in human-text fields, masked in references and merchant data, never stored, echoed, logged or notified', async (t) => {
      if (store === 'postgres' && !(await postgresAvailable())) { t.skip('PostgreSQL unreachable'); return; }
      const canary = newCanary();
      const pan = canary.pan;
      const spaced = pan.replace(/(\d{4})(?=\d)/g, '$1 ');
      const dashed = pan.replace(/(\d{4})(?=\d)/g, '$1-');
      const maskOf = new RegExp(`\\*{4}${pan.slice(-4)}_[0-9a-f]{12}`);
      const gw: Gateway = await startGateway({ store, env: { SWITCHYARD_WEBHOOK_ALLOW: loopbackAllow } });
      const bodies: string[] = [];
      const notifications: string[] = [];
      const [oppPort, execPort] = [await freePort(), await freePort()];
      const oppListener = await gw.app.webhooks.addEndpoint({ merchantId: gw.merchant.merchantId, dialect: 'opp', url: `http://127.0.0.1:${oppPort}/` });
      const execListener = await gw.app.webhooks.addEndpoint({ merchantId: gw.merchant.merchantId, dialect: 'executions', url: `http://127.0.0.1:${execPort}/` });
      assert.ok(oppListener.ok && execListener.ok);
      const oppReceiver = createReceiver(oppListener.value.secret, (n) => { notifications.push(JSON.stringify(n)); });
      const execReceiver = createServer((req, res) => { req.resume(); req.on('end', () => res.writeHead(200).end()); });
      const oppRaw = recordRequests(oppReceiver);
      const execRaw = recordRequests(execReceiver);
      await listen(oppReceiver, oppPort);
      await listen(execReceiver, execPort);
      const v1 = async (method: 'GET' | 'POST', path: string, params: Record<string, string>) => {
        const r = await opp(gw, method, path, params);
        bodies.push(JSON.stringify(r.body));
        return r;
      };
      try {
        const transactions = async () => (await gw.app.storage.db.selectFrom('transactions').select(['id']).execute()).length;

        // /v1, human text: refused with the field named and its own code where it has one; nothing is created.
        const before = await transactions();
        const refused: [string, string, string][] = [
          ['card.holder', `Jane ${pan}`, '100.100.402'], ['customer.givenName', spaced, '200.300.404'], ['customer.surname', dashed, '200.300.404'],
          ['customer.companyName', pan, '200.300.404'], ['customer.email', `${pan}@example.com`, '100.900.101'], ['billing.street1', `${spaced} Main St`, '200.300.404'],
          ['billing.city', pan, '200.300.404'], ['shipping.street1', pan, '200.300.404'], ['descriptor', `Shop ${pan}`, '200.300.404'],
          ['cart.items[0].name', pan, '200.300.404'], ['customer.phone', pan, '100.900.200'],
        ];
        for (const [name, value, code] of refused) {
          const r = await v1('POST', '/v1/payments', { amount: '5.00', currency: 'EUR', paymentType: 'DB', ...testCard, [name]: value });
          assert.equal(r.status, 400, name);
          assert.equal(r.body.result.code, code, name);
          assert.deepEqual(r.body.result.parameterErrors.map((e: any) => e.name), [name]);
          assert.match(r.body.result.parameterErrors[0].message, /card number/);
        }
        const bank = await v1('POST', '/v1/payments', {
          amount: '5.00', currency: 'EUR', paymentType: 'DB', paymentBrand: 'SOFORTUEBERWEISUNG', 'bankAccount.country': 'DE',
          'bankAccount.holder': pan, shopperResultUrl: 'https://shop.example/r',
        });
        assert.equal(bank.body.result.code, '100.100.402');
        const registration = await v1('POST', '/v1/registrations', { ...testCard, 'card.holder': pan });
        assert.equal(registration.status, 400);
        assert.equal(await transactions(), before, 'refused requests changed nothing');

        // /v1, references and merchant data: accepted, masked consistently, still found by the reference.
        const phone = luhnPhone();
        const paid = await v1('POST', '/v1/payments', {
          amount: '7.00', currency: 'EUR', paymentType: 'PA', ...testCard, merchantTransactionId: pan, merchantInvoiceId: `INV-${pan}`,
          'customParameters[order_ref]': spaced, 'customer.merchantCustomerId': dashed, 'cart.items[0].merchantItemId': pan, 'cart.items[0].name': 'Shoes',
          'customer.phone': phone,
        });
        assert.equal(paid.body.result.code, '000.100.110', JSON.stringify(paid.body));
        assert.match(paid.body.merchantTransactionId, new RegExp(`^${maskOf.source}$`));
        assert.match(paid.body.merchantInvoiceId, new RegExp(`^INV-${maskOf.source}$`));
        assert.match(paid.body.customParameters.order_ref, maskOf);
        assert.equal(paid.body.customer.phone, phone, 'an international phone number that passes the Luhn check is kept');
        const captured = await v1('POST', `/v1/payments/${paid.body.id}`, { paymentType: 'CP', amount: '7.00', currency: 'EUR', merchantTransactionId: spaced });
        assert.equal(captured.body.result.code, '000.100.110');
        assert.equal(captured.body.merchantTransactionId, paid.body.merchantTransactionId, 'the same number masks the same however it is spaced');
        const again = await pay(gw, { merchantTransactionId: pan, amount: '1.00' });
        bodies.push(JSON.stringify(again.body));
        const found = await v1('GET', '/v1/query', { merchantTransactionId: pan });
        assert.equal(found.status, 200);
        assert.deepEqual(found.body.payments.map((p: any) => p.id).sort(), [paid.body.id, captured.body.id, again.body.id].sort());
        const reg = await v1('POST', '/v1/registrations', { ...testCard, 'customParameters[customer_no]': pan });
        assert.equal(reg.body.result.code, '000.100.110');

        // Executions: holder name and descriptions refused; references and meta masked, and still matched.
        const token = await tokenOf(gw);
        const json = async (method: string, path: string, body?: unknown) => {
          const r = await call(gw, method, path, { token, ...(body !== undefined ? { body } : {}) });
          bodies.push(JSON.stringify(r.body));
          return r;
        };
        const card = { cardNumber: '4111111111111111', expiryMonth: '03', expiryYear: '30', securityCode: '737' };
        const badHolder = await json('POST', '/payment/instruments', { holderReference: 'h-1', data: { ...card, holderName: `Jo ${spaced}` } });
        assert.equal(badHolder.status, 400);
        assert.equal(badHolder.body.errors[0].code, 'request.param.invalid');
        assert.match(badHolder.body.errors[0].detail, /^data\.holderName: must not contain a card number/);
        const inst = await json('POST', '/payment/instruments', { holderReference: pan, data: { ...card, holderName: 'Jo Doe' } });
        assert.equal(inst.status, 201, JSON.stringify(inst.body));
        const created = await json('POST', wf, {
          merchantReference: pan, holderReference: pan, workspaceId: gw.merchant.workspaceId,
          meta: { order: { reference: spaced, number: Number(pan) }, [pan]: 'key' },
        });
        assert.equal(created.status, 201, JSON.stringify(created.body));
        assert.match(created.body.merchantReference, new RegExp(`^${maskOf.source}$`));
        assert.match(created.body.meta.order.number, maskOf);
        const patched = await json('PATCH', `${wf}/${created.body.id}`, { meta: { note: `call ${pan}` } });
        assert.equal(patched.status, 200, JSON.stringify(patched.body));
        assert.match(patched.body.meta.note, maskOf);
        const value = { value: '9.00', currency: 'EUR' };
        const auth = await json('POST', `${wf}/${created.body.id}/authorize`, {
          amount: value, returnInfo: { success: `https://shop.example/return?order=${pan}` },
          paymentComposition: [{ paymentMethodCode: 'card', integrationType: 'api', amount: value, paymentInstrumentId: inst.body.id }],
        });
        assert.equal(auth.status, 200, 'the masked holder of the instrument and of the execution still match');
        const done = await poll(gw, token, created.body.id, ['created', 'authorizeRequested']);
        bodies.push(JSON.stringify(done));
        assert.equal(done.status, 'authorized');
        const listed = await json('GET', `${wf}?filter[merchantReference]=${encodeURIComponent(dashed)}`);
        assert.deepEqual(listed.body.results.map((e: any) => e.id), [created.body.id]);
        const refund = await json('POST', `${wf}/${created.body.id}/cancel`, { reason: 'NoReason', reasonDescription: `card ${pan}` });
        assert.equal(refund.status, 400);
        assert.match(refund.body.errors[0].detail, /^reasonDescription: /);
        const init = await json('POST', '/merchant/client/init', { holderReference: pan, merchantReference: `m-${pan}`, meta: { x: pan } });
        assert.equal(init.status, 200);
        bodies.push(Buffer.from(init.body.data, 'base64').toString('latin1'));

        await gw.app.webhooks.runOnce();
        assert.ok(notifications.length >= 3, 'the /v1 payments were notified');
        assert.ok(execRaw.length >= 1, 'the execution was notified');
        for (const n of notifications) assertNoCardData(canary, 'a /v1 notification', n);
        for (const r of [...oppRaw, ...execRaw]) assertNoCardData(canary, 'a webhook request', JSON.stringify(r));
        for (const b of bodies) assertNoCardData(canary, 'a response', b);
        assertNoCardData(canary, 'the logs', gw.logs.join(''));
        if (store === 'postgres') await assertNoCardDataInRows(canary, gw.app.storage.db);
        else assertNoCardDataInFiles(canary, gw.dataDir);
      } finally {
        await closeServer(oppReceiver);
        await closeServer(execReceiver);
        await gw.close();
      }
    });
  });
}

test('card numbers written in other ways (dotted, joined by plus signs, percent-encoded in a URL) or put in ids, paths and odd fields: in no answer, log line or stored row', async () => {
  const canary = newCanary();
  const pan = canary.pan;
  const dotted = pan.replace(/(\d{4})(?=\d)/g, '$1.');
  const gw = await startGateway();
  const out: [string, string][] = [];
  const rec = (what: string, body: unknown) => out.push([what, typeof body === 'string' ? body : JSON.stringify(body)]);
  try {
    const token = await tokenOf(gw);
    rec('workspaceId', (await call(gw, 'POST', wf, { token, body: { merchantReference: 'r1', holderReference: 'h', workspaceId: pan } })).body);
    rec('instrumentId', (await call(gw, 'POST', `${wf}/nope/authorize`, { token, body: { amount: { value: '1.00', currency: 'EUR' }, paymentComposition: [{ paymentMethodCode: 'card', integrationType: 'api', amount: { value: '1.00', currency: 'EUR' }, paymentInstrumentId: pan }] } })).body);
    rec('cursor', (await call(gw, 'GET', `${wf}?cursor=${pan}&limit=${pan}`, { token })).body);
    rec('exec path', (await call(gw, 'GET', `${wf}/${pan}`, { token })).body);
    rec('dotted ref', (await call(gw, 'POST', wf, { token, body: { merchantReference: dotted, holderReference: 'h', workspaceId: gw.merchant.workspaceId } })).body);
    rec('top cardNumber', (await call(gw, 'POST', wf, { token, body: { merchantReference: 'r2', holderReference: 'h', workspaceId: gw.merchant.workspaceId, cardNumber: pan, meta: { cardNumber: pan, data: { cardNumber: pan } } } })).body);
    rec('entityId', (await opp(gw, 'POST', '/v1/payments', { ...testCard, amount: '1.00', currency: 'EUR', paymentType: 'DB', entityId: pan })).body);
    rec('v1 userId', (await opp(gw, 'GET', `/v1/payments/x?authentication.userId=${pan}`, {})).body);
    rec('v1 path enc', (await opp(gw, 'GET', `/v1/nope/${encodeURIComponent(pan.replace(/(\d{4})(?=\d)/g, '$1 '))}`, {})).body);
    rec('v1 query plus', (await opp(gw, 'GET', `/v1/query?merchantTransactionId=${pan.replace(/(\d{4})(?=\d)/g, '$1+')}`, {})).body);
    rec('v1 dotted mtid', (await opp(gw, 'POST', '/v1/payments', { ...testCard, amount: '1.00', currency: 'EUR', paymentType: 'DB', merchantTransactionId: dotted })).body);
    rec('v1 CP with card', (await opp(gw, 'POST', `/v1/payments/${(await opp(gw, 'POST', '/v1/payments', { ...testCard, amount: '1.00', currency: 'EUR', paymentType: 'PA' })).body.id}`, { paymentType: 'CP', amount: '1.00', currency: 'EUR', 'card.number': pan, 'card.cvv': canary.cvv })).body);
    rec('v1 checkout card', (await opp(gw, 'POST', '/v1/checkouts', { amount: '1.00', currency: 'EUR', paymentType: 'DB', 'card.number': pan })).body);
    rec('v1 bad brand', (await opp(gw, 'POST', '/v1/payments', { ...testCard, 'card.number': pan, paymentBrand: pan, amount: '1.00', currency: 'EUR', paymentType: 'DB' })).body);
    rec('v1 number in expiry', (await opp(gw, 'POST', '/v1/payments', { ...testCard, 'card.expiryMonth': pan, 'card.expiryYear': pan, amount: '1.00', currency: 'EUR', paymentType: 'DB' })).body);
    // Percent-encoded separators, as a URL carries a number typed with spaces or dashes, in fields that are masked.
    const [spaced, dashed] = [pan.replace(/(\d{4})(?=\d)/g, '$1%20'), pan.replace(/(\d{4})(?=\d)/g, '$1%2D')];
    rec('v1 encoded custom', (await pay(gw, { 'customParameters[return]': `https://shop.example/r?c=${dashed}`, 'customParameters[xyz]': `c=${spaced}`, shopperResultUrl: `https://shop.example/return?card=${spaced}` })).body);
    rec('exec encoded meta', (await call(gw, 'POST', wf, { token, body: { merchantReference: 'r-enc', holderReference: 'h-enc', workspaceId: gw.merchant.workspaceId, meta: { back: `https://shop.example/r?c=${spaced}` } } })).body);
    // A caller's trace id holding the number: the request starts a trace of its own.
    const traced = await fetch(`${gw.url}/v1/payments`, {
      method: 'POST',
      headers: { authorization: `Bearer ${gw.merchant.accessToken}`, 'content-type': 'application/x-www-form-urlencoded', traceparent: `00-abcdefabcdefabcd${pan.slice(0, 16)}-00f067aa0ba902b7-01` },
      body: new URLSearchParams({ entityId: gw.merchant.entityId, amount: '1.00', currency: 'EUR', paymentType: 'DB', ...testCard }).toString(),
    });
    rec('traceparent', await traced.text());
    const plain = (s: string) => [pan, dotted, pan.replace(/(\d{4})(?=\d)/g, '$1+'), spaced, dashed, pan.replace(/(\d{4})(?=\d)/g, '$1 ')].some((x) => s.includes(x));
    const leaks = out.filter(([, b]) => plain(b)).map(([w, b]) => `${w}: ${b.slice(0, 300)}`);
    for (const l of gw.logs) if (plain(l)) leaks.push(`log: ${l.slice(0, 300)}`);
    try { assertNoCardDataInFiles(canary, gw.dataDir); } catch (e) { leaks.push(`db: ${(e as Error).message}`); }
    const raw = readFileSync(`${gw.dataDir}/switchyard.sqlite-wal`).toString('latin1');
    for (const [name, form] of [['dotted', dotted], ['encoded', spaced], ['encoded', dashed]] as const) if (raw.includes(form)) leaks.push(`db: ${name} PAN in the WAL`);
    assert.deepEqual(leaks, []);
  } finally { await gw.close(); }
});

test('a card number in a webhook endpoint URL (admin API) is refused, naming the URL: nothing stored, nothing answered in plain text', async () => {
  const canary = newCanary();
  const gw = await startGateway({ env: { SWITCHYARD_WEBHOOK_ALLOW: loopbackAllow } });
  try {
    for (const url of [`http://127.0.0.1:9/in?card=${canary.pan}`, `http://127.0.0.1:9/in?card=${canary.pan.replace(/(\d{4})(?=\d)/g, '$1%20')}`]) {
      const r = await admin(gw, 'POST', '/webhooks/endpoints', { merchantId: gw.merchant.merchantId, dialect: 'opp', url });
      assert.equal(r.status, 400, JSON.stringify(r.body));
      assert.match(JSON.stringify(r.body), /card number/);
      assertNoCardData(canary, 'the answer', JSON.stringify(r.body));
    }
    assertNoCardDataInFiles(canary, gw.dataDir);
    assert.equal((await gw.app.webhooks.listEndpoints(gw.merchant.merchantId)).length, 0);
  } finally { await gw.close(); }
});
