/**
 * Model-based random driver of the /v1 payment state machine: seeded, so a failure replays
 * (MONEY_SEEDS and MONEY_BURSTS run more). For each payment a random sequence of back-office calls; after each step the
 * answer is checked against a model (success or the documented refusal code), the query API
 * against the answer, and at the end the payment's ledger postings against the model.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { opp, pay, postgresAvailable, startGateway, type Gateway } from './support/harness.ts';
import { EXP, badFmt, fmt, rng } from './support/money-model.ts';

const ok = (code: string) => /^(000\.000\.|000\.100\.1|000\.[36])/.test(code);

type Op = { t: 'CP' | 'RF' | 'RB' | 'CB' | 'CR'; amt: number; bad?: 'decimals' | 'currency' } | { t: 'RV' };
type Model = { kind: 'PA' | 'DB'; cur: string; A: number; C: number; R: number; voided: boolean; cbOpen: number; cbCount: number; released: number };

/** The answer the model expects: '' for success, else the refusal code(s) acceptable. */
function expect(m: Model, op: Op): string[] | '' {
  if ('bad' in op && op.bad === 'decimals') return ['200.300.404', '100.550.303'];
  if ('bad' in op && op.bad === 'currency') return ['700.100.500', '200.300.404'];
  switch (op.t) {
    case 'CP':
      if (m.kind !== 'PA') return ['700.400.510'];
      if (m.voided || m.C + op.amt > m.A) return ['700.400.100'];
      return '';
    case 'RV':
      if (m.kind !== 'PA') return m.cbOpen > 0 || m.cbCount > 0 ? ['700.300.700', '700.300.600'] : ['700.300.700'];
      if (m.voided) return ['700.400.300'];
      if (m.C >= m.A) return m.cbCount > 0 ? ['700.300.300', '700.300.600'] : ['700.300.300'];
      return '';
    case 'RF':
      if (m.C === 0) return m.voided ? ['700.400.200', '700.400.520'] : ['700.400.520'];
      if (m.cbOpen > 0) return ['700.300.600', '700.400.200'];
      if (op.amt > m.C - m.R) return ['700.400.200'];
      return '';
    case 'RB':
      if (m.C === 0) return ['700.100.700'];
      if (m.cbOpen > 0) return ['700.300.600']; // undocumented, but the gateway's choice: no rebill while a chargeback stands
      return '';
    case 'CB':
      if (m.C === 0) return ['700.400.550'];
      if (m.cbCount > 0) return ['700.300.500'];
      if (op.amt > m.C - m.R) return ['700.400.400'];
      return '';
    case 'CR':
      if (m.cbCount === 0) return ['700.400.420'];
      if (op.amt > m.cbOpen) return ['700.400.410'];
      return '';
  }
}
function apply(m: Model, op: Op) {
  if (op.t === 'CP') m.C += op.amt;
  if (op.t === 'RV') { m.voided = true; m.released = m.A - m.C; }
  if (op.t === 'RF') m.R += op.amt;
  if (op.t === 'RB') { m.A += op.amt; m.C += op.amt; }
  if (op.t === 'CB') { m.cbOpen += op.amt; m.cbCount++; }
  if (op.t === 'CR') m.cbOpen -= op.amt;
}
const label = (op: Op) => `${op.t}${'amt' in op ? ' ' + op.amt + (op.bad ? '/' + op.bad : '') : ''}`;

function gen(r: () => number, m: Model, n: number): (Op | { t: 'PAIR'; a: Op; b: Op })[] {
  const out: (Op | { t: 'PAIR'; a: Op; b: Op })[] = [];
  const shadow = { ...m };
  const amount = (room: number) => {
    const x = r();
    if (x < 0.3) return Math.max(1, room);                         // exactly the rest
    if (x < 0.45) return Math.max(1, room) + 1 + Math.floor(r() * 50); // a little too much
    return Math.max(1, Math.floor(r() * Math.max(1, room)) + 1);    // a part
  };
  const one = (): Op => {
    const x = r();
    let op: Op;
    if (x < 0.3) op = { t: 'CP', amt: amount(shadow.A - shadow.C) };
    else if (x < 0.4) op = { t: 'RV' };
    else if (x < 0.7) op = { t: 'RF', amt: amount(shadow.C - shadow.R) };
    else if (x < 0.78) op = { t: 'RB', amt: 1 + Math.floor(r() * 500) };
    else if (x < 0.86) op = { t: 'CB', amt: amount(shadow.C - shadow.R) };
    else op = { t: 'CR', amt: amount(shadow.cbOpen) };
    if (op.t !== 'RV' && r() < 0.08) (op as { bad?: string }).bad = r() < 0.6 ? 'decimals' : 'currency';
    return op;
  };
  for (let i = 0; i < n; i++) {
    if (r() < 0.15) { out.push({ t: 'PAIR', a: one(), b: one() }); continue; }
    const op = one();
    out.push(op);
    if (expect(shadow, op) === '') apply(shadow, op);
  }
  return out;
}

async function postingsOf(gw: Gateway, id: string) {
  const res = await fetch(`${gw.url}/admin/api/ledger/payments/${id}`, { headers: { authorization: `Bearer ${gw.app.admin.token}` } });
  return ((await res.json()) as { postings: unknown }).postings as { debit: string; credit: string; amount: number; currency: string }[];
}
function ledgerTotals(ps: { debit: string; credit: string; amount: number }[]) {
  const bal: Record<string, number> = {};
  for (const p of ps) { bal[p.debit] = (bal[p.debit] ?? 0) + p.amount; bal[p.credit] = (bal[p.credit] ?? 0) - p.amount; }
  return { held: bal.authorized ?? 0, payable: -(bal.payable ?? 0), refunds: bal.refunds ?? 0, chargebacks: bal.chargebacks ?? 0, receivable: bal.receivable ?? 0 };
}

function want(m: Model) {
  // RB adds to A and C alike, so the PA's own hold is what the PA's amount minus its captures leaves.
  const held = m.kind === 'PA' && !m.voided ? Math.max(0, m.A - m.C) : 0;
  return { held, payable: m.C, refunds: m.R, chargebacks: m.cbOpen, receivable: m.C - m.R - m.cbOpen };
}

async function runPayment(gw: Gateway, seed: number) {
  const r = rng(seed);
  const cur = ['EUR', 'JPY', 'KWD'][Math.floor(r() * 3)]!;
  const kind: 'PA' | 'DB' = r() < 0.65 ? 'PA' : 'DB';
  const A = 100 + Math.floor(r() * 20000);
  const mtx = `money-${seed}-${Date.now()}`;
  const problems: string[] = [];
  const trace: string[] = [`seed ${seed}: ${kind} ${A} ${cur}`];
  const init = await pay(gw, { paymentType: kind, amount: fmt(A, cur), currency: cur, merchantTransactionId: mtx });
  if (init.body.result.code !== '000.100.110') return { problems: [`initial ${JSON.stringify(init.body.result)}`], trace };
  if (init.body.amount !== fmt(A, cur)) problems.push(`initial echoed amount ${init.body.amount}, sent ${fmt(A, cur)}`);
  const pid = init.body.id as string;
  const m: Model = { kind, cur, A, C: kind === 'DB' ? A : 0, R: 0, voided: false, cbOpen: 0, cbCount: 0, released: 0 };
  let cbId: string | undefined;
  const answers: { id: string; code: string; op: string; amount?: string }[] = [{ id: pid, code: init.body.result.code, op: kind }];
  const send = async (op: Op) => {
    const params: Record<string, string> = { paymentType: op.t, merchantTransactionId: mtx };
    if ('amt' in op) {
      params.amount = op.bad === 'decimals' ? badFmt(op.amt, cur) : fmt(op.amt, cur);
      params.currency = op.bad === 'currency' ? (cur === 'EUR' ? 'USD' : 'EUR') : cur;
    }
    const target = op.t === 'CR' ? (cbId ?? pid) : pid;
    const res = await opp(gw, 'POST', `/v1/payments/${target}`, params);
    const code = res.body?.result?.code ?? `http-${res.status}`;
    if (res.status >= 500) problems.push(`${label(op)} HTTP ${res.status} ${JSON.stringify(res.body)}`);
    if (res.body?.id) answers.push({ id: res.body.id, code, op: label(op), amount: res.body.amount });
    if (ok(code) && 'amt' in op && res.body.amount !== params.amount) problems.push(`${label(op)} echoed amount ${res.body.amount}, sent ${params.amount}`);
    if (op.t === 'CB' && ok(code)) cbId = res.body.id;
    return code;
  };
  for (const step of gen(r, m, 8)) {
    if (step.t === 'PAIR') {
      const [ca, cb] = await Promise.all([send(step.a), send(step.b)]);
      trace.push(`PAIR(${label(step.a)}=${ca} | ${label(step.b)}=${cb})`);
      // Either order must be explainable by the model.
      const try1 = { ...m }; const try2 = { ...m };
      const explain = (mm: Model, first: Op, fc: string, second: Op, sc: string) => {
        // A refusal because the other operation is still in flight (700.400.570) is allowed.
        const e1 = expect(mm, first); if ((e1 === '') !== ok(fc) && fc !== '700.400.570') return false; if (ok(fc)) apply(mm, first);
        const e2 = expect(mm, second); if ((e2 === '') !== ok(sc) && sc !== '700.400.570') return false; if (ok(sc)) apply(mm, second);
        return true;
      };
      if (explain(try1, step.a, ca, step.b, cb)) Object.assign(m, try1);
      else if (explain(try2, step.b, cb, step.a, ca)) Object.assign(m, try2);
      else {
        problems.push(`concurrent ${label(step.a)}=${ca} and ${label(step.b)}=${cb} not explainable by any order (model ${JSON.stringify(m)})`);
        if (ok(ca)) apply(m, step.a); if (ok(cb)) apply(m, step.b);
      }
    } else {
      const e = expect(m, step);
      const code = await send(step);
      trace.push(`${label(step)}=${code}`);
      if (e === '' && !ok(code)) problems.push(`${label(step)}: expected success, got ${code} (model ${JSON.stringify(m)})`);
      else if (e !== '' && !e.includes(code)) problems.push(`${label(step)}: expected ${e.join('|')}, got ${code} (model ${JSON.stringify(m)})`);
      if (ok(code)) apply(m, step);
    }
    const lt = ledgerTotals(await postingsOf(gw, pid));
    const lw = want(m);
    if (JSON.stringify(lt) !== JSON.stringify(lw)) problems.push(`after ${trace.at(-1)}: ledger ${JSON.stringify(lt)} != model ${JSON.stringify(lw)}`);
  }
  await gw.app.payments.idle?.();
  // Query agrees with each answer.
  for (const a of answers) {
    const q = await opp(gw, 'GET', `/v1/query/${a.id}`);
    const qc = q.body?.result?.code ?? q.body?.payments?.[0]?.result?.code;
    if (qc !== a.code) problems.push(`${a.op} answered ${a.code}, /v1/query says ${qc}`);
  }
  const list = await opp(gw, 'GET', '/v1/query', { merchantTransactionId: mtx });
  const okList = (list.body?.payments ?? []).filter((p: any) => ok(p.result.code));
  const answeredOk = answers.filter((a) => ok(a.code));
  if (okList.length !== answeredOk.length) problems.push(`query by merchantTransactionId lists ${okList.length} successes, ${answeredOk.length} answered`);
  const g = await opp(gw, 'GET', `/v1/payments/${pid}`);
  if (g.body?.result?.code !== init.body.result.code) problems.push(`GET /v1/payments says ${g.body?.result?.code}`);
  // Ledger agrees with the model.
  const t = ledgerTotals(await postingsOf(gw, pid));
  if (JSON.stringify(t) !== JSON.stringify(want(m))) problems.push(`ledger ${JSON.stringify(t)} != model ${JSON.stringify(want(m))}`);
  return { problems, trace };
}

for (const store of ['sqlite', 'postgres'] as const) {
  describe(`random /v1 money sequences (${store})`, { skip: store === 'postgres' && !(await postgresAvailable()) && 'no PostgreSQL' }, () => {
    let gw: Gateway;
    before(async () => { gw = await startGateway({ store }); });
    after(async () => { await gw?.close(); });
    test('seeded sequences agree with the model and the books', async () => {
      const failures: string[] = [];
      const seeds = Number(process.env.MONEY_SEEDS ?? 40);
      for (let seed = 1; seed <= seeds; seed++) {
        const res = await runPayment(gw, seed);
        if (res.problems.length) failures.push(`${res.trace.join(', ')}\n    ${res.problems.join('\n    ')}`);
      }
      const v = await gw.app.ledger.verify();
      assert.deepEqual(failures, []);
      assert.equal(v, undefined, JSON.stringify(v));
    });
  });
}

/** Bursts of concurrent back-office calls on one payment: no more money may move than exists. */
for (const store of ['sqlite', 'postgres'] as const) {
  describe(`concurrent /v1 bursts on one payment (${store})`, { skip: store === 'postgres' && !(await postgresAvailable()) && 'no PostgreSQL' }, () => {
    let gw: Gateway;
    before(async () => { gw = await startGateway({ store }); });
    after(async () => { await gw?.close(); });
    test('seeded bursts keep captured, refunded and held within the authorization', async () => {
      const failures: string[] = [];
      for (let seed = 1; seed <= Number(process.env.MONEY_BURSTS ?? 30); seed++) {
        const r = rng(1000 + seed);
        const cur = ['EUR', 'JPY', 'KWD'][Math.floor(r() * 3)]!;
        const kind: 'PA' | 'DB' = r() < 0.7 ? 'PA' : 'DB';
        const A = 1000 + Math.floor(r() * 9000);
        const init = await pay(gw, { paymentType: kind, amount: fmt(A, cur), currency: cur });
        const pid = init.body.id as string;
        let C = kind === 'DB' ? A : 0, R = 0, voided = false, CB = 0;
        const trace: string[] = [`burst ${seed}: ${kind} ${A} ${cur}`];
        if (kind === 'PA' && r() < 0.6) {
          const part = Math.floor(A * (0.3 + r() * 0.5));
          const c = await opp(gw, 'POST', `/v1/payments/${pid}`, { paymentType: 'CP', amount: fmt(part, cur), currency: cur });
          if (ok(c.body.result.code)) C += part;
          trace.push(`CP ${part}=${c.body.result.code}`);
        }
        for (let round = 0; round < 2; round++) {
          const ops: Op[] = [];
          const n = 3 + Math.floor(r() * 4);
          for (let i = 0; i < n; i++) {
            const x = r();
            if (x < 0.35 && kind === 'PA') ops.push({ t: 'CP', amt: Math.max(1, Math.floor((A - C) * (0.5 + r() * 0.6))) });
            else if (x < 0.5 && kind === 'PA') ops.push({ t: 'RV' });
            else if (x < 0.9) ops.push({ t: 'RF', amt: Math.max(1, Math.floor(Math.max(C - R, A / 2) * (0.4 + r() * 0.7))) });
            else ops.push({ t: 'CB', amt: Math.max(1, Math.floor(Math.max(C - R, 1) * 0.5)) });
          }
          const res = await Promise.all(ops.map((op) => opp(gw, 'POST', `/v1/payments/${pid}`, { paymentType: op.t, ...('amt' in op ? { amount: fmt(op.amt, cur), currency: cur } : {}) })));
          res.forEach((x, i) => {
            const op = ops[i]!; const code = x.body?.result?.code ?? `http-${x.status}`;
            trace.push(`${label(op)}=${code}`);
            if (x.status >= 500) failures.push(`${trace.join(', ')}: HTTP ${x.status}`);
            if (!ok(code)) return;
            if (op.t === 'CP') C += op.amt;
            if (op.t === 'RV') voided = true;
            if (op.t === 'RF') R += op.amt;
            if (op.t === 'CB') CB += op.amt;
          });
          const problems: string[] = [];
          if (C > A) problems.push(`captured ${C} > authorized ${A}`);
          if (R + CB > C) problems.push(`refunded ${R} + charged back ${CB} > captured ${C}`);
          const t = ledgerTotals(await postingsOf(gw, pid));
          const want = { held: kind === 'PA' && !voided ? A - C : 0, payable: C, refunds: R, chargebacks: CB, receivable: C - R - CB };
          if (JSON.stringify(t) !== JSON.stringify(want)) problems.push(`ledger ${JSON.stringify(t)} != answers ${JSON.stringify(want)}`);
          if (problems.length) { failures.push(`${trace.join(', ')}\n    ${problems.join('\n    ')}`); break; }
        }
      }
      const v = await gw.app.ledger.verify();
      assert.deepEqual(failures, []);
      assert.equal(v, undefined, JSON.stringify(v));
    });
  });
}
