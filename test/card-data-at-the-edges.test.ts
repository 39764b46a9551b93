/**
 * A card number where nobody expects one stays out of the stores in plain text: typed into the
 * dashboard's sign-in email box (kept in the audit log), echoed by a webhook receiver across the
 * excerpt the gateway keeps of its answer, sent as a JSON number with a fraction in an execution's meta.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { sql } from 'kysely';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { opp, pay, postgresAvailable, startGateway } from './support/harness.ts';
import { call, tokenOf, wf } from './support/executions.ts';
import { closeServer, freePort, listen, loopbackAllow } from './support/webhooks.ts';
import { assertNoCardData, assertNoCardDataInFiles, assertNoCardDataInRows, newCanary } from './support/canary.ts';

for (const store of ['sqlite', 'postgres'] as const) {
  test(`a card number typed into the dashboard sign-in email box is not kept in plain text in the audit log (${store})`, async (t) => {
    if (store === 'postgres' && !(await postgresAvailable())) { t.skip('no PostgreSQL'); return; }
    const canary = newCanary();
    const gw = await startGateway({ store });
    try {
      const form = await fetch(`${gw.url}/dashboard/sign-in`);
      const token = /name="_csrf" value="([^"]+)"/.exec(await form.text())![1]!;
      const cookie = form.headers.getSetCookie()[0]!.split(';')[0]!;
      const post = (body: Record<string, string>) => fetch(`${gw.url}/dashboard/sign-in`, {
        method: 'POST', redirect: 'manual', body: new URLSearchParams(body),
        headers: { 'content-type': 'application/x-www-form-urlencoded', cookie, origin: gw.url },
      });
      // Unknown user: the email box held the card number.
      assert.equal((await post({ _csrf: token, email: canary.pan, password: 'whatever', next: '/dashboard' })).status, 401);
      // A form whose token does not match: audited with the email as sent.
      assert.equal((await post({ _csrf: 'stale', email: `${canary.pan}@example.com`, password: 'x', next: '/dashboard' })).status, 403);
      const log = await gw.app.dashboard.auditLog({ limit: 100 });
      assert.ok(log.length >= 2);
      for (const e of log) assert.ok(!JSON.stringify(e).includes(canary.pan), `PAN in audit entry ${JSON.stringify(e)}`);
      if (store === 'postgres') await assertNoCardDataInRows(canary, gw.app.storage.db);
      else assertNoCardDataInFiles(canary, gw.dataDir);
    } finally { await gw.close(); }
  });
}

test('a card number sent as a JSON number with a fraction in meta is masked like an integer one, not stored or answered', async () => {
  const canary = newCanary();
  const gw = await startGateway();
  try {
    const token = await tokenOf(gw);
    // The canary is a 42… number (below 2^52): x.5 is exactly representable, so it survives JSON.parse.
    const raw = `{"merchantReference":"r-1","holderReference":"h-1","workspaceId":"${gw.merchant.workspaceId}","meta":{"amountHint":${canary.pan}.5}}`;
    const res = await fetch(gw.url + wf, {
      method: 'POST', body: raw,
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', 'x-idempotency-key': crypto.randomUUID() },
    });
    const text = await res.text();
    assert.equal(res.status, 201, text);
    assertNoCardData(canary, 'the answer', text);
    const listed = await call(gw, 'GET', wf, { token });
    assertNoCardData(canary, 'the list', JSON.stringify(listed.body));
    assertNoCardDataInFiles(canary, gw.dataDir);
  } finally { await gw.close(); }
});

test('a receiver answer holding a card number across the excerpt limit is not kept with 15 of its digits', async () => {
  const canary = newCanary();
  const gw = await startGateway({ env: { SWITCHYARD_WEBHOOK_ALLOW: loopbackAllow } });
  const port = await freePort();
  // The receiver's error page echoes a card number it holds, 185 characters in.
  const receiver = createServer((req, res) => { req.resume(); req.on('end', () => res.writeHead(500, { 'content-type': 'text/plain' }).end(`${'x'.repeat(185)}${canary.pan} rejected`)); });
  await listen(receiver, port);
  try {
    const ep = await gw.app.webhooks.addEndpoint({ merchantId: gw.merchant.merchantId, dialect: 'opp', url: `http://127.0.0.1:${port}/` });
    assert.ok(ep.ok);
    assert.equal((await pay(gw)).body.result.code, '000.100.110');
    await gw.app.webhooks.runOnce();
    const rows = await sql<{ excerpt: string | null }>`select excerpt from webhook_attempts`.execute(gw.app.storage.db);
    assert.ok(rows.rows.length >= 1, 'an attempt was recorded');
    for (const r of rows.rows) {
      assert.ok(!(r.excerpt ?? '').includes(canary.pan.slice(0, 15)), `15 of the card number's 16 digits kept: ${r.excerpt}`);
    }
  } finally {
    await closeServer(receiver);
    await gw.close();
  }
});

test('a security code sent in a custom parameter named for it is not stored, answered or sent on in plain text (/v1)', async () => {
  const canary = newCanary();
  const gw = await startGateway();
  try {
    // Among them the /v1 custom-parameter convention (a SHOPPER_ prefix), where a code most often arrives.
    const names = ['cvv', 'CVV2', 'card.cvc', 'securityCode', 'card_security_code', 'SHOPPER_cvv', 'SHOPPER_CVV2', 'SHOPPER_securityCode', 'cvv_code', 'cvvNumber'];
    const params: Record<string, string> = { 'customParameters[note]': 'kept as sent', 'customParameters[cvv_check]': 'on' };
    for (const n of names) params[`customParameters[${n}]`] = canary.cvv;
    const r = await pay(gw, params);
    assert.match(r.body.result.code, /^000\.100\.1/, JSON.stringify(r.body));
    const echoed = r.body.customParameters as Record<string, string>;
    // What is not a security code is echoed as sent: a flag whose value is no code, and free text.
    assert.equal(echoed.note, 'kept as sent');
    assert.equal(echoed.cvv_check, 'on');
    for (const n of names) {
      assert.ok(n in echoed, `customParameters[${n}] is echoed`);
      assert.notEqual(echoed[n], canary.cvv, `customParameters[${n}] echoed in plain text`);
    }
    const text = JSON.stringify(r.body);
    assert.ok(!text.includes(`:"${canary.cvv}"`), `the security code in the answer: ${text}`);
    const status = await opp(gw, 'GET', `/v1/payments/${r.body.id}`);
    assert.ok(!JSON.stringify(status.body).includes(`:"${canary.cvv}"`), 'the security code in the status answer');
    for (const f of readdirSync(gw.dataDir)) {
      const raw = readFileSync(join(gw.dataDir, f)).toString('latin1');
      for (const n of names) assert.ok(!raw.includes(`"${n}":"${canary.cvv}"`), `customParameters[${n}] in plain text in ${f}`);
    }
  } finally { await gw.close(); }
});

test('a security code sent in an execution\'s meta under a name that says so is not stored or answered in plain text', async () => {
  const canary = newCanary();
  const gw = await startGateway();
  try {
    const token = await tokenOf(gw);
    const meta = { cvv: canary.cvv, card: { securityCode: canary.cvv }, CVC2: Number(canary.cvv), cvvPolicy: 'strict' };
    const res = await call(gw, 'POST', wf, {
      token, body: { merchantReference: 'r-cvv', holderReference: 'h-cvv', workspaceId: gw.merchant.workspaceId, meta },
    });
    assert.equal(res.status, 201, JSON.stringify(res.body));
    const text = JSON.stringify(res.body);
    assert.ok(!text.includes(`"cvv":"${canary.cvv}"`) && !text.includes(`"securityCode":"${canary.cvv}"`) && !text.includes(`"CVC2":${canary.cvv}`), text);
    assert.equal((res.body as { meta: { cvvPolicy: string } }).meta.cvvPolicy, 'strict');
    const listed = await call(gw, 'GET', wf, { token });
    assertNoCardData(canary, 'the list', JSON.stringify(listed.body));
    assertNoCardDataInFiles(canary, gw.dataDir);
    for (const f of readdirSync(gw.dataDir)) {
      assert.ok(!readFileSync(join(gw.dataDir, f)).toString('latin1').includes(`"CVC2":${canary.cvv}`), `meta.CVC2 in plain text in ${f}`);
    }
  } finally { await gw.close(); }
});
