import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createDecipheriv, createHmac, randomBytes } from 'node:crypto';
import { rmSync } from 'node:fs';
import { createServer, type ServerResponse } from 'node:http';
import { manualClock } from '../src/runtime/clock.ts';
import { addOutboxEvent } from '../src/webhooks/outbox.ts';
import { executionEvents } from '../src/webhooks/model.ts';
import { createReceiver as createOppReceiver, type Notification } from '../examples/webhooks/opp-receiver.ts';
import { createReceiver as createExecutionsReceiver, verifySignature, type ExecutionsEvent } from '../examples/webhooks/executions-receiver.ts';
import { opp, pay, startGateway, testCard, type Gateway } from './support/harness.ts';
import { admin, closeServer, freePort, listen, loopbackAllow, recordRequests } from './support/webhooks.ts';

const minute = 60_000;
const hour = 60 * minute;
const day = 24 * hour;

/** Independent of the receiver under test: the reference's decryption, written out again. */
function decrypt(keyHex: string, r: { headers: Record<string, unknown>; body: string }): any {
  const d = createDecipheriv('aes-256-gcm', Buffer.from(keyHex, 'hex'), Buffer.from(String(r.headers['x-initialization-vector']), 'hex'));
  d.setAuthTag(Buffer.from(String(r.headers['x-authentication-tag']), 'hex'));
  return JSON.parse(Buffer.concat([d.update(Buffer.from(r.body, 'hex')), d.final()]).toString('utf8'));
}
const b64hmac = (secret: string, data: string) => createHmac('sha256', Buffer.from(secret, 'utf8')).update(data, 'utf8').digest('base64');

const withoutNdc = (o: Record<string, unknown>) => { const { ndc: _n, ...rest } = o; return rest; };

async function addListener(gw: Gateway, port: number, extra: Record<string, unknown> = {}) {
  const r = await admin(gw, 'POST', '/webhooks/endpoints', { merchantId: gw.merchant.merchantId, dialect: 'opp', url: `http://127.0.0.1:${port}/notify`, ...extra });
  assert.equal(r.status, 201, JSON.stringify(r.body));
  assert.deepEqual(Object.keys(r.body).sort(), ['endpointId', 'secret']);
  return r.body as { endpointId: string; secret: string };
}

describe('/v1 notifications', () => {
  const clock = manualClock();
  let gw: Gateway;
  before(async () => { gw = await startGateway({ clock, env: { SWITCHYARD_WEBHOOK_ALLOW: loopbackAllow } }); });
  after(async () => { await gw.close(); });

  test('every payment type reaches the entity\'s listener encrypted, shaped like the API response, after the activation message', async () => {
    const port = await freePort();
    const { endpointId, secret } = await addListener(gw, port);
    assert.match(secret, /^[0-9a-f]{64}$/);
    const got: { n: Notification; id: string }[] = [];
    const receiver = createOppReceiver(secret, (n, id) => { got.push({ n, id }); });
    const raw = recordRequests(receiver);
    await listen(receiver, port);
    try {
      const pa = await pay(gw, { paymentType: 'PA' });
      const cp = await opp(gw, 'POST', `/v1/payments/${pa.body.id}`, { paymentType: 'CP', amount: '50.00', currency: 'EUR' });
      const rf = await opp(gw, 'POST', `/v1/payments/${cp.body.id}`, { paymentType: 'RF', amount: '10.00', currency: 'EUR' });
      const rv = await opp(gw, 'POST', `/v1/payments/${pa.body.id}`, { paymentType: 'RV' });
      const db = await pay(gw, { paymentType: 'DB' });
      const rb = await opp(gw, 'POST', `/v1/payments/${db.body.id}`, { paymentType: 'RB', amount: '5.00', currency: 'EUR' });
      const cb = await opp(gw, 'POST', `/v1/payments/${db.body.id}`, { paymentType: 'CB', amount: '20.00', currency: 'EUR' });
      const cr = await opp(gw, 'POST', `/v1/payments/${cb.body.id}`, { paymentType: 'CR', amount: '20.00', currency: 'EUR' });
      const declined = await pay(gw, { paymentType: 'DB', 'customParameters[forceResultCode]': '800.100.151' });
      const pacp = await pay(gw, { paymentType: 'PA.CP' });
      const responses = [pa, cp, rf, rv, db, rb, cb, cr, declined, pacp];
      for (const r of responses) assert.ok(r.body.id, JSON.stringify(r.body));
      // Another merchant's payments never reach this listener.
      const other = await gw.app.merchants.create({ name: 'Other Shop' });
      const foreign = await pay({ ...gw, merchant: other }, {});
      // A registration event written through the shared outbox writer.
      const registration = { id: randomBytes(16).toString('hex'), result: { code: '000.100.110' } };
      await addOutboxEvent(gw.app.storage.db, {
        id: randomBytes(16).toString('hex'), merchantId: gw.merchant.merchantId, type: 'registration.created', subjectId: registration.id,
        createdAt: clock.now(), payload: { entityId: gw.merchant.entityId, registration },
      });

      await gw.app.webhooks.runOnce();

      assert.equal(got.length, responses.length + 2, JSON.stringify(got.map((g) => g.n.type)));
      const activation = got.find((g) => g.n.type === 'test')!;
      assert.deepEqual(activation.n, { type: 'test', action: 'webhook activation', payload: { result: { code: '000.100.110', description: "Request successfully processed in 'Merchant in Integrator Test Mode'" } } });
      for (const r of responses) {
        const n = got.find((g) => g.n.type === 'PAYMENT' && g.n.payload.id === r.body.id);
        assert.ok(n, `notification for ${r.body.paymentType} ${r.body.id}`);
        assert.equal(n.n.action, undefined);
        // The API response, with what the platform's notifications add: the presentation amount and the entity.
        const notified = { ...r.body, presentationAmount: r.body.amount, presentationCurrency: r.body.currency, authentication: { entityId: gw.merchant.entityId } };
        assert.deepEqual(withoutNdc(n.n.payload), withoutNdc(notified), `${r.body.paymentType} payload is the API response`);
        assert.match(n.n.payload.ndc, new RegExp(`^${gw.merchant.entityId}_[0-9a-f]{32}$`));
      }
      assert.equal(got.find((g) => g.n.payload.id === declined.body.id)!.n.payload.result.code, '800.100.151');
      assert.ok(!got.some((g) => g.n.payload.id === foreign.body.id), 'entity isolation');
      const reg = got.find((g) => g.n.type === 'REGISTRATION')!;
      // The registration as its call answered, with the result of the merchant's mode and the envelope.
      assert.deepEqual([reg.n.type, reg.n.action], ['REGISTRATION', 'CREATED']);
      assert.deepEqual(withoutNdc(reg.n.payload), {
        id: registration.id, result: { code: '000.100.110', description: "Request successfully processed in 'Merchant in Integrator Test Mode'" },
        buildNumber: reg.n.payload.buildNumber, timestamp: reg.n.payload.timestamp,
      });
      assert.match(reg.n.payload.ndc, new RegExp(`^${gw.merchant.entityId}_[0-9a-f]{32}$`));

      // Independent check of every request on the wire.
      assert.equal(raw.length, got.length);
      for (const r of raw) {
        assert.match(r.body, /^[0-9A-F]+$/);
        assert.match(String(r.headers['x-initialization-vector']), /^[0-9A-F]{24}$/);
        assert.match(String(r.headers['x-authentication-tag']), /^[0-9A-F]{32}$/);
        assert.match(String(r.headers['content-type']), /^text\/plain/);
        const plain = decrypt(secret, r);
        assert.ok(got.some((g) => g.id === r.headers['x-notification-id'] && JSON.stringify(g.n) === JSON.stringify(plain)));
        assert.ok(!r.body.includes('4200000000000000') && !JSON.stringify(plain).includes('4200000000000000'), 'no PAN in a webhook');
      }
      assert.equal(new Set(raw.map((r) => r.headers['x-initialization-vector'])).size, raw.length, 'a fresh IV per message');

      // The delivery log: one delivered attempt each, with status, latency and the answer's excerpt.
      const log = await admin(gw, 'GET', `/webhooks/deliveries?endpointId=${endpointId}`);
      assert.equal(log.status, 200);
      assert.equal(log.body.deliveries.length, got.length);
      for (const d of log.body.deliveries) {
        assert.equal(d.status, 'delivered');
        assert.equal(d.attempts, 1);
        assert.ok(got.some((g) => g.id === d.eventId), 'the log names the id the receiver saw');
      }
      const one = await admin(gw, 'GET', `/webhooks/events/${got[0]!.id}`);
      assert.equal(one.body.deliveries[0].attemptLog.length, 1);
      assert.equal(one.body.deliveries[0].attemptLog[0].httpStatus, 200);
      assert.equal(one.body.deliveries[0].attemptLog[0].excerpt, 'OK');
      assert.equal(typeof one.body.deliveries[0].attemptLog[0].latencyMs, 'number');
    } finally {
      await closeServer(receiver);
    }
  });

  test('a listener can choose types; an undecryptable answer (wrong key) is retried, not lost', async () => {
    const port = await freePort();
    const { endpointId, secret } = await addListener(gw, port, { types: ['REGISTRATION'] });
    const wrongKey = randomBytes(32).toString('hex');
    const got: Notification[] = [];
    let receiver = createOppReceiver(wrongKey, (n) => { got.push(n); });
    await listen(receiver, port);
    try {
      await pay(gw, {});
      await addOutboxEvent(gw.app.storage.db, {
        id: randomBytes(16).toString('hex'), merchantId: gw.merchant.merchantId, type: 'registration.deleted', subjectId: 'r1',
        createdAt: clock.now(), payload: { entityId: gw.merchant.entityId, registration: { id: 'r1' } },
      });
      await gw.app.webhooks.runOnce();
      const log = (await admin(gw, 'GET', `/webhooks/deliveries?endpointId=${endpointId}`)).body.deliveries;
      assert.deepEqual(log.map((d: any) => d.eventType).sort(), ['REGISTRATION', 'test'], 'PAYMENT not chosen');
      assert.ok(log.every((d: any) => d.status === 'pending' && d.lastStatus === 400 && d.attempts === 1));
      await closeServer(receiver);
      receiver = createOppReceiver(secret, (n) => { got.push(n); });
      await listen(receiver, port);
      clock.advance(minute);
      await gw.app.webhooks.runOnce();
      assert.deepEqual(got.map((n) => n.type).sort(), ['REGISTRATION', 'test']);
      assert.equal(got.find((n) => n.type === 'REGISTRATION')!.action, 'DELETED');
    } finally {
      await closeServer(receiver);
    }
  });
});

describe('executions notifications', () => {
  const clock = manualClock();
  let gw: Gateway;
  before(async () => { gw = await startGateway({ clock, env: { SWITCHYARD_WEBHOOK_ALLOW: loopbackAllow } }); });
  after(async () => { await gw.close(); });

  const bodyOf = (event: string) => ({
    event, time: new Date(clock.now()).toISOString(), workspaceId: gw.merchant.workspaceId, eventTrigger: 'action',
    details: {
      action: 'authorize', actionId: randomBytes(16).toString('hex'), success: true,
      execution: { id: randomBytes(16).toString('hex'), merchantReference: 'order_1', holderReference: 'c1', workflowCode: 'payment-acceptance' },
      amount: { currency: 'EUR', value: '24.00' }, paymentComposition: [],
    },
  });
  async function emit(event: string) {
    const body = bodyOf(event);
    const id = randomBytes(16).toString('hex');
    await addOutboxEvent(gw.app.storage.db, { id, merchantId: gw.merchant.merchantId, type: `execution.${event}`, subjectId: body.details.execution.id, createdAt: clock.now(), payload: body });
    return { id, body };
  }
  async function addEndpoint(port: number, types?: string[]) {
    const r = await admin(gw, 'POST', '/webhooks/endpoints', { merchantId: gw.merchant.merchantId, dialect: 'executions', url: `http://127.0.0.1:${port}/`, ...(types ? { types } : {}) });
    assert.equal(r.status, 201, JSON.stringify(r.body));
    return r.body as { endpointId: string; secret: string };
  }

  test('every catalogue event is delivered with the envelope as written, X-Signature and Standard Webhooks signatures', async () => {
    const [portAll, portOne] = [await freePort(), await freePort()];
    const all = await addEndpoint(portAll);
    const one = await addEndpoint(portOne, ['executionActionCompleted']);
    const got: { e: ExecutionsEvent; id: string }[] = [];
    const gotOne: ExecutionsEvent[] = [];
    const receiver = createExecutionsReceiver(all.secret, (e, id) => { got.push({ e, id }); }, clock.now);
    const receiverOne = createExecutionsReceiver(one.secret, (e) => { gotOne.push(e); }, clock.now);
    const raw = recordRequests(receiver);
    await listen(receiver, portAll);
    await listen(receiverOne, portOne);
    try {
      const sent: { id: string; body: ReturnType<typeof bodyOf> }[] = [];
      for (const name of executionEvents) sent.push(await emit(name));
      await addOutboxEvent(gw.app.storage.db, { id: randomBytes(16).toString('hex'), merchantId: gw.merchant.merchantId, type: 'execution.notInTheCatalogue', subjectId: 'x', createdAt: clock.now(), payload: {} });
      // /v1 payments of this merchant are not executions events.
      await pay(gw, {});
      await gw.app.webhooks.runOnce();

      assert.equal(got.length, executionEvents.length);
      for (const s of sent) {
        const g = got.find((x) => x.id === s.id);
        assert.ok(g, `${s.body.event} delivered under its event id`);
        assert.deepEqual(g.e, s.body);
      }
      assert.deepEqual(gotOne.map((e) => e.event), ['executionActionCompleted']);
      for (const r of raw) {
        assert.equal(r.headers['content-type'], 'application/json');
        const s: { id: string; body: unknown } = sent.find((x) => x.id === r.headers['webhook-id'])!;
        assert.equal(r.body, JSON.stringify(s.body), 'raw body is the event as written');
        assert.equal(r.headers['x-signature'], b64hmac(all.secret, r.body));
        assert.equal(r.headers['webhook-timestamp'], String(Math.floor(clock.now() / 1000)));
        assert.equal(r.headers['webhook-signature'], `v1,${b64hmac(all.secret, `${s.id}.${r.headers['webhook-timestamp']}.${r.body}`)}`);
        assert.equal(r.headers['x-signature-previous'], undefined);
      }
    } finally {
      await closeServer(receiver);
      await closeServer(receiverOne);
    }
  });

  test('a bad signature is refused by the receiver and retried; rotation signs with both secrets during the overlap only', async () => {
    const port = await freePort();
    const ep = await addEndpoint(port);
    const got: string[] = [];
    const receiver = createExecutionsReceiver(ep.secret, (e) => { got.push(e.event); }, clock.now);
    const raw = recordRequests(receiver);
    await listen(receiver, port);
    try {
      // An overlap beyond a week is refused and changes nothing (1e200 hours once stored a date no clock could print).
      for (const overlapHours of [169, 1e200]) {
        const tooLong = await admin(gw, 'POST', `/webhooks/endpoints/${ep.endpointId}/rotate`, { overlapHours });
        assert.equal(tooLong.status, 400, JSON.stringify(tooLong.body));
        assert.equal(tooLong.body.error.code, 'invalid_argument');
      }
      assert.equal((await admin(gw, 'GET', `/webhooks/endpoints/${ep.endpointId}`)).status, 200);
      const rot = await admin(gw, 'POST', `/webhooks/endpoints/${ep.endpointId}/rotate`, { overlapHours: 1 });
      assert.equal(rot.status, 200);
      assert.notEqual(rot.body.secret, ep.secret);
      assert.equal(rot.body.previousSecretUntil, new Date(clock.now() + hour).toISOString());
      const first = await emit('executionActionCompleted');
      await gw.app.webhooks.runOnce();
      // The receiver still holds the old secret: it verifies through the previous-secret signature.
      assert.deepEqual(got, ['executionActionCompleted']);
      const r = raw.at(-1)!;
      assert.equal(r.headers['x-signature'], b64hmac(rot.body.secret, r.body));
      assert.equal(r.headers['x-signature-previous'], b64hmac(ep.secret, r.body));
      assert.deepEqual(String(r.headers['webhook-signature']).split(' '),
        [rot.body.secret, ep.secret].map((s) => `v1,${b64hmac(s, `${first.id}.${r.headers['webhook-timestamp']}.${r.body}`)}`));
      assert.ok(verifySignature(rot.body.secret, r.body, r.headers, clock.now() / 1000));

      clock.advance(hour + 1);
      const second = await emit('executionActionCompleted');
      await gw.app.webhooks.runOnce();
      assert.equal(got.length, 1, 'the old secret no longer signs: the receiver refuses');
      const refused = raw.at(-1)!;
      assert.equal(refused.headers['x-signature-previous'], undefined);
      assert.equal(String(refused.headers['webhook-signature']).split(' ').length, 1);
      assert.ok(!verifySignature(ep.secret, refused.body, refused.headers, clock.now() / 1000));
      assert.ok(verifySignature(rot.body.secret, refused.body, refused.headers, clock.now() / 1000));
      // Replay protection: the same request five minutes later no longer verifies.
      assert.ok(!verifySignature(rot.body.secret, refused.body, refused.headers, clock.now() / 1000 + 301));
      const d = (await admin(gw, 'GET', `/webhooks/events/${second.id}`)).body.deliveries.find((x: any) => x.endpointId === ep.endpointId);
      assert.equal(d.status, 'pending');
      assert.equal(d.lastStatus, 401);
      assert.equal(d.attemptLog[0].excerpt, 'bad signature');
      assert.equal(d.nextAttemptAt, new Date(clock.now() + 30_000).toISOString(), 'executions ladder starts at 30 s');
    } finally {
      await closeServer(receiver);
    }
  });
});

describe('outage, disabling and redelivery', () => {
  const clock = manualClock();
  let gw: Gateway;
  before(async () => {
    gw = await startGateway({ clock, env: { SWITCHYARD_WEBHOOK_ALLOW: loopbackAllow, SWITCHYARD_WEBHOOK_DISABLE_AFTER_HOURS: '72' } });
  });
  after(async () => { await gw.close(); });

  /** Moves the clock to each due retry in turn (never past `until`), running the worker at each. */
  async function runUntil(until: number) {
    for (;;) {
      await gw.app.webhooks.runOnce();
      // What is still due now belongs to a disabled endpoint: only later retries move the clock.
      const pending = (await gw.app.webhooks.deliveries({ status: 'pending', limit: 1000 })).map((d) => Date.parse(d.nextAttemptAt!));
      const next = Math.min(...pending.filter((t) => t > clock.now()));
      if (!Number.isFinite(next) || next > until) { clock.set(Math.max(clock.now(), until)); return; }
      clock.set(Math.max(clock.now(), next));
    }
  }

  test('receiver down for a simulated day, then up: everything delivered once, in the log, with stable ids', async () => {
    const port = await freePort();
    const { endpointId, secret } = await addListener(gw, port);
    const start = clock.now();
    const payments = [];
    for (let i = 0; i < 5; i++) payments.push((await pay(gw, { merchantTransactionId: `outage-${i}` })).body.id);
    // An executions endpoint down as long, with signed events.
    const exPort = await freePort();
    const ex = await admin(gw, 'POST', '/webhooks/endpoints', { merchantId: gw.merchant.merchantId, dialect: 'executions', url: `http://127.0.0.1:${exPort}/` });
    const exEvents: string[] = [];
    for (let i = 0; i < 3; i++) {
      const id = randomBytes(16).toString('hex');
      exEvents.push(id);
      await addOutboxEvent(gw.app.storage.db, { id, merchantId: gw.merchant.merchantId, type: 'execution.executionActionCompleted', subjectId: id, createdAt: clock.now(),
        payload: { event: 'executionActionCompleted', time: new Date(clock.now()).toISOString(), workspaceId: gw.merchant.workspaceId, eventTrigger: 'action', details: { action: 'authorize', success: true, execution: { id } } } });
    }
    // Down: nothing listens on either port for 24 hours.
    await runUntil(start + day);
    let log = (await admin(gw, 'GET', `/webhooks/deliveries?endpointId=${endpointId}`)).body.deliveries;
    assert.equal(log.length, 6);
    for (const d of log) {
      assert.equal(d.status, 'pending');
      assert.equal(d.attempts, 8, 'tried at 0, 1, 3, 7, 15, 30, 60 and 120 minutes');
      assert.match(d.lastError, /ECONNREFUSED/);
    }
    assert.equal((await admin(gw, 'GET', `/webhooks/endpoints/${endpointId}`)).body.status, 'active');

    const got: { n: Notification; id: string }[] = [];
    const receiver = createOppReceiver(secret, (n, id) => { got.push({ n, id }); });
    await listen(receiver, port);
    const exGot: string[] = [];
    const exReceiver = createExecutionsReceiver(ex.body.secret, (e, id) => { exGot.push(id); }, clock.now);
    const exRaw = recordRequests(exReceiver);
    await listen(exReceiver, exPort);
    try {
      await runUntil(start + 2 * day);
      // Executions: every event delivered once after the outage, signed for the time it was sent, same ids.
      assert.deepEqual([...exGot].sort(), [...exEvents].sort());
      for (const r of exRaw) assert.equal(r.headers['x-signature'], b64hmac(ex.body.secret, r.body));
      for (const id of exEvents) {
        const [d] = (await admin(gw, 'GET', `/webhooks/events/${id}`)).body.deliveries;
        assert.equal(d.status, 'delivered');
        assert.ok(Date.parse(d.deliveredAt) > start + day, 'delivered after the outage');
        assert.deepEqual(d.attemptLog.map((a: any) => a.httpStatus ?? 'error'), [...Array(10).fill('error'), 200]);
      }
      assert.equal(got.length, 6);
      assert.deepEqual(got.filter((g) => g.n.type === 'PAYMENT').map((g) => g.n.payload.id).sort(), [...payments].sort());
      log = (await admin(gw, 'GET', `/webhooks/deliveries?endpointId=${endpointId}`)).body.deliveries;
      assert.deepEqual(log.map((d: any) => d.eventId).sort(), got.map((g) => g.id).sort(), 'the ids seen are the ids logged');
      for (const d of log) {
        assert.equal(d.status, 'delivered');
        assert.equal(Date.parse(d.deliveredAt), start + 26 * hour, 'the daily retry after the 1-hour step');
        const attempts = (await admin(gw, 'GET', `/webhooks/events/${d.eventId}`)).body.deliveries[0].attemptLog;
        assert.equal(attempts.length, 9);
        assert.deepEqual(attempts.map((a: any) => a.httpStatus ?? 'error'), [...Array(8).fill('error'), 200]);
      }

      // Redelivery of one event: sent again under the same id.
      const again = got[0]!.id;
      const r = await admin(gw, 'POST', `/webhooks/events/${again}/redeliver`, {});
      assert.deepEqual(r.body, { redelivered: 1, waitingForEnable: 0 });
      await gw.app.webhooks.runOnce();
      assert.equal(got.length, 7);
      assert.equal(got[6]!.id, again);
      assert.equal((await admin(gw, 'POST', `/webhooks/events/${'0'.repeat(32)}/redeliver`, {})).status, 404);
    } finally {
      await closeServer(receiver);
      await closeServer(exReceiver);
    }
  });

  test('an endpoint failing for days is disabled; re-enabled and redelivered, nothing is lost', async () => {
    const port = await freePort();
    const { endpointId, secret } = await addListener(gw, port);
    const since = clock.now();
    const id = (await pay(gw, {})).body.id;
    await runUntil(since + 4 * day);
    const ep = (await admin(gw, 'GET', `/webhooks/endpoints/${endpointId}`)).body;
    assert.equal(ep.status, 'disabled');
    assert.equal(Date.parse(ep.failingSince), since);
    const attemptsWhenDisabled = (await gw.app.webhooks.deliveries({ endpointId }))[0]!.attempts;
    await runUntil(since + 6 * day);
    assert.equal((await gw.app.webhooks.deliveries({ endpointId }))[0]!.attempts, attemptsWhenDisabled, 'no attempts while disabled');
    // Redelivered while disabled: queued, and the operator is told they wait for `enable`.
    const waiting = await admin(gw, 'POST', '/webhooks/redeliver', { since: new Date(since).toISOString(), endpointId });
    assert.deepEqual(waiting.body, { redelivered: 2, waitingForEnable: 2 });

    const got: Notification[] = [];
    const receiver = createOppReceiver(secret, (n) => { got.push(n); });
    await listen(receiver, port);
    try {
      assert.equal((await admin(gw, 'POST', `/webhooks/endpoints/${endpointId}/enable`, {})).body.status, 'active');
      const r = await admin(gw, 'POST', '/webhooks/redeliver', { since: new Date(since).toISOString(), endpointId });
      assert.equal(r.body.redelivered, 2);
      await gw.app.webhooks.runOnce();
      assert.deepEqual(got.map((n) => n.type).sort(), ['PAYMENT', 'test']);
      assert.equal(got.find((n) => n.type === 'PAYMENT')!.payload.id, id);
    } finally {
      await closeServer(receiver);
    }
  });
});

describe('operator API', () => {
  let gw: Gateway;
  before(async () => { gw = await startGateway({ env: { SWITCHYARD_WEBHOOK_ALLOW: loopbackAllow } }); });
  after(async () => { await gw.close(); });

  test('needs the operator token, and refuses bad endpoints with a clear error and no side effect', async () => {
    assert.equal((await admin(gw, 'GET', '/webhooks/endpoints', undefined, null)).status, 401);
    assert.equal((await admin(gw, 'GET', '/webhooks/endpoints', undefined, 'wrong')).status, 401);
    const merchantToken = await admin(gw, 'GET', '/webhooks/endpoints', undefined, gw.merchant.accessToken);
    assert.equal(merchantToken.status, 401, 'a merchant token is not an operator token');
    const base = { merchantId: gw.merchant.merchantId, dialect: 'opp', url: 'http://127.0.0.1:9/x' };
    const cases: [Record<string, unknown>, number, string][] = [
      [{ ...base, dialect: 'soap' }, 400, 'invalid_dialect'],
      [{ ...base, merchantId: 'nope' }, 404, 'merchant_not_found'],
      [{ ...base, entityId: 'f'.repeat(32) }, 404, 'entity_not_found'],
      [{ ...base, url: 'ftp://example.com/' }, 400, 'invalid_url'],
      [{ ...base, url: 'not a url' }, 400, 'invalid_url'],
      [{ ...base, url: 'http://user:pw@127.0.0.1/' }, 400, 'invalid_url'],
      [{ ...base, url: 'http://10.0.0.1/' }, 400, 'refused_address'],
      [{ ...base, types: ['PAYMENTS'] }, 400, 'invalid_types'],
      [{ ...base, types: 'PAYMENT' }, 400, 'invalid_types'],
    ];
    for (const [body, status, code] of cases) {
      const r = await admin(gw, 'POST', '/webhooks/endpoints', body);
      assert.equal(r.status, status, JSON.stringify(body));
      assert.equal(r.body.error.code, code, JSON.stringify(r.body));
    }
    assert.deepEqual((await admin(gw, 'GET', '/webhooks/endpoints')).body, { endpoints: [] });
    assert.equal((await admin(gw, 'GET', `/webhooks/endpoints/${'a'.repeat(32)}`)).status, 404);
    assert.equal((await admin(gw, 'GET', '/webhooks/deliveries?since=yesterday')).status, 400);
    assert.equal((await admin(gw, 'POST', '/webhooks/redeliver', {})).status, 400);
    // The executions dialect's own entity does not make the /v1 listener's entity ambiguous.
    const m = (await gw.app.merchants.byId(gw.merchant.merchantId))!;
    const execEntity = await gw.app.merchants.executionsEntity(m);
    const ok = await admin(gw, 'POST', '/webhooks/endpoints', { ...base, types: ['PAYMENT'] });
    assert.equal(ok.status, 201);
    const listed = (await admin(gw, 'GET', `/webhooks/endpoints?merchantId=${gw.merchant.merchantId}`)).body.endpoints;
    assert.equal(listed.length, 1);
    assert.equal(listed[0].entityId, gw.merchant.entityId);
    assert.notEqual(listed[0].entityId, execEntity.id);
    assert.ok(!JSON.stringify(listed).includes(ok.body.secret), 'secrets are shown once');
    assert.ok(!gw.logs.join('').includes(ok.body.secret), 'nor logged');
    const stored = await gw.app.storage.db.selectFrom('webhook_endpoints').select('secret').execute();
    assert.ok(!stored[0]!.secret.includes(ok.body.secret), 'sealed at rest');
  });
});

describe('an operator\'s change while an attempt is in flight', () => {
  let gw: Gateway;
  before(async () => { gw = await startGateway({ env: { SWITCHYARD_WEBHOOK_ALLOW: loopbackAllow } }); });
  after(async () => { await gw.close(); });

  for (const answer of [200, 500]) {
    test(`an endpoint disabled while an attempt to it is under way stays disabled once the attempt (answered ${answer}) is recorded`, async () => {
      const held: ServerResponse[] = [];
      let arrived!: () => void;
      const arrival = new Promise<void>((r) => { arrived = r; });
      const receiver = createServer((req, res) => { req.resume(); held.push(res); arrived(); });
      const port = await freePort();
      await listen(receiver, port);
      try {
        const ep = await admin(gw, 'POST', '/webhooks/endpoints', { merchantId: gw.merchant.merchantId, dialect: 'opp', url: `http://127.0.0.1:${port}/notify` });
        assert.equal(ep.status, 201, JSON.stringify(ep.body));
        await pay(gw, {});
        const pass = gw.app.webhooks.runOnce();
        await arrival;
        assert.equal((await admin(gw, 'POST', `/webhooks/endpoints/${ep.body.endpointId}/disable`, {})).body.status, 'disabled');
        for (const r of held.splice(0)) r.writeHead(answer).end('ok');
        await pass;
        const now = (await admin(gw, 'GET', `/webhooks/endpoints/${ep.body.endpointId}`)).body;
        assert.equal(now.status, 'disabled', 'the attempt\'s record does not undo the operator\'s disable');
      } finally {
        for (const r of held) r.end();
        await closeServer(receiver);
      }
    });
  }
});

describe('several nodes on PostgreSQL', async () => {
  const { postgresAvailable, testPostgresUrl, tempDir } = await import('./support/harness.ts');
  const { loadConfig } = await import('../src/config.ts');
  const { createApp } = await import('../src/app.ts');
  const { createLogger } = await import('../src/runtime/logger.ts');
  const { Writable } = await import('node:stream');
  const pg = (await import('pg')).default;
  const up = await postgresAvailable();

  test('two nodes over one schema share the work: every event delivered exactly once, all in the log', { skip: up ? false : 'PostgreSQL unreachable' }, async () => {
    const schema = `sy_test_${randomBytes(6).toString('hex')}`;
    const dataDir = tempDir();
    const config = { ...loadConfig({ SWITCHYARD_DATA_DIR: dataDir, SWITCHYARD_WEBHOOK_ALLOW: loopbackAllow, SWITCHYARD_WEBHOOK_BATCH: '4' }), storage: { kind: 'postgres' as const, url: testPostgresUrl, schema } };
    const quiet = () => createLogger({ level: 'warn', destination: new Writable({ write(_c, _e, cb) { cb(); } }) as never });
    const clock = manualClock();
    const a = await createApp(config, { clock, logger: quiet() });
    const b = await createApp(config, { clock, logger: quiet() });
    const port = await freePort();
    const seen = new Map<string, number>();
    try {
      const m = await a.merchants.create({ name: 'Cluster Shop' });
      const ep = await a.webhooks.addEndpoint({ merchantId: m.merchantId, dialect: 'executions', url: `http://127.0.0.1:${port}/` });
      assert.ok(ep.ok);
      const receiver = createExecutionsReceiver(ep.value.secret, (_e, id) => { seen.set(id, (seen.get(id) ?? 0) + 1); }, clock.now);
      await listen(receiver, port);
      try {
        const ids: string[] = [];
        for (let i = 0; i < 40; i++) {
          const id = randomBytes(16).toString('hex');
          ids.push(id);
          await addOutboxEvent(a.storage.db, { id, merchantId: m.merchantId, type: 'execution.executionCreated', subjectId: id, createdAt: clock.now(),
            payload: { event: 'executionCreated', time: new Date(clock.now()).toISOString(), workspaceId: m.workspaceId, eventTrigger: 'api', details: { execution: { id } } } });
        }
        await Promise.all([a.webhooks.runOnce(), b.webhooks.runOnce(), a.webhooks.runOnce(), b.webhooks.runOnce()]);
        await Promise.all([a.webhooks.runOnce(), b.webhooks.runOnce()]);
        assert.deepEqual([...seen.keys()].sort(), [...ids].sort());
        assert.ok([...seen.values()].every((n) => n === 1), 'no event sent twice by two nodes');
        const log = await b.webhooks.deliveries({ endpointId: ep.value.endpointId, limit: 100 });
        assert.equal(log.length, 40);
        assert.ok(log.every((d) => d.status === 'delivered' && d.attempts === 1));
      } finally {
        await closeServer(receiver);
      }
    } finally {
      await a.close();
      await b.close();
      const client = new pg.Client({ connectionString: testPostgresUrl });
      await client.connect();
      try { await client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`); } finally { await client.end(); }
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});

describe('events written by the dialects themselves', () => {
  let gw: Gateway;
  before(async () => { gw = await startGateway({ env: { SWITCHYARD_WEBHOOK_ALLOW: loopbackAllow } }); });
  after(async () => { await gw.close(); });

  test('an executions authorization and /v1 registrations reach their own endpoints only', async () => {
    const { tokenOf, instrument, execution, authorizeBody, poll, call, wf } = await import('./support/executions.ts');
    const [oppPort, exPort] = [await freePort(), await freePort()];
    const listener = await addListener(gw, oppPort);
    const ex = await admin(gw, 'POST', '/webhooks/endpoints', { merchantId: gw.merchant.merchantId, dialect: 'executions', url: `http://127.0.0.1:${exPort}/` });
    const notes: Notification[] = [];
    const events: ExecutionsEvent[] = [];
    const oppR = createOppReceiver(listener.secret, (n) => { notes.push(n); });
    const exR = createExecutionsReceiver(ex.body.secret, (e) => { events.push(e); });
    await listen(oppR, oppPort);
    await listen(exR, exPort);
    try {
      const token = await tokenOf(gw);
      const id = await execution(gw, token);
      const auth = await call(gw, 'POST', `${wf}/${id}/authorize`, { token, body: authorizeBody(await instrument(gw, token)) });
      assert.ok(auth.status < 300, JSON.stringify(auth.body));
      const done = await poll(gw, token, id, ['created', 'authorizeRequested']);
      assert.equal(done.status, 'authorized', JSON.stringify(done));
      const reg = await opp(gw, 'POST', '/v1/registrations', { ...testCard });
      assert.ok(reg.body.id, JSON.stringify(reg.body));
      await opp(gw, 'DELETE', `/v1/registrations/${reg.body.id}`);
      await gw.app.webhooks.runOnce();

      const names = events.map((e) => e.event);
      for (const name of ['executionCreated', 'executionActionRequested', 'executionActionCompleted']) assert.ok(names.includes(name), `${name} in ${names}`);
      const completed = events.find((e) => e.event === 'executionActionCompleted')!;
      assert.equal(completed.details.action, 'authorize');
      assert.equal(completed.details.success, true);
      assert.equal(completed.details.execution.id, id);
      assert.equal(completed.workspaceId, gw.merchant.workspaceId);
      // The /v1 listener got its activation message and the registration's lifecycle, not the execution's payment.
      assert.deepEqual(notes.map((n) => `${n.type}${n.action ? ':' + n.action : ''}`).sort(), ['REGISTRATION:CREATED', 'REGISTRATION:DELETED', 'test:webhook activation']);
      assert.equal(notes.find((n) => n.action === 'CREATED')!.payload.id, reg.body.id);
      assert.ok(!JSON.stringify(notes).includes(testCard['card.number']));
    } finally {
      await closeServer(oppR);
      await closeServer(exR);
    }
  });
});
