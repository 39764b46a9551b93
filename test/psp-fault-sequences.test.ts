/**
 * Model-based random sequences of /v1 operations and executions actions, seeded, against a PSP that
 * misbehaves (declines, provider errors, answers lost after it acted, calls that never reached it,
 * slow and late answers), on SQLite and on two nodes over PostgreSQL. After the periodic jobs ran
 * with a manual clock until nothing is open: every answer agrees with the store, the PSP's own books
 * agree with the gateway's, the ledger verifies, the invariants hold, the outbox agrees.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { manualClock } from '../src/runtime/clock.ts';
import type { App } from '../src/app.ts';
import { opp, pay, postgresAvailable, secondNode, startGateway, type Gateway } from './support/harness.ts';
import { authorizeBody, call, execution, instrument, tokenOf, wf, type Reachable } from './support/executions.ts';
import { checkInvariants, describeViolations } from './support/invariants.ts';
import { faultPsp, rng, schedule, type Fault } from './support/fault-psp.ts';

const pgUp = await postgresAvailable();
const ok = (code: string) => /^(000\.000\.|000\.100\.1|000\.[36])/.test(code);
const unknownCode = '900.100.300';
/** In doubt when answered: lost (900.100.300) or still at the PSP (000.200.xxx). */
const inDoubt = (code: string) => code === unknownCode || /^000\.200\./.test(code);
const cents = (n: number) => (n / 100).toFixed(2);
const TIMEOUT = 300;
const LOOKUP_FAILS = 0.1;

type Op = { t: 'CP' | 'RF'; amt: number } | { t: 'RV' } | { t: 'PAIR'; a: Op; b: Op };
type XOp = { t: 'capture'; amt: number; final?: boolean } | { t: 'refund'; amt: number } | { t: 'cancel' } | { t: 'PAIR'; a: XOp; b: XOp };
const name = (o: Op | XOp): string => o.t === 'PAIR' ? `[${name(o.a)}||${name(o.b)}]` : `${o.t}${'amt' in o ? ' ' + cents(o.amt) : ''}${'final' in o && o.final !== undefined ? ` final=${o.final}` : ''}`;

export interface World {
  gw: Gateway; b?: App; bUrl?: string; clock: ReturnType<typeof manualClock>; psp: ReturnType<typeof faultPsp>;
  setFaults(f: () => Fault): void;
}

export async function world(store: 'sqlite' | 'postgres'): Promise<World> {
  const clock = manualClock(Date.now());
  let next: () => Fault = () => 'ok';
  const psp = faultPsp({ next: () => next(), slowMs: TIMEOUT * 2, lookupFails: () => Math.random() < LOOKUP_FAILS });
  const env = { SWITCHYARD_PSP_TIMEOUT_MS: String(TIMEOUT) };
  const gw = await startGateway({ store, clock, processor: psp.connector, env });
  const w: World = { gw, clock, psp, setFaults: (f) => { next = f; } };
  if (store === 'postgres') {
    const n2 = await secondNode(gw, { processor: psp.connector, clock });
    w.b = n2.app; w.bUrl = n2.url;
  }
  return w;
}

const node = (w: World, i: number): Reachable => (i % 2 === 1 && w.bUrl ? { url: w.bUrl, merchant: w.gw.merchant } : w.gw);

const stuck = new Set<string>();
/** Runs the periodic jobs on a manual clock until nothing is open (or gives up and says so). */
export async function drain(w: World): Promise<string[]> {
  const db = w.gw.app.storage.db;
  for (let round = 0; round < 40; round++) {
    await w.psp.settled();
    await w.gw.app.payments.idle();
    await w.b?.payments.idle();
    const open = (await db.selectFrom('transactions').select(['id', 'type', 'status']).where('status', 'in', ['pending', 'unknown']).execute()).filter((t) => !stuck.has(t.id));
    const lates = await db.selectFrom('late_approvals').select(['attempt_id', 'status']).where('status', '<>', 'reversed').execute();
    const execs = (await db.selectFrom('executions').select(['id', 'status']).where('status', 'in', ['authorizeRequested', 'captureRequested', 'unknown']).execute()).filter((e) => !stuck.has(e.id));
    if (open.length === 0 && lates.length === 0 && execs.length === 0) return [];
    if (round === 39) { for (const e of execs) stuck.add(e.id); for (const t of open) stuck.add(t.id); return [`still open after the jobs: ${JSON.stringify({ open, lates, execs })}`]; }
    w.clock.advance(61_000);
    await w.gw.app.jobs.runDue();
    if (w.b) await w.b.jobs.runDue();
    await new Promise((r) => setTimeout(r, 20));
  }
  return [];
}

/** The PSP's books against the gateway's: per attempt, per authorization. */
export async function pspAgrees(w: World, paymentIds: string[]): Promise<string[]> {
  const problems: string[] = [...w.psp.problems];
  const db = w.gw.app.storage.db;
  const attempts = await db.selectFrom('attempts').select(['id', 'payment_id', 'transaction_id', 'status', 'psp_reference']).where('payment_id', 'in', paymentIds).execute();
  const txs = await db.selectFrom('transactions').select(['id', 'payment_id', 'type', 'status', 'amount']).where('payment_id', 'in', paymentIds).execute();
  const lates = await db.selectFrom('late_approvals').selectAll().execute();
  const ourAttempts = new Set(attempts.map((a) => a.id));
  for (const a of attempts) {
    const act = w.psp.acts.get(a.id);
    const tx = txs.find((t) => t.id === a.transaction_id);
    const pspApproved = act?.result === 'approved';
    if (pspApproved && a.status !== 'succeeded') {
      const late = lates.find((l) => l.attempt_id === a.id);
      if (!late) problems.push(`PSP did ${act!.op} ${act!.amount} (${act!.fault}) of attempt ${a.id}; gateway attempt ${a.status}, tx ${tx?.type} ${tx?.status}, no late-approval reversal`);
    }
    if (!pspApproved && a.status === 'succeeded') problems.push(`gateway attempt ${a.id} (${tx?.type}) succeeded; PSP ${act ? act.result : 'never did it'}`);
  }
  for (const pid of paymentIds) {
    const mine = txs.filter((t) => t.payment_id === pid);
    const s: Record<string, number> = {};
    for (const t of mine) if (t.status === 'succeeded') s[t.type] = (s[t.type] ?? 0) + Number(t.amount);
    const initialAttempts = attempts.filter((a) => a.payment_id === pid && mine.find((t) => t.id === a.transaction_id && (t.type === 'authorize' || t.type === 'sale')));
    for (const ia of initialAttempts) {
      const act = w.psp.acts.get(ia.id);
      if (act?.result !== 'approved') continue;
      const auth = w.psp.auths.get(act.ref!)!;
      const gwCaptured = (s.capture ?? 0) + (s.sale ?? 0);
      const gwRefunded = s.refund ?? 0;
      if (ia.status === 'succeeded') {
        // The gateway's captures and refunds are the PSP's, less the gateway's own reversals of late ones.
        const lateOnThis = lates.filter((l) => l.payment_id === pid && l.attempt_id !== ia.id);
        const lateCap = lateOnThis.filter((l) => l.operation === 'capture').reduce((x, l) => x + Number(l.amount), 0);
        const lateRef = lateOnThis.filter((l) => l.operation === 'refund').reduce((x, l) => x + Number(l.amount), 0);
        const reversalRefunds = [...w.psp.acts.values()].filter((x) => !ourAttempts.has(x.attemptId) && x.on === auth.ref && x.op === 'refund' && x.result === 'approved').reduce((t, x) => t + x.amount, 0);
        if (auth.captured !== gwCaptured + lateCap) problems.push(`payment ${pid}: PSP captured ${auth.captured}, gateway ${gwCaptured} (+late ${lateCap}) ${JSON.stringify(s)}`);
        if (auth.refunded - reversalRefunds !== gwRefunded + (lateRef)) problems.push(`payment ${pid}: PSP refunded ${auth.refunded} (gateway's own reversals ${reversalRefunds}), gateway ${gwRefunded} ${JSON.stringify(s)}`);
        if (auth.voided !== ((s.void ?? 0) > 0) && !(auth.voided && lateCap > 0)) problems.push(`payment ${pid}: PSP voided ${auth.voided}, gateway void ${s.void ?? 0} ${JSON.stringify(s)}`);
      } else {
        // Ended failed at the gateway: the PSP must hold nothing of it.
        const held = auth.voided ? 0 : auth.kind === 'authorize' ? auth.amount - auth.captured + (auth.captured - auth.refunded) : auth.captured - auth.refunded;
        if (held > 0) problems.push(`payment ${pid}: gateway ended its ${auth.kind} ${ia.status}, PSP still holds ${held} (${JSON.stringify(auth)})`);
      }
    }
  }
  return problems;
}

/** Every answered /v1 operation against the store and the outbox. */
async function answersAgree(w: World, answered: { id?: string; code: string; op: string }[]): Promise<string[]> {
  const problems: string[] = [];
  const db = w.gw.app.storage.db;
  const events = await db.selectFrom('outbox').select(['type', 'subject_id', 'payload']).execute();
  for (const x of answered) {
    if (!x.id) continue;
    const row = await db.selectFrom('transactions').select(['status', 'result_code']).where('id', '=', x.id).executeTakeFirst();
    if (!row) continue;
    if (ok(x.code) && row.status !== 'succeeded') problems.push(`${x.op} answered ${x.code}, stored ${row.status} ${row.result_code}`);
    if (!ok(x.code) && !inDoubt(x.code) && row.status === 'succeeded') problems.push(`${x.op} answered ${x.code}, stored succeeded`);
    const q = await opp(w.gw, 'GET', `/v1/query/${x.id}`);
    const qc = q.body?.result?.code ?? q.body?.payments?.[0]?.result?.code;
    if (!inDoubt(x.code) && qc !== x.code) problems.push(`${x.op} answered ${x.code}, query says ${qc}`);
    if (inDoubt(x.code) && inDoubt(qc)) problems.push(`${x.op} still ${unknownCode} after the jobs`);
    const mine = events.filter((e) => e.subject_id === x.id || String(e.payload).includes(`"id":"${x.id}"`));
    const okEv = mine.filter((e) => /succeeded|success/.test(e.type)).length;
    if (row.status === 'succeeded' && okEv !== 1) problems.push(`${x.op} ${x.code} (stored succeeded): ${okEv} success events (${mine.map((e) => e.type)})`);
    if (row.status !== 'succeeded' && okEv !== 0) problems.push(`${x.op} ${x.code} (stored ${row.status}): a success event`);
  }
  return problems;
}

function genOpp(r: () => number, kind: 'PA' | 'DB'): Op[] {
  const amounts = [1000, 2500, 4000, 5000, 6000];
  const one = (): Op => {
    const x = r(); const amt = amounts[Math.floor(r() * amounts.length)]!;
    if (x < 0.45 && kind === 'PA') return { t: 'CP', amt };
    if (x < 0.6 && kind === 'PA') return { t: 'RV' };
    if (x < 0.1) return { t: 'RV' };
    return { t: 'RF', amt };
  };
  return Array.from({ length: 6 }, () => (r() < 0.3 ? { t: 'PAIR' as const, a: one(), b: one() } : one()));
}

export async function runOpp(w: World, kind: 'PA' | 'DB', ops: Op[], label: string) {
  const answered: { id?: string; code: string; op: string }[] = [];
  const init = await pay(w.gw, { paymentType: kind, amount: '100.00' });
  const pid = init.body.id as string;
  answered.push({ id: pid, code: init.body.result.code, op: kind });
  let step = 0;
  const send = async (op: Op, n: number) => {
    if (op.t === 'PAIR') return;
    const params: Record<string, string> = { paymentType: op.t };
    if ('amt' in op) { params.amount = cents(op.amt); params.currency = 'EUR'; }
    const r = await opp(node(w, n), 'POST', `/v1/payments/${pid}`, params);
    const code = r.body?.result?.code ?? `http-${r.status}`;
    answered.push({ id: r.body?.id, code, op: `${name(op)}@${n % 2 && w.bUrl ? 'B' : 'A'}` });
  };
  for (const op of ops) {
    step++;
    if (op.t === 'PAIR') await Promise.all([send(op.a, step), send(op.b, step + 1), ...(step % 2 ? [w.gw.app.jobs.runDue(), w.b?.jobs.runDue()] : [])]);
    else await send(op, step);
    // Now and then the jobs run between operations, as they would.
    if (step % 3 === 0) { await w.psp.settled(); w.clock.advance(61_000); await w.gw.app.jobs.runDue(); }
  }
  const problems = await drain(w);
  problems.push(...await answersAgree(w, answered));
  problems.push(...await pspAgrees(w, [pid]));
  const v = await checkInvariants(w.gw.app.storage.db, { merchantIds: [w.gw.merchant.merchantId] });
  if (v.length) problems.push(describeViolations(v));
  const lv = await w.gw.app.ledger.verify();
  if (lv !== undefined) problems.push(`ledger: ${JSON.stringify(lv)}`);
  const rows = await w.gw.app.storage.db.selectFrom('transactions').select(['type', 'status', 'amount', 'result_code']).where('payment_id', '=', pid).orderBy('seq').execute();
  return { problems, trace: `${label} ${kind}: ${answered.map((x) => `${x.op}=${x.code}`).join(', ')}\n  rows ${JSON.stringify(rows.map((x) => [x.type, x.status, Number(x.amount), x.result_code]))}` };
}

function genX(r: () => number): XOp[] {
  const amounts = [1000, 2500, 4000, 5000, 6000];
  const one = (): XOp => {
    const x = r(); const amt = amounts[Math.floor(r() * amounts.length)]!;
    if (x < 0.5) { const f = r(); return { t: 'capture', amt, ...(f < 0.5 ? { final: false } : f < 0.75 ? { final: true } : {}) }; }
    if (x < 0.85) return { t: 'refund', amt };
    return { t: 'cancel' };
  };
  return Array.from({ length: 5 }, () => (r() < 0.3 ? { t: 'PAIR' as const, a: one(), b: one() } : one()));
}

export async function runX(w: World, _token: string, ops: XOp[], label: string) {
  const problems: string[] = [];
  let token = await tokenOf(w.gw);
  const inst = await instrument(w.gw, token);
  const id = await execution(w.gw, token);
  const ack = await call(w.gw, 'POST', `${wf}/${id}/authorize`, { token, body: authorizeBody(inst, '100.00') });
  const trace: string[] = [`authorize=${ack.status}`];
  problems.push(...await drain(w));
  token = await tokenOf(w.gw);
  let e = (await call(w.gw, 'GET', `${wf}/${id}`, { token })).body;
  trace.push(`->${e.status}`);
  const pid = e.paymentComposition?.[0]?.paymentId as string | undefined;
  let step = 0;
  const send = async (op: XOp, n: number) => {
    if (op.t === 'PAIR') return;
    const body = op.t === 'capture' ? { amount: { value: cents(op.amt), currency: 'EUR' }, ...(op.final !== undefined ? { final: op.final } : {}) }
      : op.t === 'refund' ? { amount: { value: cents(op.amt), currency: 'EUR' } } : {};
    const r = await call(node(w, n), 'POST', `${wf}/${id}/${op.t}`, { token, key: randomUUID(), body });
    if (r.status === 401) problems.push('token expired');
    if (r.status >= 500) problems.push(`${name(op)} HTTP ${r.status} ${JSON.stringify(r.body).slice(0, 300)}`);
    trace.push(`${name(op)}=${r.status}${r.status >= 300 ? ':' + (r.body?.errors?.[0]?.code ?? r.body?.code ?? '') : ''}`);
  };
  for (const op of ops) {
    step++;
    if (op.t === 'PAIR') await Promise.all([send(op.a, step), send(op.b, step + 1)]);
    else await send(op, step);
    if (step % 2 === 0) { problems.push(...await drain(w)); token = await tokenOf(w.gw); }
  }
  problems.push(...await drain(w));
  token = await tokenOf(w.gw);
  e = (await call(w.gw, 'GET', `${wf}/${id}`, { token })).body;
  trace.push(`final ${e.status}`);
  if (pid) {
    problems.push(...await pspAgrees(w, [pid]));
    const rows = await w.gw.app.storage.db.selectFrom('transactions').select(['type', 'status', 'amount']).where('payment_id', '=', pid).execute();
    const s: Record<string, number> = {};
    for (const x of rows) if (x.status === 'succeeded') s[x.type] = (s[x.type] ?? 0) + Number(x.amount);
    const cAmt = Math.round(Number(e.capturedAmount?.value ?? 0) * 100);
    const rAmt = Math.round(Number(e.refundedAmount?.value ?? 0) * 100);
    if (cAmt !== (s.capture ?? 0) || rAmt !== (s.refund ?? 0)) problems.push(`execution says captured ${cAmt} refunded ${rAmt}, books ${JSON.stringify(s)}`);
    trace.push(`rows ${JSON.stringify(rows.map((x) => [x.type, x.status, Number(x.amount)]))}`);
  }
  const events = await w.gw.app.storage.db.selectFrom('outbox').select(['type', 'payload']).where('subject_id', '=', id).execute();
  const last = events.at(-1);
  const lp = last ? JSON.parse(String(last.payload)) : undefined;
  const lastStatus = lp ? (lp.data?.status ?? lp.status ?? lp.execution?.status) : undefined;
  if (lastStatus !== undefined && lastStatus !== e.status) problems.push(`last event (${last!.type}) says ${lastStatus}, execution ${e.status}`);
  const v = await checkInvariants(w.gw.app.storage.db, { merchantIds: [w.gw.merchant.merchantId] });
  if (v.length) problems.push(describeViolations(v));
  const lv = await w.gw.app.ledger.verify();
  if (lv !== undefined) problems.push(`ledger: ${JSON.stringify(lv)}`);
  return { problems, trace: `${label}: ${trace.join(', ')}` };
}

const dropsIn = (logs: readonly string[]) => logs.filter((l) => l.includes('moved outside its state machine'))
  .map((l) => { const j = JSON.parse(l) as { from: string; to: string }; return `dropped: ${j.from} -> ${j.to}`; });

const WEIGHTS = { ok: 35, decline: 8, error: 8, lost: 12, unreached: 10, slow: 8, late: 8, pending: 8, 'reset-acted': 5, 'reset-unreached': 5 };
const SEED0 = 1;
const SEEDS = 12;
for (const store of ['sqlite', 'postgres'] as const) {
  describe(`random sequences against a misbehaving PSP (${store})`, { skip: store === 'postgres' && !pgUp && 'PostgreSQL unreachable' }, () => {
    let w: World;
    let token: string;
    before(async () => { w = await world(store); token = await tokenOf(w.gw); });
    after(async () => { await w?.b?.close(); await w?.gw.close(); });

    test('/v1 operations keep the PSP and the books agreed', { timeout: 600_000 }, async () => {
      const failures: string[] = [];
      for (let seed = SEED0; seed < SEED0 + SEEDS; seed++) {
        const r = rng(seed * 7919 + (store === 'postgres' ? 1 : 0));
        w.setFaults(schedule(r, WEIGHTS));
        const kind = r() < 0.6 ? 'PA' : 'DB';
        const res = await runOpp(w, kind, genOpp(r, kind), `seed ${seed}`);
        if (res.problems.length) failures.push(`${res.trace}\n  ${res.problems.join('\n  ')}`);
      }
      assert.deepEqual(failures, []);
    });

    test('executions actions keep the PSP and the books agreed', { timeout: 600_000 }, async () => {
      const failures: string[] = [];
      for (let seed = SEED0; seed < SEED0 + SEEDS; seed++) {
        const r = rng(seed * 104729 + (store === 'postgres' ? 1 : 0));
        w.setFaults(schedule(r, WEIGHTS));
        const from = w.gw.logs.length;
        const res = await runX(w, token, genX(r), `seed ${seed}`);
        // A step of the payment its execution could not take is dropped: said so in the log.
        const drops = dropsIn(w.gw.logs.slice(from));
        if (drops.length || res.problems.length) failures.push(`${res.trace}\n  ${[...drops, ...res.problems].join('\n  ')}`);
      }
      assert.deepEqual(failures, []);
    });
  });
}

test('a refund whose answer was lost, reconciled after a cancel: the refund reaches the execution', { timeout: 120_000 }, async () => {
  const w = await world('sqlite');
  try {
    const script: Fault[] = ['ok', 'ok', 'late', 'ok', 'ok'];
    w.setFaults(() => script.shift() ?? 'ok');
    const token = await tokenOf(w.gw);
    const id = await execution(w.gw, token);
    await call(w.gw, 'POST', `${wf}/${id}/authorize`, { token, body: authorizeBody(await instrument(w.gw, token), '100.00') });
    await drain(w);
    assert.equal((await call(w.gw, 'POST', `${wf}/${id}/capture`, { token, body: { amount: { value: '100.00', currency: 'EUR' } } })).status, 202);
    await drain(w);
    // The PSP refunds at once but its answer comes past the gateway's timeout: the refund is in doubt.
    assert.equal((await call(w.gw, 'POST', `${wf}/${id}/refund`, { token, body: { amount: { value: '30.00', currency: 'EUR' } } })).status, 202);
    await w.gw.app.payments.idle();
    const c = await call(w.gw, 'POST', `${wf}/${id}/cancel`, { token, body: {} });
    assert.equal(c.status, 202, JSON.stringify(c.body));
    await drain(w);
    const e = (await call(w.gw, 'GET', `${wf}/${id}`, { token })).body;
    const codes = e.statusHistory.map((h: { code: string }) => h.code);
    const drops = dropsIn(w.gw.logs);
    const v = await checkInvariants(w.gw.app.storage.db);
    assert.deepEqual({ drops, refundEnded: codes.includes('refundSuccessful'), violations: describeViolations(v) },
      { drops: [], refundEnded: true, violations: '' }, `status ${e.status}, refunded ${e.refundedAmount?.value}, history ${codes}`);
  } finally {
    await w.gw.close();
  }
});
