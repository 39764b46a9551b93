/**
 * The executions dialect's idempotency keys and action bodies as a merchant's backend meets them:
 * what a key remembers of a request cannot give back its card number or security code; a misspelt
 * field of an action that moves money is refused; a create whose answer a crash lost is replayed,
 * not made again.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID, createHash } from 'node:crypto';
import { manualClock } from '../src/runtime/clock.ts';
import { startGateway, type Gateway } from './support/harness.ts';
import { authorizeBody, call, execution, instrument, poll, tokenOf, wf } from './support/executions.ts';

function canonical(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonical).join(',')}]`;
  if (v !== null && typeof v === 'object') return `{${Object.keys(v).sort().map((k) => `${JSON.stringify(k)}:${canonical((v as Record<string, unknown>)[k])}`).join(',')}}`;
  return JSON.stringify(v) ?? 'null';
}
const luhnOk = (s: string) => { let sum = 0; for (let i = 0; i < s.length; i++) { let d = Number(s[s.length - 1 - i]); if (i % 2) { d *= 2; if (d > 9) d -= 9; } sum += d; } return sum % 10 === 0; };

describe('executions: idempotency and action bodies', () => {
  let gw: Gateway;
  let token: string;
  const clock = manualClock(Date.now());
  before(async () => { gw = await startGateway({ clock }); token = await tokenOf(gw); });
  after(() => gw.close());

  test('the idempotency record of POST /payment/instruments must not let the card number and security code be recovered', async () => {
    const key = randomUUID();
    const body = { holderReference: 'c-9', paymentMethod: 'card', data: { cardNumber: '4111111111111111', expiryMonth: '03', expiryYear: '30', securityCode: '737', holderName: 'John Doe' } };
    const r = await call(gw, 'POST', '/payment/instruments', { token, key, body });
    assert.equal(r.status, 201);
    const row = await gw.app.storage.db.selectFrom('idempotency_keys').select(['request_hash', 'operation']).where('key', '=', key).executeTakeFirstOrThrow();
    // What someone with read access to the database (or a backup) knows: the instrument's bin, suffix, expiry, holder (GET /payment/instruments shows them).
    const shown = r.body.data;
    const hashOf = (pan: string, cvv: string) => createHash('sha256').update(row.operation).update('\n')
      .update(canonical({ ...body, data: { ...body.data, cardNumber: pan, securityCode: cvv } })).digest('hex');
    // 1. The security code (sensitive authentication data, never to be kept after authorization) in at most 1,000 unkeyed hashes.
    let cvv: string | undefined;
    for (let c = 0; c < 1000 && !cvv; c++) { const t = String(c).padStart(3, '0'); if (hashOf('4111111111111111', t) === row.request_hash) cvv = t; }
    // 2. The full number from bin + suffix in at most 100,000 (given the code; jointly ~10^8, seconds on a GPU).
    let pan: string | undefined;
    for (let m = 0; m < 1_000_000 && !pan; m++) {
      const cand = `${shown.bin}${String(m).padStart(6, '0')}${shown.suffix}`;
      if (luhnOk(cand) && hashOf(cand, '737') === row.request_hash) pan = cand;
    }
    assert.deepEqual({ cvv, pan }, { cvv: undefined, pan: undefined }, `recovered from idempotency_keys.request_hash: security code ${cvv}, card number ${pan}`);
  });

  test('a misspelt amount on refund is refused, not read as "refund everything"', async () => {
    const inst = await instrument(gw, token);
    const id = await execution(gw, token);
    assert.equal((await call(gw, 'POST', `${wf}/${id}/authorize`, { token, body: authorizeBody(inst, '100.00') })).status, 200);
    assert.equal((await poll(gw, token, id, ['created', 'authorizeRequested'])).status, 'authorized');
    assert.equal((await call(gw, 'POST', `${wf}/${id}/capture`, { token, body: { final: true } })).status, 202);
    const typo = await call(gw, 'POST', `${wf}/${id}/refund`, { token, body: { amout: { value: '1.00', currency: 'EUR' } } });
    const now = (await call(gw, 'GET', `${wf}/${id}`, { token })).body;
    assert.equal(typo.status, 400, `refund with unknown field "amout" answered ${typo.status}; refundedAmount now ${JSON.stringify(now.refundedAmount)}`);
  });

  test('a create whose answer was lost in a crash (committed, key left in flight) is not created again by the retry', async () => {
    const key = randomUUID();
    const body = { merchantReference: `crash-${randomUUID().slice(0, 8)}`, meta: {} };
    // The gateway dies after the create commits, before anything else is written: storing the
    // answer afterwards (as the 201 goes out) fails as a crash would stop it.
    const complete = gw.app.idempotency.complete;
    gw.app.idempotency.complete = async () => { throw new Error('the process died here'); };
    let first: Awaited<ReturnType<typeof call>>;
    try { first = await call(gw, 'POST', wf, { token, key, body }); } finally { gw.app.idempotency.complete = complete; }
    assert.equal(first.status, 201);
    const row = await gw.app.storage.db.selectFrom('idempotency_keys').select(['state', 'response_status']).where('key', '=', key).executeTakeFirstOrThrow();
    assert.deepEqual({ ...row }, { state: 'done', response_status: 201 }, 'the answer commits with the execution');
    clock.advance(6 * 60_000);
    token = await tokenOf(gw);
    const retry = await call(gw, 'POST', wf, { token, key, body });
    const rows = await gw.app.storage.db.selectFrom('executions').select('id').where('merchant_reference', '=', body.merchantReference).execute();
    assert.equal(rows.length, 1, `retry answered ${retry.status} and made execution ${retry.body?.id} beside ${first.body.id}`);
    assert.equal(retry.status, 201);
    assert.equal(retry.body.id, first.body.id, 'the retry gets the first answer');
  });

  test('a retry naming the execution in upper case is the same request; a second authorize is refused as such, not as an unknown instrument', async () => {
    const inst = await instrument(gw, token);
    const id = await execution(gw, token);
    const key = randomUUID();
    const first = await call(gw, 'POST', `${wf}/${id}/authorize`, { token, key, body: authorizeBody(inst, '10.00') });
    assert.equal(first.status, 200, JSON.stringify(first.body));
    const again = await call(gw, 'POST', `${wf}/${id.toUpperCase()}/authorize`, { token, key, body: authorizeBody(inst, '10.00') });
    assert.equal(again.status, 200, JSON.stringify(again.body));
    assert.deepEqual(again.body, first.body);
    assert.equal((await poll(gw, token, id, ['created', 'authorizeRequested'])).status, 'authorized');
    const second = await call(gw, 'POST', `${wf}/${id}/authorize`, { token, body: authorizeBody(inst, '10.00') });
    assert.equal(second.status, 422, JSON.stringify(second.body));
    assert.equal(second.body.errors[0].code, 'workflow.action.not-allowed');
  });
  test('a PATCH whose answer a failure after its commit lost is replayed under its key, not applied again', async () => {
    const id = await execution(gw, token);
    const key = randomUUID();
    const body = { meta: { order: { reference: 'patched-once' } } };
    const executions = gw.app.executions;
    const view = executions.view;
    executions.view = async () => { throw new Error('connection lost after the commit'); };
    let first;
    try { first = await call(gw, 'PATCH', `${wf}/${id}`, { token, key, body }); } finally { executions.view = view; }
    assert.equal(first.status, 500);
    // Meanwhile the execution is authorized: the same patch sent as a new request would be refused now.
    const inst = await instrument(gw, token);
    assert.equal((await call(gw, 'POST', `${wf}/${id}/authorize`, { token, body: authorizeBody(inst) })).status, 200);
    await poll(gw, token, id, ['created', 'authorizeRequested']);
    const retry = await call(gw, 'PATCH', `${wf}/${id}`, { token, key, body });
    assert.equal(retry.status, 200, JSON.stringify(retry.body));
    assert.equal(retry.headers.get('idempotent-replayed'), 'true');
    assert.deepEqual(retry.body.meta, body.meta);
  });
});
