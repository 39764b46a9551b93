import { test } from 'node:test';
import assert from 'node:assert/strict';
import { manualClock } from '../runtime/clock.ts';
import { randomIds } from '../runtime/ids.ts';
import { createLogger } from '../runtime/logger.ts';
import { createServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Connector, ConnectorRequest } from '../processors/connector.ts';
import { createOppConnector } from '../processors/opp/connector.ts';
import type { Outcome } from '../processors/outcome.ts';
import type { AttemptRecord, OperationRecord, PaymentRecord, PaymentStore } from './store.ts';
import { createLateApprovals, inDoubtLimitMs, type LateApproval, type LateApprovalStore } from './late-approvals.ts';

/** The reversal job against PSPs that answer late, never, or only by notification; the store kept in memory with the same conditional update. */

function memoryStore(): LateApprovalStore & { readonly rows: Map<string, LateApproval> } {
  const rows = new Map<string, LateApproval>();
  return {
    rows,
    async record(a) { if (rows.has(a.attemptId)) return false; rows.set(a.attemptId, a); return true; },
    async get(id) { return rows.get(id); },
    async byReversalId(id) { return [...rows.values()].find((r) => r.reversalId === id); },
    async due(now) { return [...rows.values()].filter((r) => r.status === 'reversing' && r.nextTryAt <= now); },
    async update(id, from, change) {
      const r = rows.get(id);
      if (!r || r.status !== from.status || r.updatedAt !== from.updatedAt) return false;
      rows.set(id, { ...r, ...change });
      return true;
    },
    async unsettled() { return [...rows.values()].filter((r) => r.status === 'reversing' || r.status === 'operator').length; },
    async list() { return [...rows.values()]; },
    async resolve(id, note, at) {
      const r = rows.get(id);
      if (!r || (r.status !== 'reversing' && r.status !== 'operator')) return false;
      rows.set(id, { ...r, status: 'resolved', lastResult: `resolved by an operator: ${note}`, updatedAt: at });
      return true;
    },
  };
}

const approved: Exclude<Outcome, { kind: 'unknown' }> = { kind: 'approved', pspReference: 're_1', acquirerCode: undefined, details: {} };
const pending: Exclude<Outcome, { kind: 'unknown' }> = { kind: 'pending', action: undefined, pspReference: 're_1', acquirerCode: '[refund-received]', details: {} };
const refused: Exclude<Outcome, { kind: 'unknown' }> = { kind: 'declined', reason: 'provider_error', acquirerCode: 'REFUND_FAILED', message: undefined, pspReference: 're_1', details: {} };

async function setup(connector: Connector) {
  const errors: string[] = [];
  const logger = { ...createLogger({ level: 'silent' }), error: (_o: unknown, message: string) => { errors.push(message); } } as unknown as ReturnType<typeof createLogger>;
  const clock = manualClock(1_800_000_000_000);
  const store = memoryStore();
  const payments = {
    operation: async () => ({ id: 'op', kind: 'sale', amount: { amount: 1000, currency: 'EUR' }, seq: 0 }) as unknown as OperationRecord,
    payment: async () => ({ id: 'p', merchantId: 'm', live: true }) as unknown as PaymentRecord,
    operationsOf: async () => [],
  } as unknown as PaymentStore;
  const deps = { store, payments, connectorFor: async () => connector, clock, ids: randomIds, logger, pspTimeoutMs: 30_000 };
  const late = createLateApprovals(deps);
  const attempt = { id: 'a1', paymentId: 'p', operationId: 'op', accountId: 'acc', reason: 'not_received', status: 'failed' } as unknown as AttemptRecord;
  assert.equal(await late.found(attempt, { kind: 'approved', pspReference: 'pi_1', acquirerCode: undefined, details: {} }), true);
  assert.deepEqual(errors, ['a PSP approved an attempt the gateway had ended as failed: the gateway reverses it']);
  errors.length = 0;
  const row = () => store.rows.get('a1')!;
  /** Job passes once a minute for `minutes`. */
  const passes = async (minutes: number) => { for (let i = 0; i < minutes; i++) { clock.advance(60_000); await late.reverseDue(); } };
  /** The same store as a process started afresh sees it. */
  const restarted = () => createLateApprovals(deps);
  return { clock, store, late, row, passes, errors, restarted };
}

function psp(behaviour: { execute: (req: ConnectorRequest) => Promise<Exclude<Outcome, { kind: 'unknown' }>>; lookup?: Connector['lookup'] } & Partial<Connector>) {
  const sent: ConnectorRequest[] = [];
  const connector: Connector = {
    name: 'psp', operations: ['refund', 'void'], timeoutMs: 30_000, lookup: async () => undefined, ...behaviour,
    execute: (req) => { sent.push(req); return behaviour.execute(req); },
  };
  return { connector, sent };
}

test('a lookup that lags (Stripe): a reversal lost on its way is sent again under its key once the lag has passed, not before', async () => {
  let first = true;
  const p = psp({ lookupLagMs: 10 * 60_000, async execute() { if (first) { first = false; throw new Error('connection reset'); } return approved; } });
  const { late, row, passes } = await setup(p.connector);
  await late.reverseDue();
  assert.deepEqual([p.sent.length, row().inDoubt], [1, true]);
  await passes(9);
  assert.equal(p.sent.length, 1, 'not found within the lag means not yet');
  await passes(2);
  assert.equal(p.sent.length, 2);
  assert.equal(p.sent[1]!.attemptId, p.sent[0]!.attemptId);
  assert.equal(row().status, 'reversed');
});

test('a PSP that cannot be asked but answers a repeat as the first (Adyen) gets it again under its key; unconfirmed for a day, it goes to an operator', async () => {
  const p = psp({ dedupesByKey: true, async execute() { throw new Error('HTTP 500'); }, async lookup() { throw new Error('no status API'); } });
  const { late, row, passes } = await setup(p.connector);
  await late.reverseDue();
  await passes(60);
  assert.ok(p.sent.length > 1, 'sent again');
  assert.equal(new Set(p.sent.map((r) => r.attemptId)).size, 1, 'always under the one key');
  assert.equal(row().status, 'reversing');
  await passes(24 * 60);
  assert.equal(row().status, 'operator');
  assert.match(row().lastResult ?? '', /unconfirmed/);
});

test('a PSP that can neither be asked nor dedupes gets an unanswered reversal once, and an operator after a day', async () => {
  const p = psp({ timeoutMs: 20, async execute() { return new Promise(() => {}); }, async lookup() { throw new Error('status API down'); } });
  const { late, row, passes } = await setup(p.connector);
  await late.reverseDue();
  await passes(inDoubtLimitMs / 60_000 + 5);
  assert.equal(p.sent.length, 1);
  assert.equal(row().status, 'operator');
});

test('a pending reversal (Adyen\'s "received") stays owed until the PSP\'s notification; a later REFUND_FAILED makes it owed again under a new key', async () => {
  const p = psp({ dedupesByKey: true, async execute() { return pending; }, async lookup() { throw new Error('no status API'); } });
  const { late, row, passes } = await setup(p.connector);
  await late.reverseDue();
  assert.deepEqual([row().status, row().inDoubt], ['reversing', true]);
  const key = p.sent[0]!.attemptId;
  assert.equal(await late.reversalSettled('other-account', key, approved), false, 'another account\'s notification');
  assert.equal(await late.reversalSettled('acc', key, approved), true);
  assert.deepEqual([row().status, row().inDoubt], ['reversed', false]);
  await passes(30);
  assert.equal(p.sent.length, 1);
  assert.equal(await late.reversalSettled('acc', key, refused), true);
  assert.equal(row().status, 'reversing');
  assert.notEqual(row().reversalId, key);
  assert.equal(row().refusals, 1);
  await passes(3);
  assert.equal(p.sent.length, 2);
  assert.equal(p.sent[1]!.attemptId, row().reversalId);
});

test('two passes that read the row together (two nodes) send it once: the row is claimed before the call', async () => {
  let release!: (o: Exclude<Outcome, { kind: 'unknown' }>) => void;
  const p = psp({ execute: () => new Promise((r) => { release = r; }) });
  const { store, late, row } = await setup(p.connector);
  // Both passes read the row before either moves it.
  const due = store.due.bind(store);
  let readers = 0;
  let bothRead!: () => void;
  const both = new Promise<void>((r) => { bothRead = r; });
  (store as { due: LateApprovalStore['due'] }).due = async (now, limit) => {
    const rows = await due(now, limit);
    if (++readers === 2) bothRead();
    await both;
    return rows;
  };
  const first = late.reverseDue();
  const second = late.reverseDue();
  await new Promise((r) => setTimeout(r, 10));
  assert.equal(p.sent.length, 1);
  assert.deepEqual([row().inDoubt, row().lastResult], [true, 'refund sent'], 'claimed before the call');
  assert.equal(readers, 2);
  release(approved);
  await Promise.all([first, second]);
  assert.equal(p.sent.length, 1);
  assert.equal(row().status, 'reversed');
});

test('a pass that stalls between its claim and its call past the claim\'s time sends nothing: another node has looked the reversal up and sent it meanwhile', async () => {
  const p = psp({ async execute() { return approved; } });
  const { clock, store, late, row, restarted } = await setup(p.connector);
  // The claim commits, then this node pauses (a long GC pause, a frozen VM) before its call.
  const update = store.update.bind(store);
  let resume!: () => void;
  let claimed!: () => void;
  const claimMade = new Promise<void>((r) => { claimed = r; });
  (store as { update: LateApprovalStore['update'] }).update = async (id, from, change) => {
    const done = await update(id, from, change);
    if (change.lastResult === 'refund sent') { claimed(); await new Promise<void>((r) => { resume = r; }); }
    return done;
  };
  const stalled = late.reverseDue();
  await claimMade;
  (store as { update: LateApprovalStore['update'] }).update = update;
  // The claim's time runs out; another node finds the row in doubt, the PSP does not know the reversal, and it is sent.
  clock.advance(2 * 30_000 + 1);
  await restarted().reverseDue();
  assert.equal(p.sent.length, 1);
  assert.equal(row().status, 'reversed');
  resume();
  await stalled;
  assert.equal(p.sent.length, 1, 'the stalled node sent the refund a second time, to a PSP that does not dedupe by key');
});

test('a process that dies during the call leaves the reversal in doubt: after a restart it is looked up, not sent again', async () => {
  const lookups: string[] = [];
  const p = psp({ execute: () => new Promise(() => {}), async lookup(id) { lookups.push(id); return approved; } });
  const { clock, late, row, restarted } = await setup(p.connector);
  void late.reverseDue(); // the call never comes back: the process is killed during it
  await new Promise((r) => setTimeout(r, 10));
  assert.equal(p.sent.length, 1);
  clock.advance(60_000 + 1);
  assert.equal(await restarted().reverseDue(), 1);
  assert.deepEqual(lookups, [p.sent[0]!.attemptId]);
  assert.equal(p.sent.length, 1);
  assert.equal(row().status, 'reversed');
});

const declinedWith = (acquirerCode: string): Exclude<Outcome, { kind: 'unknown' }> =>
  ({ kind: 'declined', reason: 'invalid_request', acquirerCode, message: undefined, pspReference: undefined, details: {} });

for (const [name, behaviour, duplicate] of [
  ['an OPP acquirer (no dedupe, a transaction id used twice is refused)', { async lookup() { return undefined; } }, declinedWith('800.130.100')],
  ['Adyen (dedupes, cannot be asked; a key still in progress is refused)', { dedupesByKey: true, async lookup() { throw new Error('no status API'); } }, declinedWith('704')],
] as const) {
  test(`${name}: a refusal of a try sent again under its key proves nothing, and no second reversal goes out under a new key`, async () => {
    let n = 0;
    const p = psp({
      ...behaviour, timeoutMs: 20,
      async execute() { n++; return n === 1 ? new Promise(() => {}) /* made, its answer lost */ : n === 2 ? duplicate : approved; },
    });
    const { late, row, passes } = await setup(p.connector);
    await late.reverseDue();
    await passes(10);
    assert.equal(new Set(p.sent.map((r) => r.attemptId)).size, 1, `sent ${p.sent.length} times under more than one key`);
    assert.equal(row().refusals, 0);
  });
}

test('a notification that reads the row just before the job moves it is not dropped: it reads again', async () => {
  const p = psp({ dedupesByKey: true, async execute() { return pending; }, async lookup() { throw new Error('no status API'); } });
  const { store, late, row, clock } = await setup(p.connector);
  await late.reverseDue();
  const key = row().reversalId;
  clock.advance(16 * 60_000);
  const read = store.byReversalId.bind(store);
  let go!: () => void;
  const gate = new Promise<void>((r) => { go = r; });
  let held = false;
  (store as { byReversalId: LateApprovalStore['byReversalId'] }).byReversalId = async (id) => {
    const r = await read(id);
    if (!held) { held = true; await gate; }
    return r;
  };
  const notified = late.reversalSettled('acc', key, approved);
  await late.reverseDue(); // the job sends it again under its key: "received" again
  go();
  assert.equal(await notified, true);
  assert.equal(row().status, 'reversed');
});

test('a reversal left to an operator after a day still pending is reversed when the PSP confirms it; one an operator resolved by hand raises an alarm', async () => {
  const p = psp({ dedupesByKey: true, async execute() { return pending; }, async lookup() { throw new Error('no status API'); } });
  const { late, row, store, errors, passes } = await setup(p.connector);
  await late.reverseDue();
  const key = row().reversalId;
  await passes(25 * 60);
  assert.equal(row().status, 'operator');
  assert.match(row().lastResult ?? '', /still pending at the PSP after 2\d h/);
  assert.equal(await late.reversalSettled('acc', key, approved), true);
  assert.equal(row().status, 'reversed');
  store.rows.set('a1', { ...row(), status: 'resolved' });
  errors.length = 0;
  assert.equal(await late.reversalSettled('acc', key, approved), true);
  assert.equal(errors.length, 1);
  assert.match(errors[0]!, /operator resolved by hand/);
});

test('a fifth refusal that arrives after a notification reversed the row changes nothing and raises no alarm', async () => {
  let release!: (o: Exclude<Outcome, { kind: 'unknown' }>) => void;
  const p = psp({ execute: () => new Promise((r) => { release = r; }) });
  const { store, late, row, errors } = await setup(p.connector);
  store.rows.set('a1', { ...row(), refusals: 4 });
  const job = late.reverseDue();
  await new Promise((r) => setTimeout(r, 10));
  assert.equal(await late.reversalSettled('acc', row().reversalId, approved), true);
  release(declinedWith('error'));
  await job;
  assert.equal(row().status, 'reversed');
  assert.deepEqual(errors, []);
});

const json = (res: ServerResponse, status: number, body: unknown) => { res.writeHead(status, { 'content-type': 'application/json' }); res.end(JSON.stringify(body)); };

test('an OPP acquirer: a lookup that lists only the duplicate-id refusal of a resend (the first send not listed yet, or listed as uncertain) is no refusal: no second refund under a new key', async (t) => {
  // The acquirer took the first refund (its answer lost; its bank still working on it) and lists it
  // in its query only later; a resend under the same merchantTransactionId is refused as a duplicate,
  // and that refusal is listed at once.
  const posts: string[] = [];
  const listed = new Map<string, { id: string; result: { code: string } }[]>();
  let queries = 0;
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (c) => { body += c; });
    req.on('end', () => {
      if (req.method === 'POST') {
        const key = new URLSearchParams(body).get('merchantTransactionId')!;
        posts.push(key);
        if (posts.length === 1) return; // made, never answered
        if (posts.filter((k) => k === key).length > 1) {
          const dup = { id: `dup${posts.length}`, result: { code: '800.130.100', description: 'transaction with same TransactionId already exists' } };
          listed.set(key, [...(listed.get(key) ?? []), dup]);
          return json(res, 200, dup);
        }
        return json(res, 200, { id: `rf${posts.length}`, result: { code: '000.100.110' } });
      }
      queries++;
      const key = new URL(req.url!, 'http://x').searchParams.get('merchantTransactionId')!;
      const found = listed.get(key);
      if (!found) return json(res, 400, { result: { code: '700.400.580', description: 'cannot find transaction' } });
      return json(res, 200, { result: { code: '000.000.100' }, payments: found });
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  t.after(() => new Promise<void>((r) => { server.closeAllConnections(); server.close(() => r()); }));
  const connector = createOppConnector({ baseUrl: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, accessToken: 't', entityId: 'e' }, 200);
  const { late, row, passes } = await setup(connector);
  await late.reverseDue();
  await passes(10);
  assert.ok(queries >= 2);
  assert.deepEqual(posts.length >= 2 && new Set(posts).size, 1, `refunds sent under ${new Set(posts).size} keys (${posts.length} POSTs); row ${row().status} ${row().lastResult}`);
});

test('an operator resolves a row while its try is at the PSP, which then makes it: an error says the cardholder may be refunded twice', async () => {
  let release!: (o: Exclude<Outcome, { kind: 'unknown' }>) => void;
  const sent: ConnectorRequest[] = [];
  const connector: Connector = {
    name: 'psp', operations: ['refund', 'void'], timeoutMs: 30_000, lookup: async () => undefined,
    execute: (req) => { sent.push(req); return new Promise((r) => { release = r; }); },
  };
  const { late, row, store, errors, clock } = await setup(connector);
  const job = late.reverseDue();
  await new Promise((r) => setTimeout(r, 10));
  assert.equal(sent.length, 1);
  // `switchyard late-approvals resolve a1 --note "refunded by hand"`, run now
  assert.equal(await store.resolve('a1', 'refunded by hand', clock.now()), true);
  release(approved);
  await job;
  assert.equal(row().status, 'resolved');
  assert.equal(errors.length, 1, 'the PSP made the reversal of a row an operator resolved by hand, and nothing was logged');
  assert.match(errors[0]!, /operator resolved by hand/);
});
