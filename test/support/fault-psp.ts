/**
 * A PSP that misbehaves on a seeded schedule, and keeps its own books: what it authorized,
 * captured, refunded and voided per authorization, so a test can hold the gateway's against them.
 * Per call: answers, declines, a provider error (nothing done), the answer lost after it acted,
 * never reached (nothing done, lookup: not found), slow (acts and answers past the PSP timeout;
 * lookup meanwhile: processing), or late (acts at once, answers past the timeout).
 */
import type { Connector, ConnectorRequest } from '../../src/processors/connector.ts';
import type { Outcome } from '../../src/processors/outcome.ts';

type Answer = Exclude<Outcome, { kind: 'unknown' }>;
export type Fault = 'ok' | 'decline' | 'error' | 'lost' | 'unreached' | 'slow' | 'late' | 'pending' | 'reset-acted' | 'reset-unreached';
export interface Auth { ref: string; attemptId: string; kind: 'authorize' | 'sale'; amount: number; captured: number; refunded: number; voided: boolean; released: number }
export interface Act { attemptId: string; op: string; amount: number; ref: string | undefined; on: string | undefined; fault: Fault; result: 'approved' | 'declined' }

export function faultPsp(opts: { next: (req: ConnectorRequest) => Fault; slowMs: number; lookupFails?: () => boolean }) {
  const auths = new Map<string, Auth>();
  const acts = new Map<string, Act>();
  const results = new Map<string, Answer>();
  const processing = new Set<string>();
  const problems: string[] = [];
  const pending: Promise<unknown>[] = [];
  let n = 0;
  const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
  const decline = (code: string, reason: 'soft' | 'provider_error' | 'invalid_request'): Answer => ({ kind: 'declined', reason, acquirerCode: code, message: undefined, pspReference: undefined, details: {} });

  /** Does what the request asks, on the PSP's own books; refuses what no PSP would do. */
  function act(req: ConnectorRequest, fault: Fault): Answer {
    const amt = req.amount.amount;
    const ref = `PSP${++n}`;
    const ok: Answer = { kind: 'approved', pspReference: ref, acquirerCode: '000.000.000', details: {} };
    const refuse = (why: string) => {
      problems.push(`PSP refused ${req.operation} ${amt} (${req.attemptId}) on ${req.originalReference}: ${why}`);
      return decline('800.100.190', 'invalid_request');
    };
    let a: Answer;
    if (req.operation === 'authorize' || req.operation === 'sale') {
      auths.set(ref, { ref, attemptId: req.attemptId, kind: req.operation, amount: amt, captured: req.operation === 'sale' ? amt : 0, refunded: 0, voided: false, released: 0 });
      a = ok;
    } else {
      const auth = req.originalReference ? auths.get(req.originalReference) : undefined;
      if (!auth) a = refuse('no such authorization');
      else if (req.operation === 'capture') {
        if (auth.kind !== 'authorize' || auth.voided) a = refuse(`capture of a ${auth.voided ? 'voided' : auth.kind}`);
        else if (auth.captured + amt + auth.released > auth.amount) a = refuse(`over-capture: captured ${auth.captured} released ${auth.released} of ${auth.amount}`);
        else { auth.captured += amt; a = ok; }
      } else if (req.operation === 'refund') {
        if (auth.refunded + amt > auth.captured) a = refuse(`over-refund: refunded ${auth.refunded} of captured ${auth.captured}`);
        else { auth.refunded += amt; a = ok; }
      } else if (req.operation === 'void') {
        if (auth.voided) a = refuse('voided twice');
        else if (auth.kind === 'sale') a = refuse('void of a sale');
        else { auth.voided = true; auth.released = auth.amount - auth.captured; a = ok; }
      } else a = refuse('unsupported');
    }
    acts.set(req.attemptId, { attemptId: req.attemptId, op: req.operation, amount: amt, ref: a.kind === 'approved' ? ref : undefined, on: req.originalReference, fault, result: a.kind === 'approved' ? 'approved' : 'declined' });
    results.set(req.attemptId, a);
    return a;
  }

  const connector: Connector = {
    name: 'fault-psp',
    operations: ['authorize', 'sale', 'capture', 'void', 'refund'],
    async execute(req) {
      const known = results.get(req.attemptId);
      if (known) return known;
      if (processing.has(req.attemptId)) { problems.push(`attempt ${req.attemptId} sent again while processing`); return new Promise(() => {}); }
      const fault = opts.next(req);
      await sleep(5 + Math.floor(Math.random() * 20));
      switch (fault) {
        case 'ok': return act(req, fault);
        case 'decline': {
          const d = decline('800.100.152', 'soft');
          acts.set(req.attemptId, { attemptId: req.attemptId, op: req.operation, amount: req.amount.amount, ref: undefined, on: req.originalReference, fault, result: 'declined' });
          results.set(req.attemptId, d);
          return d;
        }
        case 'error': return { kind: 'declined', reason: 'provider_error', acquirerCode: '900.100.100', message: undefined, pspReference: undefined, details: { AcquirerResponse: 'EXCEPTION' } };
        case 'lost': act(req, fault); return new Promise(() => {});
        case 'unreached': return new Promise(() => {});
        case 'reset-acted': act(req, fault); throw new Error('ECONNRESET');
        case 'reset-unreached': throw new Error('ECONNREFUSED');
        case 'pending': {
          // Received and processing; the final word comes by lookup only.
          const a = act(req, fault);
          return { kind: 'pending', action: undefined, pspReference: a.pspReference, acquirerCode: '000.200.000', details: {} };
        }
        case 'late': { const a = act(req, fault); const p = sleep(opts.slowMs).then(() => a); pending.push(p); return p; }
        case 'slow': {
          processing.add(req.attemptId);
          const p = sleep(opts.slowMs).then(() => { processing.delete(req.attemptId); return act(req, fault); });
          pending.push(p);
          return p;
        }
      }
    },
    async lookup(attemptId) {
      if (opts.lookupFails?.()) throw new Error('status API unavailable');
      const r = results.get(attemptId);
      if (r) return r;
      return processing.has(attemptId) ? { kind: 'pending', action: undefined, pspReference: undefined, acquirerCode: undefined, details: {} } : undefined;
    },
  };
  return { connector, auths, acts, problems, settled: () => Promise.all(pending) };
}

export function rng(seed: number) {
  let a = seed >>> 0;
  return () => { a = (a + 0x6D2B79F5) >>> 0; let t = a; t = Math.imul(t ^ (t >>> 15), t | 1); t ^= t + Math.imul(t ^ (t >>> 7), t | 61); return ((t ^ (t >>> 14)) >>> 0) / 4294967296; };
}

/** A seeded schedule of faults, or a fixed script (by call order) for shrunk cases. */
export function schedule(r: () => number, weights: Partial<Record<Fault, number>> = { ok: 55, decline: 8, error: 8, lost: 9, unreached: 8, slow: 6, late: 6 }) {
  const entries = Object.entries(weights) as [Fault, number][];
  const total = entries.reduce((s, [, w]) => s + w, 0);
  return () => { let x = r() * total; for (const [f, w] of entries) { if ((x -= w) < 0) return f; } return 'ok' as Fault; };
}
