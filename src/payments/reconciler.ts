/**
 * The reconciler: the periodic pass over operations left open (an answer lost to a timeout or a
 * crash, a PSP's pending answer, a cascade a crash interrupted), asking each one's PSP what became
 * of it on a backoff and settling what it says. It moves money only through the engine it is given.
 */
import { eachIsolated } from '../jobs/isolated.ts';
import { NoStatusApi, type Connector } from '../processors/connector.ts';
import type { Logger } from '../runtime/logger.ts';
import type { CascadeRules } from '../workflows/model.ts';
import type { Writers } from './change.ts';
import { attemptsOfOperation, isOpen, type Outcome } from './model.ts';
import { connectorOperationOf } from './psp-request.ts';
import { noAccountLeft, pastShoppersWait } from './cascade.ts';
import type { Runner } from './runner.ts';
import type { AttemptRecord, OperationRecord, PaymentRecord, PaymentStore } from './store.ts';

export interface ReconcilerDeps {
  readonly store: Pick<PaymentStore, 'openOperations'>;
  readonly runner: Pick<Runner, 'write' | 'lookup' | 'settleAttempt' | 'inFlight'>;
  /** The payment with its operations and attempts, oldest first. */
  details(paymentId: string): Promise<{ payment: PaymentRecord; operations: OperationRecord[]; attempts: AttemptRecord[] } | undefined>;
  rulesFor(payment: PaymentRecord, op: OperationRecord): Promise<CascadeRules>;
  /** Settles an attempt as the engine does (letting go of what a cascade held once it ends). */
  settleAttempt(paymentId: string, op: OperationRecord, attemptId: string, outcome: Outcome, rules: CascadeRules | undefined): Promise<{ changed: boolean; next: AttemptRecord | undefined }>;
  /**
   * Ends an operation whose next attempt never started (its last attempt's decline, or `expired`
   * when it has none); false when it moved meanwhile.
   */
  endUntried(paymentId: string, operationId: string): Promise<boolean>;
  /** Drives an operation from `attempt` (its next one when undefined) in the background. */
  goOn(payment: PaymentRecord, op: OperationRecord, attempt: AttemptRecord | undefined, rules: CascadeRules): void;
  /** Voids the rest a settled capture released. */
  releaseRestAfterSettling(paymentId: string): Promise<void>;
  /** Whether a follow-up its PSP answered pending (with this code) is one the PSP carries out later by itself. */
  pendingLasts(accountId: string, acquirerCode: string | undefined): Promise<boolean>;
  connectorFor(accountId: string | undefined): Promise<Connector | undefined>;
  readonly now: () => number;
  readonly logger: Logger;
  readonly pspTimeoutMs: number;
  readonly asyncTimeoutMs: number;
  readonly authorizationExpiryMs: number;
}

/** One pass: every open operation older than twice the PSP timeout; returns how many moved. */
export function createReconciler(deps: ReconcilerDeps): { reconcile(): Promise<number> } {
  const { store, runner, logger, pspTimeoutMs, asyncTimeoutMs } = deps;
  const write = <T>(fn: (w: Writers) => Promise<T>) => runner.write(fn);

  /**
   * One open operation: an attempt this process is calling is left alone; a PSP that said
   * "pending" is asked again on a backoff and expires after the pending timeout; a lost answer is
   * asked for; one the PSP never received failed; a cascade a crash interrupted goes on, while the
   * shopper may still be waiting for it.
   */
  async function reconcileOne(op: OperationRecord, now: number): Promise<boolean> {
    const details = await deps.details(op.paymentId);
    if (!details) return false;
    const { payment, attempts } = details;
    const last = attemptsOfOperation(attempts, op.id).at(-1);
    // A decline learnt late, an attempt never received or a cascade a crash interrupted ends a
    // shopper's payment past the shopper's wait, rather than moving on (see pastShoppersWait).
    const late = pastShoppersWait(op, last?.createdAt, now, asyncTimeoutMs);
    const rules = late ? noAccountLeft : await deps.rulesFor(payment, op);
    if (!last || (last.status === 'failed' && op.status === 'pending')) {
      // Recorded, but its (next) attempt never started: a crash. Take the cascade up again.
      if (late) return deps.endUntried(payment.id, op.id);
      deps.goOn(payment, op, undefined, rules);
      return true;
    }
    if (runner.inFlight.has(last.id)) return false;
    // An attempt recorded less than twice the PSP timeout ago may still be at its PSP, sent by
    // another node (a cascade's next step does not touch its operation, whose age let it in here):
    // asked now, the PSP could say "never received" of a call still under way.
    if (isOpen(last.status) && now - last.createdAt < 2 * pspTimeoutMs) return false;
    const pspPending = last.status === 'pending' && last.resultCode !== undefined;
    // Asked about on a backoff: a PSP's pending answer, or (with no code to record) an operation
    // touched since its attempt was recorded, as a lookup that found it pending touches it.
    // An unknown outcome is asked at once, and again on the backoff only once a lookup that could
    // not say touched it (a status API that keeps failing, asked on every pass, for every such payment).
    const backsOff = pspPending || (last.status === 'pending' && op.updatedAt > last.createdAt)
      || (op.status === 'unknown' && op.unknownSince !== undefined && op.updatedAt > op.unknownSince);
    // Pending for longer than any shopper or bank may take: it ends, releasing what it reserved,
    // unless the PSP, asked one last time, says it has ended already.
    const expire = async () => (await deps.settleAttempt(payment.id, op, last.id,
      { kind: 'declined', reason: 'expired', acquirerCode: undefined, message: undefined, pspReference: last.pspReference, details: {} }, noAccountLeft)).changed;
    const expiring = pspPending && now - op.createdAt >= asyncTimeoutMs;
    // Dated at the pass's start, not when its status call returned: a pass that began before the
    // timeout and whose call returned after it would otherwise leave the mark of a follow-up
    // touched past its timeout (one that waits for its PSP's notification, below), held ten minutes
    // more instead of ending at the next pass.
    const touch = () => write((w) => w.payments.touchOperation(op.id, now));
    if (backsOff && !expiring) {
      // Asked again after a quarter of its age (at least twice the PSP timeout, at most ten minutes).
      const backoff = Math.min(10 * 60_000, Math.max(2 * pspTimeoutMs, (now - op.createdAt) / 4));
      if (now - op.updatedAt < backoff) return false;
    }
    // Past the timeout and touched since: a follow-up that waits for its PSP's notification (below),
    // asked again only after the longest backoff.
    if (expiring && op.seq > 0 && op.updatedAt - op.createdAt >= asyncTimeoutMs && now - op.updatedAt < 10 * 60_000) return false;
    // What the PSP may need to find the attempt again (Stripe finds a capture through its PaymentIntent).
    const initial = op.seq === 0 ? op : details.operations.find((o) => o.seq === 0);
    const kind = op.kind as keyof typeof connectorOperationOf;
    let known: Awaited<ReturnType<typeof runner.lookup>>;
    try {
      known = await runner.lookup(last, connectorOperationOf[kind] ? {
        operation: connectorOperationOf[kind], amount: op.amount, pspReference: last.pspReference,
        originalReference: op.seq > 0 ? initial?.pspReference : undefined,
      } : undefined);
    } catch (err) {
      // A PSP that cannot say now keeps its pending operation open no longer than the timeout;
      // except a capture, refund or void at a PSP that tells how one ended only by notification
      // (Adyen's `received`): held up for hours (its retries after the endpoint was unreachable or
      // refused its signature), that notification may still come, and an operation ended before it
      // would see its success reversed as money moved that nobody was told of. The shopper's
      // timeout is no bound for it; the authorization's lifetime is.
      // Nor, at a PSP whose pending follow-ups last, one it said was pending: a status call that
      // fails says nothing of how it ended, and ended here its amount would be free to pay twice.
      const lastsAtPsp = op.seq > 0 && last.status === 'pending' && await deps.pendingLasts(last.accountId, last.resultCode);
      if (expiring && !lastsAtPsp && (op.seq === 0 || !(err instanceof NoStatusApi) || now - op.createdAt >= deps.authorizationExpiryMs)) return expire();
      if (expiring) { await touch(); return false; }
      // Asked again on the pending answer's backoff, as a lookup that answers "pending" is: left
      // untouched, a status API that keeps failing was asked on every pass, for every such operation.
      if (last.status === 'pending' || op.status === 'unknown') await touch();
      throw err;
    }
    // Still pending at the PSP past the time any shopper or bank may take, whether or not its
    // attempt recorded the PSP's pending answer (one lost to a crash mid-call was asked about on
    // every pass for ever): it ends; so does one with a pending answer the PSP no longer finds.
    // A capture, refund or void at a PSP whose pending follow-ups last does not: it accepted it and
    // carries it out later (a Stripe refund waiting for the account's balance), and one ended here
    // would free its amount to be refunded again, paid twice once the PSP's success arrives. It is
    // asked again on its backoff, and counted among the unknown outcomes an operator watches, until
    // the PSP says how it ended.
    const lasts = op.seq > 0 && known?.kind === 'pending' && await deps.pendingLasts(last.accountId, known.acquirerCode);
    if ((known?.kind === 'pending' && now - op.createdAt >= asyncTimeoutMs && !lasts) || (expiring && !known)) return expire();
    if (!known && now - last.createdAt < ((await deps.connectorFor(last.accountId))?.lookupLagMs ?? 0)) {
      // This PSP's lookup may not find an attempt this recent yet (a search that indexes new
      // payments late): "not found" means "not yet", and is asked again after the backoff.
      await touch();
      return false;
    }
    if (!known) {
      // The PSP never received it: no money moved, the attempt failed (and a cascade may go on).
      const r = await deps.settleAttempt(payment.id, op, last.id, {
        kind: 'declined', reason: 'not_received', acquirerCode: undefined, message: undefined, pspReference: undefined, details: { reconciled: 'not received by PSP' },
      }, rules);
      if (r.next) deps.goOn(payment, op, r.next, rules);
      if (r.changed && op.seq > 0) await deps.releaseRestAfterSettling(payment.id);
      return r.changed;
    }
    if (known.kind === 'pending') {
      // What the PSP says now is recorded when it says more than the attempt holds (its code, where
      // the answer was lost, or another pending code: the half-hour pending become the long one,
      // which decides whether the operation lasts when a later status call fails); recorded again,
      // the same pending would be announced on every pass. The touch comes after it: the record
      // dates the operation when the call returned, which may be past the timeout.
      const news = known.acquirerCode !== undefined && known.acquirerCode !== last.resultCode;
      if (op.status === 'unknown' || news) await runner.settleAttempt(payment.id, last.id, known, rules);
      await touch();
      return false;
    }
    const r = await deps.settleAttempt(payment.id, op, last.id, known, rules);
    if (r.next) deps.goOn(payment, op, r.next, rules);
    // A capture whose answer was lost releases its rest as one answered at once does.
    if (r.changed && op.seq > 0) await deps.releaseRestAfterSettling(payment.id);
    return r.changed;
  }

  return {
    async reconcile() {
      // Twice the PSP timeout: an attempt whose call another node may still be making is left alone.
      const now = deps.now();
      let moved = 0;
      let after: { updatedAt: number; id: string } | undefined;
      // Pages through every open operation: one that cannot be settled now (its PSP cannot say, or
      // it waits for its backoff) is retried on the next pass, and never stops the others, however
      // many such operations are older than they are.
      for (;;) {
        const page = await store.openOperations(now - 2 * pspTimeoutMs, 100, after);
        await eachIsolated(page, async (op) => { if (await reconcileOne(op, now)) moved++; }, logger, 'reconcile-payments', (op) => op.id);
        if (page.length < 100) return moved;
        const last = page.at(-1)!;
        after = { updatedAt: last.updatedAt, id: last.id };
      }
    },
  };
}
