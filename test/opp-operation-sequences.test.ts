/**
 * Model-based random sequences of /v1 operations on one payment, seeded, run against two gateway
 * nodes (in-process apps) on one PostgreSQL schema. After each step and each sequence the money
 * rules are checked against a small model and against the store, the query endpoint, the ledger
 * and the outbox.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createSimulatedAcquirer } from '../src/processors/simulator/connector.ts';
import type { App } from '../src/app.ts';
import { opp, pay, postgresAvailable, secondNode, startGateway, type Gateway } from './support/harness.ts';
import { checkInvariants, describeViolations } from './support/invariants.ts';

const pgUp = await postgresAvailable();
const ok = (code: string) => /^(000\.000\.|000\.100\.1|000\.[36])/.test(code);

function rng(seed: number) {
  let a = seed >>> 0;
  return () => { a = (a + 0x6D2B79F5) >>> 0; let t = a; t = Math.imul(t ^ (t >>> 15), t | 1); t ^= t + Math.imul(t ^ (t >>> 7), t | 61); return ((t ^ (t >>> 14)) >>> 0) / 4294967296; };
}

type Op = { t: 'CP' | 'RF' | 'CB' | 'CR' | 'RB'; amt: number } | { t: 'RV' } | { t: 'PAIR'; a: Op; b: Op };

const cents = (n: number) => (n / 100).toFixed(2);

export async function sums(db: App['storage']['db'], paymentId: string) {
  const rows = await db.selectFrom('transactions').select(['type', 'status', 'amount', 'id']).where('payment_id', '=', paymentId).orderBy('seq').execute();
  const s: Record<string, number> = {};
  for (const r of rows) if (r.status === 'succeeded') s[r.type] = (s[r.type] ?? 0) + Number(r.amount);
  return { s, rows };
}

describe('random /v1 sequences across two nodes on one PostgreSQL schema', { skip: !pgUp && 'PostgreSQL unreachable' }, () => {
  let a: Gateway;
  let b: App;
  let bUrl: string;
  const sim = createSimulatedAcquirer({ latencyMs: 30, jitterMs: 30, timeoutRate: 0, errorRate: 0 });
  before(async () => {
    a = await startGateway({ store: 'postgres', processor: sim });
    ({ app: b, url: bUrl } = await secondNode(a, { processor: sim }));
  });
  after(async () => { await b?.close(); await a?.close(); });

  const node = (i: number) => (i % 2 === 0 ? a : { url: bUrl, merchant: a.merchant });

  function gen(r: () => number, kind: 'PA' | 'DB'): Op[] {
    const amounts = [1000, 2500, 4000, 5000, 10000, 6000];
    const one = (): Op => {
      const x = r();
      const amt = amounts[Math.floor(r() * amounts.length)]!;
      if (x < 0.3 && kind === 'PA') return { t: 'CP', amt };
      if (x < 0.4) return { t: 'RV' };
      if (x < 0.65) return { t: 'RF', amt };
      if (x < 0.75) return { t: 'CB', amt };
      if (x < 0.85) return { t: 'CR', amt };
      return x < 0.9 ? { t: 'RB', amt } : { t: 'CP', amt };
    };
    return Array.from({ length: 6 }, () => (r() < 0.25 ? { t: 'PAIR' as const, a: one(), b: one() } : one()));
  }

  async function run(seed: number, kind: 'PA' | 'DB', ops: Op[]) {
    const problems: string[] = [];
    const init = await pay(a, { paymentType: kind, amount: '100.00' });
    assert.equal(init.body.result.code, '000.100.110', JSON.stringify(init.body));
    const pid = init.body.id as string;
    const answered: { id?: string; code: string; op: string; node: number }[] = [];
    let cbId: string | undefined;
    let step = 0;
    const m = { A: 10000, C: kind === 'DB' ? 10000 : 0, R: 0, voided: false, cb: 0, cbCount: 0, cr: 0 };
    const predict = (op: Op): boolean => {
      const amt = 'amt' in op ? op.amt : 0;
      switch (op.t) {
        case 'CP': return kind === 'PA' && !m.voided && m.C + amt <= m.A;
        case 'RV': return kind === 'PA' && !m.voided && m.C < m.A;
        case 'RF': return m.C > 0 && m.cb - m.cr === 0 && amt <= m.C - m.R;
        case 'CB': return m.C > 0 && m.cbCount === 0 && amt <= m.C - m.R;
        case 'CR': return m.cbCount > 0 && amt <= m.cb - m.cr;
        case 'RB': return m.C > 0;
        default: return false;
      }
    };
    const apply = (op: Op) => {
      const amt = 'amt' in op ? op.amt : 0;
      if (op.t === 'CP') m.C += amt;
      if (op.t === 'RV') m.voided = true;
      if (op.t === 'RF') m.R += amt;
      if (op.t === 'CB') { m.cb = amt; m.cbCount++; }
      if (op.t === 'CR') m.cr += amt;
      if (op.t === 'RB') { m.A += amt; m.C += amt; }
    };
    const send = async (op: Op, n: number) => {
      const params: Record<string, string> = { paymentType: op.t };
      if ('amt' in op) { params.amount = cents(op.amt); params.currency = 'EUR'; }
      const target = op.t === 'CR' ? (cbId ?? pid) : pid;
      const r = await opp(node(n), 'POST', `/v1/payments/${target}`, params);
      if (r.status >= 500) problems.push(`${op.t} got HTTP ${r.status}: ${JSON.stringify(r.body)}`);
      const code = r.body?.result?.code ?? `http-${r.status}`;
      answered.push({ id: r.body?.id, code, op: `${op.t}${'amt' in op ? ' ' + cents(op.amt) : ''}`, node: n });
      if (op.t === 'CB' && ok(code)) cbId = r.body.id;
      return { code, id: r.body?.id as string | undefined };
    };
    for (const op of ops) {
      step++;
      const before = await sums(a.app.storage.db, pid);
      if (op.t === 'PAIR') {
        const rs = await Promise.all([send(op.a, step), send(op.b, step + 1)]);
        // Re-sync the model with what was answered (order unknown): apply the successes.
        if (ok(rs[0].code)) apply(op.a);
        if (ok(rs[1].code)) apply(op.b);
      } else {
        const expect = predict(op);
        const { code } = await send(op, step);
        if (expect !== ok(code)) problems.push(`model: ${op.t} ${'amt' in op ? cents(op.amt) : ''} expected ${expect ? 'success' : 'refusal'}, got ${code} (model ${JSON.stringify(m)})`);
        if (ok(code)) apply(op);
        const after = await sums(b.storage.db, pid);
        if (!ok(code) && JSON.stringify(before.s) !== JSON.stringify(after.s)) problems.push(`refused ${op.t} (${code}) changed totals ${JSON.stringify(before.s)} -> ${JSON.stringify(after.s)}`);
      }
    }
    await a.app.payments.idle();
    await b.payments.idle();
    const { s, rows } = await sums(a.app.storage.db, pid);
    const auth = (s.authorize ?? 0) + (s.sale ?? 0) + (s.rebill ?? 0);
    const captured = (s.capture ?? 0) + (s.sale ?? 0) + (s.rebill ?? 0);
    const refunded = s.refund ?? 0;
    const cb = (s.chargeback ?? 0) - (s.chargeback_reversal ?? 0);
    if (captured + (s.void ?? 0) > auth) problems.push(`captured+voided ${captured}+${s.void ?? 0} > authorized ${auth}`);
    if (refunded > captured) problems.push(`refunded ${refunded} > captured ${captured}`);
    if (refunded + cb > captured) problems.push(`refunded ${refunded} + chargeback ${cb} > captured ${captured}`);
    // Every answer agrees with what the other node says and with the stored row.
    for (const [i, x] of answered.entries()) {
      if (!x.id) continue;
      const q = await opp(node(i + 1), 'GET', `/v1/query/${x.id}`);
      const qc = q.body?.result?.code ?? q.body?.payments?.[0]?.result?.code;
      if (qc !== x.code) problems.push(`${x.op} answered ${x.code}, query says ${qc}`);
      const row = rows.find((r) => r.id === x.id);
      if (ok(x.code) && row?.status !== 'succeeded') problems.push(`${x.op} answered ${x.code}, stored ${row?.status}`);
      if (!ok(x.code) && row?.status === 'succeeded') problems.push(`${x.op} answered ${x.code}, stored succeeded`);
    }
    // Outbox: one succeeded event per succeeded operation, none for a refused one.
    const events = await a.app.storage.db.selectFrom('outbox').select(['type', 'subject_id', 'payload']).execute();
    for (const x of answered) {
      if (!x.id) continue;
      const mine = events.filter((e) => e.subject_id === x.id || String(e.payload).includes(`"id":"${x.id}"`));
      const okEv = mine.filter((e) => /succeeded|success/.test(e.type)).length;
      if (ok(x.code) && okEv !== 1) problems.push(`${x.op} ${x.code}: ${okEv} success events (${mine.map((e) => e.type)})`);
      if (!ok(x.code) && okEv !== 0) problems.push(`${x.op} ${x.code}: success event for a refused op`);
    }
    const v = await checkInvariants(a.app.storage.db, { merchantIds: [a.merchant.merchantId] });
    if (v.length) problems.push(describeViolations(v));
    const lv = await a.app.ledger.verify();
    if (lv !== undefined) problems.push(`ledger: ${JSON.stringify(lv)}`);
    return { problems, trace: `seed ${seed} ${kind} 100.00: ` + answered.map((x) => `${x.op}@${x.node % 2 ? 'B' : 'A'}=${x.code}`).join(', '), rows };
  }

  test('seeded random sequences keep the books', async () => {
    const failures: string[] = [];
    for (let seed = 1; seed <= 20; seed++) {
      const r = rng(seed);
      const kind = r() < 0.6 ? 'PA' : 'DB';
      const res = await run(seed, kind, gen(r, kind));
      if (res.problems.length) failures.push(`${res.trace}\n  ${res.problems.join('\n  ')}\n  rows ${JSON.stringify(res.rows.map((x) => [x.type, x.status, Number(x.amount)]))}`);
    }
    assert.deepEqual(failures, []);
  });
});
