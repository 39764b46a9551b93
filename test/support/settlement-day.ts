/**
 * A day of payments at the default (simulated) acquirer for settlement tests: an acquirer that can
 * lose answers (`SHOPPER_silent`: processed, its answer lost, found by a lookup; `SHOPPER_lose`:
 * never received until the PSP says otherwise), the jobs drained on a manual clock until nothing is
 * open, and the day's simulated report imported through the admin API.
 */
import assert from 'node:assert/strict';
import { manualClock } from '../../src/runtime/clock.ts';
import { createSimulatedAcquirer } from '../../src/processors/simulator/connector.ts';
import type { Connector, ConnectorRequest } from '../../src/processors/connector.ts';
import { serializeSettlementReport, type SettlementReport } from '../../src/processors/settlement-report.ts';
import { opp, startGateway, type Gateway } from './harness.ts';

export const success = '000.100.110';
export const unknownCode = '900.100.300';
export const D = Date.UTC(2026, 2, 10);
export const iso = (ms: number) => new Date(ms).toISOString().slice(0, 10);
export const cardOf = () => ({ 'card.number': '4200000000000000', 'card.holder': 'Jane Jones', 'card.expiryMonth': '05', 'card.expiryYear': '2034', 'card.cvv': '123', paymentBrand: 'VISA' });

/** The simulator, which can also lose answers: SHOPPER_silent (processed, answer lost; lookup finds it) and SHOPPER_lose (never received until the PSP says otherwise). */
export function acquirer() {
  const sim = createSimulatedAcquirer({ latencyMs: 0, jitterMs: 0, timeoutRate: 0, errorRate: 0 });
  const lost = new Set<string>();
  const processor: Connector = {
    name: 'simulator', operations: sim.operations, simulated: true,
    async execute(req: ConnectorRequest) {
      if (req.testParameters['SHOPPER_lose']) { lost.add(req.attemptId); return new Promise(() => {}); }
      if (req.testParameters['SHOPPER_silent']) { await sim.execute(req); return new Promise(() => {}); }
      return sim.execute(req);
    },
    async lookup(id: string) { return lost.has(id) ? undefined : sim.lookup!(id); },
  };
  return processor;
}

export async function gateway(start: number) {
  const clock = manualClock(start);
  const gw = await startGateway({ clock, processor: acquirer(), env: { SWITCHYARD_PSP_TIMEOUT_MS: '200' } });
  return { gw, clock };
}

export async function drain(gw: Gateway, clock: ReturnType<typeof manualClock>) {
  const db = gw.app.storage.db;
  for (let round = 0; round < 30; round++) {
    await gw.app.payments.idle();
    const open = await db.selectFrom('transactions').select(['id', 'type', 'status']).where('status', 'in', ['pending', 'unknown']).execute();
    const lates = await db.selectFrom('late_approvals').select(['attempt_id', 'status']).where('status', '<>', 'reversed').execute();
    if (open.length === 0 && lates.length === 0) return;
    clock.advance(61_000);
    await gw.app.jobs.runDue();
    await new Promise((r) => setTimeout(r, 20));
  }
  assert.fail('still open after the jobs');
}

export const ok = (r: { body: any }) => { assert.equal(r.body.result.code, success, JSON.stringify(r.body)); return r.body.id as string; };
export const bo = (gw: Gateway, id: string, paymentType: string, amount?: string, extra: Record<string, string> = {}) =>
  opp(gw, 'POST', `/v1/payments/${id}`, { paymentType, ...(amount ? { amount, currency: 'EUR' } : {}), ...extra });

export async function importReport(gw: Gateway, report: SettlementReport) {
  const res = await fetch(gw.url + '/admin/api/ledger/reconciliations', {
    method: 'POST', headers: { authorization: `Bearer ${gw.app.admin.token}`, 'content-type': 'application/json' },
    body: JSON.stringify({ pspAccount: 'default', report: JSON.parse(serializeSettlementReport(report)) }),
  });
  const body = await res.json() as any;
  assert.ok(res.status === 200 || res.status === 201, JSON.stringify(body));
  return body;
}

export const count = async (gw: Gateway, table: 'postings' | 'outbox' | 'settlement_discrepancies') =>
  Number((await gw.app.storage.db.selectFrom(table).select((eb) => eb.fn.countAll().as('n')).executeTakeFirstOrThrow()).n);

export async function simulated(gw: Gateway, day: string) {
  const account = await gw.app.settlement.account('default', undefined);
  assert.ok(account.ok);
  const made = await gw.app.settlement.simulatedReport(account.value, day);
  assert.ok(made.ok, JSON.stringify(made));
  return made.value.report;
}


/** A PA of 100.00 with a capture of 60.00, drained: the payment's and the capture's ids. */
export async function capturedSixty(gw: Gateway, clock: ReturnType<typeof manualClock>): Promise<{ pa: string; capture: string }> {
  const pa = ok(await opp(gw, 'POST', '/v1/payments', { ...cardOf(), paymentType: 'PA', amount: '100.00', currency: 'EUR' }));
  const capture = ok(await bo(gw, pa, 'CP', '60.00'));
  await drain(gw, clock);
  return { pa, capture };
}

/** The PSP reports a capture failed after it confirmed it (Adyen's CAPTURE_FAILED), then the jobs drain. */
export async function captureReportedFailed(gw: Gateway, clock: ReturnType<typeof manualClock>, captureId: string): Promise<void> {
  const attempt = (await gw.app.storage.db.selectFrom('attempts').select('id').where('transaction_id', '=', captureId).executeTakeFirstOrThrow()).id;
  const failed = { kind: 'declined', reason: 'provider_error', acquirerCode: 'CAPTURE_FAILED', message: undefined, pspReference: undefined, details: {} } as const;
  assert.equal(await gw.app.payments.settleFromPsp('default', attempt, failed, { reverses: true }), true);
  await drain(gw, clock);
}

/**
 * A sale of 25.00 the gateway ends as never received (its answer lost, the reconciler's lookup finds
 * nothing), which the PSP then approves under `pspReference`: a late approval the gateway reverses.
 * Its payment's id and the attempt's.
 */
export async function lateApprovedSale(gw: Gateway, clock: ReturnType<typeof manualClock>, pspReference: string, reconcileAfterMs = 60_000): Promise<{ paymentId: string; attemptId: string }> {
  const late = await opp(gw, 'POST', '/v1/payments', { ...cardOf(), paymentType: 'DB', amount: '25.00', currency: 'EUR', 'customParameters[SHOPPER_lose]': '1' });
  assert.equal(late.body.result.code, unknownCode);
  clock.advance(reconcileAfterMs);
  await gw.app.payments.reconcile();
  await gw.app.payments.idle();
  const attempt = await gw.app.storage.db.selectFrom('attempts').select(['id', 'status']).where('transaction_id', '=', late.body.id).executeTakeFirstOrThrow();
  assert.equal(attempt.status, 'failed');
  await gw.app.payments.settleFromPsp('default', attempt.id, { kind: 'approved', pspReference, acquirerCode: success, details: {} });
  return { paymentId: late.body.id, attemptId: attempt.id };
}

/**
 * A capture of 60.00 on the 10th, the PSP's report of the 10th made at midnight with it, then, early
 * on the 11th, the PSP reports that capture failed (before or after the operator imports the report).
 */
export async function capturedReportedThenFailed(gw: Gateway, clock: ReturnType<typeof manualClock>): Promise<{ capture: string; d10: SettlementReport }> {
  const { capture } = await capturedSixty(gw, clock);
  const d10 = await simulated(gw, '2026-03-10');
  assert.ok(d10.lines.some((l) => l.reference === capture));
  clock.set(D + 86_400_000 + 600_000);
  await captureReportedFailed(gw, clock, capture);
  return { capture, d10 };
}
