/**
 * The chaos suite (`npm run chaos`): a real gateway process per store, attacked over HTTP.
 *
 *  1. races: conflicting operations on one payment at the same instant, in both dialects
 *     (capture/reversal/refund/chargeback, double submissions with one idempotency key,
 *     duplicate merchant transaction ids);
 *  2. fuzzing: fast-check inputs to both dialects' parsers; the dialect's error shape, never a 5xx;
 *  3. crashes: mixed load with PSP faults (lost answers, errors, pending answers) while the
 *     process is killed with SIGKILL and restarted, N times: at a random moment, or (every other
 *     cycle) the instant an approval was answered, where a gateway answering before its commit
 *     would lose it. Part of the load is charged at an acquirer in a process of its own (another
 *     gateway, reached through the OPP connector), which the kills never touch: its books are the
 *     PSP's own word on what was charged;
 *  4. the reckoning: after the reconciler had its time, every payment acknowledged as approved
 *     exists exactly once (by its merchant transaction id too), an authorization whose answer a
 *     kill cut off and that was sent again under its idempotency key charged at most once, nothing
 *     is left in flight, the acquirer charged each operation at most once and exactly what the
 *     books say (a late charge the books declined is reversed there), and the independent
 *     invariant checker (test/support/invariants.ts) finds nothing.
 *
 * Flags (or env): --store sqlite|postgres|both (CHAOS_STORE, default both), --cycles N
 * (CHAOS_CYCLES, 20), --concurrency N (CHAOS_CONCURRENCY, 6), --races N (CHAOS_RACES, 20),
 * --fuzz N (CHAOS_FUZZ, 300 inputs per parser), --fault-rate R (CHAOS_FAULT_RATE, 0.15),
 * --seed N (CHAOS_SEED, random), --load-ms N (CHAOS_LOAD_MS, 1500 per crash cycle), --json.
 * Exits 1 when an invariant is violated or a 5xx was answered.
 */
import { parseArgs } from 'node:util';
import { spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import fc from 'fast-check';
import { sql } from 'kysely';
import { testCard, postgresAvailable } from '../test/support/harness.ts';
import { demoCredentials, startGatewayProcess, type GatewayProcess } from '../test/support/process.ts';
import { processStore, type ProcessStore, type StoreKind } from '../test/support/stores.ts';
import { checkInvariants, describeViolations, type Violation } from '../test/support/invariants.ts';
import type { MerchantCredentials } from '../src/merchants/service.ts';

// Flags are read only when run as the script; the test suite's short form sets `options` itself.
const { values: flags } = parseArgs({
  args: import.meta.main ? process.argv.slice(2) : [],
  options: {
    store: { type: 'string' }, cycles: { type: 'string' }, concurrency: { type: 'string' }, races: { type: 'string' },
    fuzz: { type: 'string' }, 'fault-rate': { type: 'string' }, seed: { type: 'string' }, 'load-ms': { type: 'string' }, json: { type: 'boolean' },
  },
});
const num = (flag: string | undefined, env: string, fallback: number) => Number(flag ?? process.env[env] ?? fallback);
export const options = {
  store: (flags.store ?? process.env.CHAOS_STORE ?? 'both') as StoreKind | 'both',
  cycles: num(flags.cycles, 'CHAOS_CYCLES', 20),
  concurrency: num(flags.concurrency, 'CHAOS_CONCURRENCY', 6),
  races: num(flags.races, 'CHAOS_RACES', 20),
  fuzz: num(flags.fuzz, 'CHAOS_FUZZ', 300),
  faultRate: num(flags['fault-rate'], 'CHAOS_FAULT_RATE', 0.15),
  seed: num(flags.seed, 'CHAOS_SEED', Math.floor(Math.random() * 2 ** 31)),
  loadMs: num(flags['load-ms'], 'CHAOS_LOAD_MS', 1500),
};

/** A small seeded PRNG (mulberry32): the same seed replays the same choices. */
function prng(seed: number) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
let rand = prng(options.seed);
/** Replays the choices of `seed` (after `options` were changed by a caller). */
export function reseed(seed: number) { options.seed = seed; rand = prng(seed); }
const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)]!;

const success = '000.100.110';
const pendingCodes = ['000.200.000', '800.400.500', '100.400.500'];
const pspTimeoutMs = 1000;
const asyncTimeoutMs = 8000;

interface Stats {
  store: StoreKind;
  /** Whether `ledger verify` passed on the store after the crash cycles. */
  ledgerVerified: boolean;
  operations: number;
  races: number;
  crashCycles: number;
  faultsInjected: number;
  fuzzInputs: number;
  acknowledged: number;
  fiveXX: number;
  /** Requests cut off by a kill (no answer at all): expected, not counted as failures. */
  cutOff: number;
  /** Follow-ups the acquirer holds with a pending code that lasts (they end when it says how). */
  lastingFollowUps: number;
  /** Crash cycles whose kill came the instant an approval was answered. */
  killsAfterAnswer: number;
  /** Authorizations cut off by a kill, sent again under the same idempotency key after the restart. */
  retriedAfterKill: number;
  /** Operations the out-of-process acquirer was asked to charge, and the charges it made. */
  acquirerOperations: number;
  acquirerCharges: number;
  violations: Violation[];
  fiveXXSamples: string[];
}

/** The gateway under attack: its current address (it moves on every restart) and its merchants. */
interface Target {
  url: string;
  demo: MerchantCredentials;
  strict: MerchantCredentials;
  adminToken: string;
}

function statsFor(store: StoreKind): Stats {
  return {
    store, ledgerVerified: false, operations: 0, races: 0, crashCycles: 0, faultsInjected: 0, fuzzInputs: 0, acknowledged: 0, fiveXX: 0, cutOff: 0, lastingFollowUps: 0,
    killsAfterAnswer: 0, retriedAfterKill: 0, acquirerOperations: 0, acquirerCharges: 0, violations: [], fiveXXSamples: [],
  };
}

interface Answer { status: number; body: any }

/** Every HTTP call of the suite: counts operations and 5xx; a connection cut by a kill answers status 0. */
async function request(s: Stats, t: Target, method: string, path: string, init: { headers?: Record<string, string>; body?: string } = {}): Promise<Answer> {
  s.operations++;
  let res: Response;
  try {
    res = await fetch(t.url + path, { method, headers: init.headers ?? {}, ...(init.body !== undefined ? { body: init.body } : {}), signal: AbortSignal.timeout(30_000) });
  } catch {
    s.cutOff++;
    return { status: 0, body: undefined };
  }
  const text = await res.text().catch(() => '');
  let body: any;
  try { body = text ? JSON.parse(text) : undefined; } catch { body = text; }
  if (res.status >= 500) {
    s.fiveXX++;
    if (s.fiveXXSamples.length < 10) s.fiveXXSamples.push(`${method} ${path.replace(/[0-9a-f]{32}/g, '{id}')} → ${res.status} ${text.slice(0, 160)}`);
  }
  return { status: res.status, body };
}

const oppCall = (s: Stats, t: Target, m: MerchantCredentials, path: string, params: Record<string, string>) =>
  request(s, t, 'POST', path, {
    headers: { authorization: `Bearer ${m.accessToken}`, 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ entityId: m.entityId, ...params }).toString(),
  });
const oppPay = (s: Stats, t: Target, params: Record<string, string>, m = t.demo) =>
  oppCall(s, t, m, '/v1/payments', { ...testCard, amount: '100.00', currency: 'EUR', paymentType: 'PA', ...params });
const oppOp = (s: Stats, t: Target, id: string, paymentType: string, params: Record<string, string> = {}) =>
  oppCall(s, t, t.demo, `/v1/payments/${id}`, { paymentType, currency: 'EUR', ...params });

const wf = '/merchant/workflows/payment-acceptance/executions';
const tokens = new Map<string, { token: string; at: number }>();
async function tokenOf(s: Stats, t: Target): Promise<string> {
  const known = tokens.get(t.url);
  if (known && Date.now() - known.at < 60_000) return known.token;
  const r = await request(s, t, 'POST', `/auth/token/${t.demo.clientId}`, { headers: { 'x-api-key': t.demo.apiKey } });
  const token = r.body?.access_token ?? '';
  if (token) tokens.set(t.url, { token, at: Date.now() });
  return token;
}
async function exe(s: Stats, t: Target, method: string, path: string, body?: unknown, key: string = randomUUID()): Promise<Answer> {
  const headers: Record<string, string> = { authorization: `Bearer ${await tokenOf(s, t)}` };
  if (body !== undefined) headers['content-type'] = 'application/json';
  if (method !== 'GET') headers['x-idempotency-key'] = key;
  return request(s, t, method, path, { headers, ...(body !== undefined ? { body: JSON.stringify(body) } : {}) });
}
const eurValue = (value: string) => ({ value, currency: 'EUR' });

/** An authorization whose answer a kill cut off: sent again, under its key, once the gateway is back. */
interface CutAuthorization { id: string; key: string; body: unknown }

/** An authorized execution (or undefined when the cascade or a fault said otherwise). */
async function authorizedExecution(s: Stats, t: Target, value = '100.00', cut?: CutAuthorization[]): Promise<string | undefined> {
  const inst = await exe(s, t, 'POST', '/payment/instruments', {
    holderReference: 'chaos', paymentMethod: 'card',
    data: { cardNumber: '4111111111111111', expiryMonth: '03', expiryYear: '30', securityCode: '737', holderName: 'Chaos Monkey' },
  });
  if (inst.status !== 201) return undefined;
  const created = await exe(s, t, 'POST', wf, { merchantReference: `chaos-${randomUUID().slice(0, 8)}`, holderReference: 'chaos', workspaceId: t.demo.workspaceId });
  if (created.status !== 201) return undefined;
  const id = created.body.id as string;
  const body = {
    amount: eurValue(value), returnInfo: { success: 'https://shop.example/return' },
    paymentComposition: [{ paymentMethodCode: 'card', integrationType: 'api', amount: eurValue(value), storeInstrument: false, paymentInstrumentId: inst.body.id }],
  };
  const key = randomUUID();
  const asked = await exe(s, t, 'POST', `${wf}/${id}/authorize`, body, key);
  if (asked.status === 0) { cut?.push({ id, key, body }); return undefined; }
  const e = await exe(s, t, 'GET', `${wf}/${id}?waitWhile[status]=${encodeURIComponent('["authorizeRequested"]')}`);
  return e.body?.status === 'authorized' ? id : undefined;
}

function raceViolation(s: Stats, rule: string, ids: string[], detail: string) {
  s.violations.push({ rule: `race_${rule}`, ids, detail });
}
const wins = (...rs: Answer[]) => rs.filter((r) => r.body?.result?.code === success).length;

/** Conflicting operations on one payment at the same instant; each kind checks its own outcome. */
async function races(s: Stats, t: Target): Promise<void> {
  const kinds = ['rv-cp', 'cp-cp', 'rf-rf', 'cb-rf', 'same-key', 'dup-mtx', 'capture-cancel', 'refund-refund'] as const;
  for (let i = 0; i < options.races; i++) {
    const kind = kinds[i % kinds.length]!;
    s.races++;
    if (kind === 'rv-cp' || kind === 'cp-cp') {
      const pa = await oppPay(s, t, {});
      if (pa.body?.result?.code !== success) continue;
      const [a, b] = await Promise.all([
        kind === 'rv-cp' ? oppOp(s, t, pa.body.id, 'RV') : oppOp(s, t, pa.body.id, 'CP', { amount: '60.00' }),
        oppOp(s, t, pa.body.id, 'CP', { amount: '60.00' }),
      ]);
      // Exactly one wins, unless the PSP itself failed the winner (an injected fault: 900.x).
      const pspFault = [a, b].some((r) => /^900\./.test(r.body?.result?.code ?? ''));
      if (wins(a, b) > 1 || (wins(a, b) === 0 && !pspFault)) raceViolation(s, kind, [pa.body.id], `${wins(a, b)} of two conflicting operations won (${a.body?.result?.code}, ${b.body?.result?.code})`);
    } else if (kind === 'rf-rf' || kind === 'cb-rf') {
      const db = await oppPay(s, t, { paymentType: 'DB' });
      if (db.body?.result?.code !== success) continue;
      const [a, b] = await Promise.all([
        oppOp(s, t, db.body.id, kind === 'rf-rf' ? 'RF' : 'CB', { amount: '70.00' }),
        oppOp(s, t, db.body.id, 'RF', { amount: '70.00' }),
      ]);
      if (wins(a, b) > 1) raceViolation(s, kind, [db.body.id], `both ${kind} operations of 70.00 on 100.00 won`);
    } else if (kind === 'dup-mtx') {
      const mtx = `chaos-${randomUUID()}`;
      const all = await Promise.all(Array.from({ length: 10 }, () => oppPay(s, t, { paymentType: 'DB', amount: '5.00', merchantTransactionId: mtx }, t.strict)));
      if (wins(...all) > 1 || (wins(...all) === 0 && !all.some((r) => /^900\./.test(r.body?.result?.code ?? '')))) raceViolation(s, kind, all.map((r) => r.body?.id).filter(Boolean), `${wins(...all)} approved payments for one unique merchantTransactionId`);
    } else {
      const id = await authorizedExecution(s, t);
      if (!id) continue;
      if (kind === 'same-key') {
        const key = randomUUID();
        await Promise.all([0, 1].map(() => exe(s, t, 'POST', `${wf}/${id}/capture`, { amount: eurValue('40.00') }, key)));
        const e = await exe(s, t, 'GET', `${wf}/${id}`);
        const captured = e.body?.capturedAmount?.value;
        if (captured !== undefined && captured !== '40.00' && captured !== '0.00') raceViolation(s, kind, [id], `one idempotency key captured ${captured}`);
      } else if (kind === 'capture-cancel') {
        await Promise.all([exe(s, t, 'POST', `${wf}/${id}/capture`, { amount: eurValue('100.00') }), exe(s, t, 'POST', `${wf}/${id}/cancel`, {})]);
      } else {
        await exe(s, t, 'POST', `${wf}/${id}/capture`, { amount: eurValue('100.00') });
        await Promise.all([0, 1].map(() => exe(s, t, 'POST', `${wf}/${id}/refund`, { amount: eurValue('70.00') })));
      }
    }
  }
}

const oppCodeShape = /^\d{3}\.\d{3}\.\d{3}$/;
const executionCodes = new Set(['request.malformed', 'request.unauthorized', 'request.forbidden', 'request.not-found', 'request.method-not-allowed',
  'request.conflict', 'request.entity-too-large', 'request.header.missing', 'request.header.invalid', 'request.param.missing',
  'request.param.invalid', 'request.rate-limit', 'workflow.action.not-allowed', 'workflow.action.failed']);

/** Property-based fuzzing of both dialects' parsers over HTTP. */
async function fuzz(s: Stats, t: Target): Promise<void> {
  const fields = ['amount', 'currency', 'paymentType', 'paymentBrand', 'card.number', 'card.holder', 'card.expiryMonth', 'card.expiryYear',
    'card.cvv', 'merchantTransactionId', 'descriptor', 'customer.email', 'billing.country', 'customParameters[forceResultCode]',
    'customParameters[__proto__]', 'cart.items[0].name', 'cart.items[99999].price', 'testMode', 'shopperResultUrl', 'threeDSecure.eci', 'entityId', 'createRegistration'];
  const value = fc.oneof(fc.string({ maxLength: 40 }), fc.string({ unit: 'grapheme', maxLength: 20 }), fc.constantFrom('', '0', '-1', '1e400', '١٢٣', '92.00', 'EUR', 'PA', 'DB', 'CP', '4200000000000000', '__proto__', 'constructor'),
    fc.integer().map(String), fc.double().map(String));
  const form = fc.dictionary(fc.oneof(fc.constantFrom(...fields), fc.string({ maxLength: 30 })), value, { maxKeys: 12 });
  const oppProp = fc.asyncProperty(form, fc.boolean(), fc.constantFrom('/v1/payments', '/v1/payments/' + 'a'.repeat(32), '/v1/registrations'), async (params, withEntity, path) => {
    s.fuzzInputs++;
    const body = new URLSearchParams({ ...(withEntity ? { entityId: t.demo.entityId } : {}), ...params }).toString();
    const r = await request(s, t, 'POST', path, { headers: { authorization: `Bearer ${t.demo.accessToken}`, 'content-type': 'application/x-www-form-urlencoded' }, body });
    if (r.status === 0) return;
    if (r.status >= 500) throw new Error(`5xx for ${body.slice(0, 200)}`);
    if (r.status >= 400 && !oppCodeShape.test(r.body?.result?.code ?? '')) throw new Error(`not the /v1 error shape: ${r.status} ${JSON.stringify(r.body).slice(0, 200)}`);
  });
  const jsonBody = fc.oneof(fc.jsonValue({ maxDepth: 4 }), fc.record({
    amount: fc.oneof(fc.jsonValue({ maxDepth: 2 }), fc.record({ value: fc.oneof(fc.string({ maxLength: 12 }), fc.double()), currency: fc.string({ maxLength: 4 }) })),
    returnInfo: fc.jsonValue({ maxDepth: 2 }),
    paymentComposition: fc.array(fc.dictionary(fc.constantFrom('paymentMethodCode', 'integrationType', 'amount', 'paymentInstrumentId', 'storeInstrument', '__proto__'), fc.jsonValue({ maxDepth: 2 })), { maxLength: 3 }),
  }, { requiredKeys: [] }));
  const exeProp = fc.asyncProperty(jsonBody, fc.constantFrom(wf, `${wf}/${randomUUID()}/authorize`, `${wf}/${randomUUID()}/capture`, '/payment/instruments'), async (body, path) => {
    s.fuzzInputs++;
    const r = await request(s, t, 'POST', path, {
      headers: { authorization: `Bearer ${await tokenOf(s, t)}`, 'content-type': 'application/json', 'x-idempotency-key': randomUUID() },
      body: JSON.stringify(body),
    });
    if (r.status === 0) return;
    if (r.status >= 500) throw new Error(`5xx for ${JSON.stringify(body).slice(0, 200)}`);
    if (r.status >= 400 && !executionCodes.has(r.body?.errors?.[0]?.code)) throw new Error(`not the executions error shape: ${r.status} ${JSON.stringify(r.body).slice(0, 200)}`);
  });
  for (const [name, prop] of [['/v1', oppProp], ['executions', exeProp]] as const) {
    const out = await fc.check(prop as fc.IAsyncProperty<unknown[]>, { numRuns: options.fuzz, seed: options.seed, endOnFailure: true });
    if (out.failed) s.violations.push({ rule: 'fuzz', ids: [], detail: `${name}: ${String(out.errorInstance).split('\n')[0]} (counterexample ${JSON.stringify(out.counterexample).slice(0, 300)})` });
  }
}

/** What was acknowledged to a merchant as approved: it must be in the books exactly once afterwards. */
interface Acks {
  /** /v1 payments by id, with the merchant transaction id each was sent with. */
  payments: Map<string, string>;
  executions: Set<string>;
  cut: CutAuthorization[];
  /** Told of each approval as it is answered (the kill that follows an answer waits on it). */
  onAck: () => void;
}

/** One load worker: mixed operations in both dialects, some with a PSP fault asked for. */
async function worker(s: Stats, t: () => Target, acks: Acks, until: () => boolean): Promise<void> {
  while (!until()) {
    const target = t();
    const fault = rand() < options.faultRate / 3;
    const force: Record<string, string> = fault ? { 'customParameters[forceResultCode]': pick(pendingCodes) } : {};
    if (fault) s.faultsInjected++;
    const what = rand();
    if (what < 0.55) {
      const type = pick(['PA', 'DB', 'PA.CP']);
      // 55.55 is declined softly by the first account and charged at the acquirer in its own process.
      const amount = pick(['100.00', '55.55']);
      const mtx = `chaos-${randomUUID()}`;
      const r = await oppPay(s, target, { paymentType: type, amount, merchantTransactionId: mtx, ...force });
      if (r.body?.result?.code === success) { acks.payments.set(r.body.id, mtx); s.acknowledged++; acks.onAck(); } else continue;
      if (type === 'PA') {
        const cp = await oppOp(s, target, r.body.id, 'CP', { amount: pick(['40.00', amount]), ...(rand() < options.faultRate / 3 ? { 'customParameters[forceResultCode]': '800.400.500' } : {}) });
        if (cp.body?.result?.code === success && rand() < 0.5) await oppOp(s, target, cp.body.id, 'RF', { amount: '20.00' });
        else if (rand() < 0.3) await oppOp(s, target, r.body.id, 'RV');
      } else if (rand() < 0.5) {
        await oppOp(s, target, r.body.id, 'RF', { amount: pick(['10.00', '100.00']), ...(rand() < options.faultRate / 3 ? { 'customParameters[forceResultCode]': '100.400.500' } : {}) });
      }
    } else {
      const id = await authorizedExecution(s, target, pick(['100.00', '55.55']), acks.cut);
      if (!id) continue;
      acks.executions.add(id);
      s.acknowledged++;
      acks.onAck();
      const c = await exe(s, target, 'POST', `${wf}/${id}/capture`, {});
      if (c.status === 202 && rand() < 0.5) await exe(s, target, 'POST', `${wf}/${id}/refund`, { amount: eurValue('10.00') });
      else if (rand() < 0.3) await exe(s, target, 'POST', `${wf}/${id}/cancel`, {});
    }
  }
}

function env(st: ProcessStore, adminToken: string): Record<string, string> {
  // The simulated acquirer loses some answers and fails some calls; the reconciler settles them.
  return {
    ...st.env, SWITCHYARD_ADMIN_TOKEN: adminToken, SWITCHYARD_PSP_TIMEOUT_MS: String(pspTimeoutMs), SWITCHYARD_ASYNC_TIMEOUT_MS: String(asyncTimeoutMs),
    SWITCHYARD_SIM_LATENCY_MS: '40', SWITCHYARD_SIM_JITTER_MS: '30', SWITCHYARD_SIM_TIMEOUT_RATE: String(options.faultRate / 3),
    SWITCHYARD_SIM_ERROR_RATE: String(options.faultRate / 3), SWITCHYARD_LONG_POLL_MS: '3000', LOG_LEVEL: 'warn',
    // A killed node's claim on the reconciler lapses after the lease: short here, so that after
    // each kill the next process takes the periodic jobs over within the reckoning's window.
    SWITCHYARD_JOB_LEASE_MS: '2000', SWITCHYARD_JOB_POLL_MS: '200',
  };
}

/** One store's campaign; returns its figures. */
export async function campaign(store: StoreKind): Promise<Stats> {
  const s = statsFor(store);
  const began = Date.now();
  const st = await processStore(store);
  // The acquirer: another gateway in a process of its own, on its own store, never killed.
  const acquirerStore = await processStore('sqlite');
  const adminToken = randomUUID().replaceAll('-', '');
  const e = env(st, adminToken);
  let proc: GatewayProcess | undefined;
  let acquirer: GatewayProcess | undefined;
  /** What each of the store's gateway processes logged (warnings and errors), for a violation's detail. */
  const outputs: string[] = [];
  try {
    acquirer = await startGatewayProcess({ ...acquirerStore.env, LOG_LEVEL: 'warn', SWITCHYARD_SIM_LATENCY_MS: '30', SWITCHYARD_SIM_JITTER_MS: '30' });
    const atAcquirer = demoCredentials(acquirerStore.dataDir);
    proc = await startGatewayProcess(e);
    const merchantId = /merchantId\s+([0-9a-f]{32})/.exec(proc.output())![1]!;
    const cli = spawnSync(process.execPath, ['src/cli/main.ts', 'merchants', 'create', '--name', 'Strict Shop', '--unique-merchant-transaction-id', '--json'], { env: { ...process.env, ...st.env }, encoding: 'utf8' });
    if (cli.status !== 0) throw new Error(`merchants create: ${cli.stderr}`);
    let target: Target = { url: proc.url, demo: { ...demoCredentials(st.dataDir), merchantId }, strict: JSON.parse(cli.stdout), adminToken };
    // A cascade with a soft-declining first account (55.55) that moves on to the acquirer, in both dialects.
    const admin = { authorization: `Bearer ${adminToken}`, 'content-type': 'application/json' };
    const accounts = {
      'psp-a': { latencyMs: 20, declines: [{ category: 'soft', amounts: [5555] }] },
      acquirer: { connector: 'opp', settings: { baseUrl: acquirer.url, accessToken: atAcquirer.accessToken, entityId: atAcquirer.entityId } },
    };
    for (const [name, behaviour] of Object.entries(accounts)) {
      const r = await fetch(`${proc.url}/admin/merchants/${merchantId}/psp-accounts/${name}`, { method: 'PUT', headers: admin, body: JSON.stringify(behaviour) });
      if (r.status !== 200) throw new Error(`account ${name}: ${r.status} ${await r.text()}`);
    }
    const cascade = await fetch(`${proc.url}/admin/merchants/${merchantId}/workflows/payment-acceptance`, { method: 'PATCH', headers: admin, body: JSON.stringify({ accounts: ['psp-a', 'acquirer'] }) });
    if (cascade.status !== 200) throw new Error(`workflow: ${cascade.status} ${await cascade.text()}`);

    await races(s, target);
    await fuzz(s, target);

    const acks: Acks = { payments: new Map(), executions: new Set(), cut: [], onAck: () => {} };
    for (let cycle = 0; cycle < options.cycles; cycle++) {
      let stop = false;
      const workers = Array.from({ length: options.concurrency }, () => worker(s, () => target, acks, () => stop));
      // Every other cycle the kill comes the instant an approval was answered (the acknowledged
      // payment must be committed by then); the others at a random moment of the load.
      const afterAnswer = cycle % 2 === 1;
      await sleep(options.loadMs * (afterAnswer ? 0.3 : 0.5 + rand()));
      if (afterAnswer) {
        const answered = new Promise<boolean>((resolve) => { acks.onAck = () => resolve(true); });
        if (await Promise.race([answered, sleep(options.loadMs).then(() => false)])) s.killsAfterAnswer++;
        acks.onAck = () => {};
      }
      await proc.stop('SIGKILL');
      outputs.push(proc.output());
      s.crashCycles++;
      stop = true;
      await Promise.all(workers);
      proc = await startGatewayProcess(e);
      target = { ...target, url: proc.url };
    }
    // Load without crashes for a moment, so requests are also acknowledged by a process that lives on.
    let stop = false;
    const workers = Array.from({ length: options.concurrency }, () => worker(s, () => target, acks, () => stop));
    await sleep(options.loadMs);
    stop = true;
    await Promise.all(workers);
    // Authorizations whose answer a kill cut off, sent again as a merchant would: the same key.
    for (const c of acks.cut) {
      s.retriedAfterKill++;
      await exe(s, target, 'POST', `${wf}/${c.id}/authorize`, c.body, c.key);
    }

    // The reckoning: give the reconciler and the pending-answer expiry their time, then look.
    const { db, close } = await st.open();
    try {
      // The reconciler asks again about an operation a quarter of its age after it last did (at
      // least twice the PSP timeout): one made at the campaign's start, asked just before the
      // reckoning, is asked again only that long after. On a slow machine the campaign, and so that
      // quarter, outlasted a fixed window.
      const settleBy = Date.now() + asyncTimeoutMs + 4 * pspTimeoutMs + 10_000 + (Date.now() - began) / 4;
      let v: Violation[] = [];
      do {
        await sleep(1000);
        v = await checkInvariants(db, { inFlightMaxAgeMs: 0 });
      } while (v.length > 0 && Date.now() < settleBy);
      await proc.stop('SIGTERM');
      outputs.push(proc.output());
      proc = undefined;
      v = await checkInvariants(db, { inFlightMaxAgeMs: 0 });
      // A capture, refund or void the acquirer answered with a pending code that "may change after
      // several days" (800.400.5xx, 100.400.500) lasts until the acquirer says how it ended, by
      // design (docs/connectors.md): not a stale operation, however long the reckoning.
      const lasting = await sql<{ id: string }>`SELECT t.id FROM transactions t JOIN attempts a ON a.transaction_id = t.id
        WHERE t.status = 'pending' AND t.seq > 0 AND a.status = 'pending' AND (a.result_code LIKE '800.400.5%' OR a.result_code = '100.400.500')`.execute(db);
      const lasts = new Set(lasting.rows.map((r) => r.id));
      s.lastingFollowUps = lasts.size;
      v = v.filter((x) => x.rule !== 'stale_in_flight' || !lasts.has(x.ids[1] ?? ''));
      // An operation still open: what its attempts say, and what the gateway logged of it, to tell why.
      v = await Promise.all(v.map(async (x) => {
        if (x.rule !== 'stale_in_flight') return x;
        const opId = x.ids[1] ?? '';
        const op = await db.selectFrom('transactions').select(['type', 'status', 'created_at', 'updated_at', 'unknown_since']).where('id', '=', opId).executeTakeFirst();
        const attempts = await db.selectFrom('attempts').select(['account_name', 'status', 'reason', 'result_code', 'created_at', 'updated_at']).where('transaction_id', '=', opId).execute();
        const logged = outputs.join('\n').split('\n').filter((l) => l.includes(opId) || l.includes(x.ids[0] ?? '-')).slice(-5);
        return { ...x, detail: `${x.detail}; operation ${JSON.stringify(op)}; attempts ${JSON.stringify(attempts)}; logged ${JSON.stringify(logged)}` };
      }));
      s.violations.push(...v);
      // The books after the crashes, checked as an operator would: `ledger verify` on the store.
      const verify = spawnSync(process.execPath, ['src/cli/main.ts', 'ledger', 'verify', '--json'], { env: { ...process.env, ...st.env }, encoding: 'utf8' });
      s.ledgerVerified = verify.status === 0;
      if (verify.status !== 0) s.violations.push({ rule: 'ledger_verify', ids: [], detail: `ledger verify exited ${verify.status}: ${verify.stdout}${verify.stderr}` });
      for (const [id, mtx] of acks.payments) {
        const rows = await db.selectFrom('transactions').select(['id', 'status']).where('merchant_transaction_id', '=', mtx).where('seq', '=', 0).execute();
        if (rows.length !== 1 || rows[0]!.id !== id || rows[0]!.status !== 'succeeded') s.violations.push({ rule: 'acknowledged_payment_lost', ids: [id], detail: `acknowledged as approved; in the books under its merchant transaction id: ${JSON.stringify(rows)}` });
      }
      for (const c of acks.cut) {
        const r = await sql<{ n: number }>`SELECT COUNT(*) AS n FROM attempts a JOIN executions e ON e.payment_id = a.payment_id
          WHERE e.id = ${c.id} AND a.transaction_id = a.payment_id AND a.status = 'succeeded'`.execute(db);
        const n = Number(r.rows[0]?.n ?? 0);
        if (n > 1) s.violations.push({ rule: 'retried_authorization_charges', ids: [c.id], detail: `cut off by a kill and sent again under its key: ${n} successful authorizations` });
      }
      s.violations.push(...await acquirerViolations(s, db, acquirerStore));
      for (const id of acks.executions) {
        // Every PSP try of the execution's authorization is an attempt of its payment's opening operation.
        const r = await sql<{ n: number }>`SELECT COUNT(*) AS n FROM attempts a JOIN executions e ON e.payment_id = a.payment_id
          WHERE e.id = ${id} AND a.transaction_id = a.payment_id AND a.status = 'succeeded'`.execute(db);
        const n = Number(r.rows[0]?.n ?? 0);
        if (n !== 1) s.violations.push({ rule: 'acknowledged_execution_charges', ids: [id], detail: `acknowledged as authorized; ${n} successful authorizations in the books` });
      }
    } finally { await close(); }
  } finally {
    await proc?.stop('SIGKILL');
    await acquirer?.stop('SIGKILL');
    if (process.env.CHAOS_KEEP) process.stdout.write(`kept: ${st.dataDir} ${acquirerStore.dataDir}\n`);
    else {
      await st.drop();
      await acquirerStore.drop();
    }
  }
  return s;
}

/**
 * The acquirer's own word against the books: every charge it made (our attempt id is its merchant
 * transaction id), against our attempts. An attempt id is charged at most once, an operation at
 * most once and for its own amount and currency; one the books approved there was charged by its
 * approving attempt; a charge the books did not take (a late approval), or one no attempt of ours
 * names, was reversed there in full by the gateway.
 */
async function acquirerViolations(s: Stats, db: Awaited<ReturnType<ProcessStore['open']>>['db'], acquirerStore: ProcessStore): Promise<Violation[]> {
  const ours = await db.selectFrom('attempts as a').innerJoin('transactions as t', 't.id', 'a.transaction_id')
    .select(['a.id', 'a.transaction_id', 'a.status', 't.status as operation_status', 't.amount', 't.currency'])
    .where('a.account_name', '=', 'acquirer').where('t.seq', '=', 0).execute();
  const violations: Violation[] = [];
  const { db: theirs, close } = await acquirerStore.open();
  try {
    // Every charge the acquirer made, whoever it names (it serves nobody but this gateway here).
    const made = await theirs.selectFrom('transactions').select(['merchant_transaction_id', 'payment_id', 'amount', 'currency'])
      .where('seq', '=', 0).where('status', '=', 'succeeded').execute();
    const charges = new Map<string, { paymentId: string; amount: number; currency: string; reversed: boolean }[]>();
    for (const r of made) {
      const back = await theirs.selectFrom('transactions').select(['type', 'amount']).where('payment_id', '=', r.payment_id)
        .where('type', 'in', ['void', 'refund']).where('status', '=', 'succeeded').execute();
      const refunded = back.filter((b) => b.type === 'refund').reduce((n, b) => n + Number(b.amount), 0);
      const reversed = back.some((b) => b.type === 'void') || refunded >= Number(r.amount);
      const key = r.merchant_transaction_id ?? '';
      charges.set(key, [...(charges.get(key) ?? []), { paymentId: r.payment_id, amount: Number(r.amount), currency: r.currency, reversed }]);
    }
    const byOperation = new Map<string, typeof ours>();
    for (const a of ours) byOperation.set(a.transaction_id, [...(byOperation.get(a.transaction_id) ?? []), a]);
    s.acquirerOperations = byOperation.size;
    s.acquirerCharges = made.length;
    const attemptIds = new Set(ours.map((a) => a.id));
    for (const [reference, list] of charges) {
      if (list.length > 1) violations.push({ rule: 'charged_twice_at_psp', ids: list.map((c) => c.paymentId), detail: `the acquirer charged attempt ${reference} ${list.length} times` });
      if (!attemptIds.has(reference) && list.some((c) => !c.reversed)) {
        violations.push({ rule: 'psp_charge_unknown_to_books', ids: list.map((c) => c.paymentId), detail: `the acquirer charged ${JSON.stringify(reference)}, which no attempt of ours names, and it was not reversed` });
      }
    }
    for (const [operationId, attempts] of byOperation) {
      // A charge the books declined stands reversed at the acquirer (the late-approval job); what the
      // merchant voided or refunded afterwards of an approved one is the merchant's own business.
      const standing = attempts.flatMap((a) => (charges.get(a.id) ?? []).filter((c) => a.status === 'succeeded' || !c.reversed).map((c) => ({ a, c })));
      if (standing.length > 1) violations.push({ rule: 'charged_twice_at_psp', ids: [operationId], detail: `${standing.length} charges at the acquirer for one operation` });
      for (const { a, c } of standing) {
        if (c.amount !== Number(a.amount) || c.currency !== a.currency) {
          violations.push({ rule: 'psp_charge_amount_differs', ids: [operationId], detail: `the acquirer charged ${c.currency} ${c.amount} for an operation of ${a.currency} ${a.amount}` });
        }
        if (a.status !== 'succeeded') violations.push({ rule: 'charged_at_psp_not_in_books', ids: [operationId], detail: `the acquirer charged attempt ${a.id}, which the books have ${a.status} (operation ${a.operation_status}), and it was not reversed` });
      }
      const approved = attempts.find((a) => a.status === 'succeeded');
      if (approved && !charges.has(approved.id)) {
        const there = await theirs.selectFrom('transactions').select(['seq', 'type', 'status', 'result_code']).where('merchant_transaction_id', '=', approved.id).execute();
        violations.push({ rule: 'approved_without_psp_charge', ids: [operationId], detail: `approved by attempt ${approved.id}, which the acquirer has not charged (it has ${JSON.stringify(there)})` });
      }
    }
  } finally { await close(); }
  return violations;
}

export function summary(all: Stats[]): string {
  const lines: string[] = [`chaos seed ${options.seed}: cycles ${options.cycles}, concurrency ${options.concurrency}, races ${options.races}, fuzz ${options.fuzz}/parser, fault rate ${options.faultRate}`];
  for (const s of all) {
    const byRule = new Map<string, number>();
    for (const v of s.violations) byRule.set(v.rule, (byRule.get(v.rule) ?? 0) + 1);
    lines.push(`[${s.store}] operations ${s.operations} · races ${s.races} · crash cycles ${s.crashCycles} (${s.killsAfterAnswer} the instant an approval was answered) · at the acquirer: ${s.acquirerOperations} operations, ${s.acquirerCharges} charges · authorizations cut off and sent again ${s.retriedAfterKill} · faults injected ${s.faultsInjected} (+ simulator losses/errors at ${(options.faultRate * 2 / 3).toFixed(2)}) · fuzz inputs ${s.fuzzInputs} · acknowledged ${s.acknowledged} · cut off by kills ${s.cutOff} · follow-ups still pending at the acquirer by design ${s.lastingFollowUps} · invariant violations ${s.violations.length} · 5xx ${s.fiveXX}`);
    if (byRule.size) lines.push(`  violations by rule: ${[...byRule].map(([r, n]) => `${r} ${n}`).join(', ')}`);
    if (s.violations.length) lines.push(describeViolations(s.violations, 8).replace(/^/gm, '    '));
    if (s.fiveXXSamples.length) lines.push('  5xx:', ...s.fiveXXSamples.slice(0, 5).map((x) => `    ${x}`));
  }
  return lines.join('\n');
}

async function main() {
  const stores: StoreKind[] = options.store === 'both' ? ['sqlite', 'postgres'] : [options.store];
  const results: Stats[] = [];
  for (const store of stores) {
    if (store === 'postgres' && !(await postgresAvailable())) {
      if (process.env.CI) throw new Error('PostgreSQL is unreachable');
      process.stdout.write('PostgreSQL unreachable: skipped\n');
      continue;
    }
    results.push(await campaign(store));
  }
  process.stdout.write(summary(results) + '\n');
  if (flags.json) process.stdout.write(JSON.stringify(results.map(({ violations, fiveXXSamples, ...figures }) => ({ ...figures, violations: violations.length, rules: [...new Set(violations.map((v) => v.rule))] }))) + '\n');
  process.exitCode = results.some((s) => s.violations.length > 0 || s.fiveXX > 0) ? 1 : 0;
}

if (import.meta.main) await main();
