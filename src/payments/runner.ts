import type { Clock } from '../runtime/clock.ts';
import type { Ids } from '../runtime/ids.ts';
import type { Logger } from '../runtime/logger.ts';
import type { UnitOfWork } from '../storage/unit-of-work.ts';
import type { Tx } from '../storage/unit-of-work.ts';
import type { VaultWriter } from '../vault/store.ts';
import { outboxWriterOf } from '../webhooks/outbox.ts';
import type { Connector, ConnectorRequest, LookupHint } from '../processors/connector.ts';
import type { ThreeDsService } from '../threeds/service.ts';
import type { Challenge } from '../threeds/store.ts';
import { defaultAccount } from '../processors/registry.ts';
import { nextStep, noAccountLeft, type CascadeRules } from './cascade.ts';
import {
  brokenInvariants, canTransition, isOpen, paymentStatusOf, statusOfOutcome, totalsOf,
  type DeclineReason, type Outcome, type OperationStatus, type PaymentStatus, attemptsOfOperation } from './model.ts';
import type { PaymentChange, PaymentObserver, Writers } from './change.ts';
import type { AttemptRecord, LockedPayment, OperationRecord, PaymentStore, Settlement } from './store.ts';

/** Operations whose approval moves money back or away (checked against what the payment holds). */
const movesMoneyBack: ReadonlySet<string> = new Set(['refund', 'chargeback', 'capture', 'rebill']);

/** Where an attempt goes and what it carries, decided by the service for each operation. */
export interface AttemptPlan {
  readonly rules: CascadeRules;
  /**
   * The cascade as it is now, read again once an attempt is declined, before its next account is
   * chosen: an operator may take an account out of the cascade (and remove it) while an attempt is
   * at its PSP, and the card must not go to it after they were told the change was made.
   */
  readonly rulesNow?: () => Promise<CascadeRules>;
  /** The request every attempt of the operation sends (the attempt id is filled in per attempt). */
  readonly request: Omit<ConnectorRequest, 'attemptId' | 'returnUrl'>;
  /** Where a PSP running its own 3-D Secure sends the shopper back: this plus `/{attemptId}`. */
  readonly returnBaseUrl?: string;
  /**
   * When this node took the operation up, if after its attempt was recorded: the follow-ups of one
   * call (a cancel's refunds and void) are recorded together and sent in turn, so a later one waits
   * for the earlier calls without its node being held up.
   */
  readonly takenUpAt?: number;
}

export interface Runner {
  /** One unit of work with every writer a payment change uses. */
  write<T>(fn: (w: Writers) => Promise<T>): Promise<T>;
  /**
   * Settles an operation and moves the payment on, in the caller's unit of work: the new status
   * (checked against the state machine), the outbox event and every observer. Returns the status.
   */
  settle(w: Writers, locked: LockedPayment, operationId: string, s: Settlement, extra?: { pspAccountId?: string; unknownSince?: number; challenge?: PaymentChange['challenge']; undone?: boolean }): Promise<PaymentStatus>;
  /** Tells observers and the outbox of an operation recorded or resumed (no settlement). */
  announce(w: Writers, locked: LockedPayment, operationId: string, challenge?: PaymentChange['challenge']): Promise<void>;
  /** Records the operation's next attempt (in the caller's unit of work); undefined when none is due. */
  recordAttempt(w: Writers, locked: LockedPayment, operationId: string, rules: CascadeRules, authenticated: boolean): Promise<AttemptRecord | undefined>;
  /**
   * Sends an operation's recorded attempt and every further attempt its cascade allows, each
   * recorded before it is sent, until the operation has an outcome or waits on an open one.
   */
  drive(paymentId: string, operationId: string, attempt: AttemptRecord | undefined, plan: AttemptPlan): Promise<LockedPayment | undefined>;
  /** Asks the PSP about an attempt whose outcome is open; the answer, or undefined when the PSP never received it. */
  lookup(attempt: AttemptRecord, hint?: LookupHint): Promise<Exclude<Outcome, { kind: 'unknown' }> | undefined>;
  /** Applies an outcome learnt later (reconciler, PSP notification) to an open attempt; returns whether anything changed. */
  settleAttempt(paymentId: string, attemptId: string, outcome: Outcome, rules: CascadeRules | undefined): Promise<{ changed: boolean; next: AttemptRecord | undefined }>;
  /** Attempts this process is waiting on the PSP for: never the reconciler's to decide. */
  readonly inFlight: ReadonlySet<string>;
}

export function settlementOf(outcome: Outcome, at: number, known: Readonly<Record<string, string>> = {}): Settlement {
  switch (outcome.kind) {
    case 'unknown': return { status: 'unknown', reason: undefined, resultCode: undefined, pspReference: undefined, details: known, at };
    case 'declined': return { status: 'failed', reason: outcome.reason, resultCode: outcome.acquirerCode, pspReference: outcome.pspReference, details: { ...known, ...outcome.details }, at };
    default: return { status: statusOfOutcome[outcome.kind], reason: undefined, resultCode: outcome.acquirerCode, pspReference: outcome.pspReference, details: { ...known, ...outcome.details }, at };
  }
}

/** A refusal that ends an operation before any PSP hears of it. */
export const refusal = (reason: DeclineReason, details: Readonly<Record<string, string>>, at: number): Settlement =>
  ({ status: 'failed', reason, resultCode: undefined, pspReference: undefined, details, at });

/**
 * The part of the engine that talks to PSPs: attempts recorded before each call, calls made outside
 * any transaction and bounded by the PSP timeout, outcomes recorded with the payment's new status,
 * its outbox event and its observers in one unit of work (DESIGN: intent, call, outcome).
 */
export function createRunner(deps: {
  uow: UnitOfWork;
  store: PaymentStore;
  vaultWriter: (tx: Tx) => VaultWriter;
  connectorFor: (accountId: string | undefined) => Promise<Connector | undefined>;
  observers: readonly PaymentObserver[];
  clock: Clock;
  ids: Ids;
  logger: Logger;
  pspTimeoutMs: number;
  threeds: ThreeDsService;
  /** How long a shopper may take at a PSP's own 3-D Secure. */
  asyncTimeoutMs: number;
  /**
   * A PSP's answer to an attempt that had ended before it came (another node's reconciler found it
   * never received, say): an approval there is money moved for an attempt the gateway failed.
   */
  answeredAfterEnd?: (attempt: AttemptRecord, outcome: Outcome) => Promise<void>;
}): Runner {
  const { uow, store, clock, ids, logger, pspTimeoutMs } = deps;
  const inFlight = new Set<string>();
  const addEvent = outboxWriterOf(uow.db);

  const write = <T>(fn: (w: Writers) => Promise<T>): Promise<T> =>
    uow.run((tx) => fn({ tx, payments: store.writer(tx), vault: deps.vaultWriter(tx), event: (e) => addEvent(tx, e) }));

  /** Observers hear of every change; the outbox of outcomes (and of a wait for the shopper), not of mere recording. */
  async function tell(w: Writers, change: PaymentChange, announce: boolean) {
    const p = change.payment;
    const o = change.operation;
    // A neutral record of the operation's outcome; the webhooks concern decides who hears of it.
    if (announce) await w.event({
      id: ids.hex32(), merchantId: p.merchantId, type: `operation.${o.status}`, subjectId: o.id, createdAt: o.updatedAt,
      payload: {
        channel: p.channel, ...(p.entityId ? { entityId: p.entityId } : {}), paymentId: p.id, operationId: o.id, kind: o.kind,
        status: o.status, reason: o.reason ?? null, resultCode: o.resultCode ?? null, amount: o.amount.amount, currency: o.amount.currency,
        paymentStatus: p.status, context: o.context,
        // The outcome's details as they are now: its notification, sent later perhaps, must still
        // say what the status call said then (a pending one no final acquirer answer and no ECI; a
        // success not the failure its PSP reported after it, read once the operation was undone).
        details: o.details,
      },
    });
    for (const observer of deps.observers) await observer.paymentChanged(w.tx, change);
  }

  const runner: Runner = {
    write,
    inFlight,

    async settle(w, locked, operationId, s, extra = {}) {
      await w.payments.settleOperation(operationId, s, s.status === 'unknown' ? (extra.unknownSince ?? s.at) : undefined);
      const operations = locked.operations.map((o) => (o.id === operationId
        ? { ...o, status: s.status, reason: s.reason, resultCode: s.resultCode, pspReference: s.pspReference, details: s.details, updatedAt: s.at }
        : o));
      const before = locked.payment.status;
      const next = paymentStatusOf(operations);
      // A PSP reports what it did, and it is recorded as it happened; money out beyond what was
      // taken (a refund it approved after a chargeback of the same money was recorded, which the
      // rules would have refused) is told to an operator to settle with the PSP, not booked silently.
      const settled = locked.operations.find((o) => o.id === operationId);
      if (s.status === 'succeeded' && settled && movesMoneyBack.has(settled.kind)) {
        const had = new Set(brokenInvariants(locked.operations));
        const broken = brokenInvariants(operations).filter((b) => !had.has(b));
        if (broken.length > 0) {
          logger.error({ paymentId: locked.payment.id, operationId, kind: settled.kind, broken, totals: totalsOf(operations) },
            'a PSP reported money moved beyond what the payment holds: settle the difference with the PSP');
        }
      }
      if (!canTransition(before, next)) {
        // The rules refuse conflicting operations before any PSP call, so this means money moved in a
        // way the rules did not foresee: recorded as it happened, loudly, never thrown (a throw here
        // would leave the outcome unrecorded and stop the reconciler on this row for ever).
        logger.error({ paymentId: locked.payment.id, from: before, to: next }, 'payment moved outside its state machine');
      }
      const pspAccountId = extra.pspAccountId !== undefined ? { pspAccountId: extra.pspAccountId === defaultAccount.id ? undefined : extra.pspAccountId } : {};
      if (next !== before || 'pspAccountId' in pspAccountId) await w.payments.updatePayment(locked.payment.id, { status: next, ...pspAccountId }, s.at);
      const payment = { ...locked.payment, status: next, ...pspAccountId, updatedAt: s.at };
      // The unit's own view moves with its writes, so callers answer from it without reading again.
      locked.payment = payment;
      locked.operations = operations;
      await tell(w, {
        payment, operations, attempts: locked.attempts, operation: operations.find((o) => o.id === operationId)!,
        previousStatus: before, ...(extra.challenge ? { challenge: extra.challenge } : {}), ...(extra.undone ? { undone: true } : {}),
      }, true);
      return next;
    },

    async announce(w, locked, operationId, challenge) {
      await tell(w, {
        payment: locked.payment, operations: locked.operations, attempts: locked.attempts,
        operation: locked.operations.find((o) => o.id === operationId)!, previousStatus: locked.payment.status,
        ...(challenge ? { challenge } : {}),
      }, locked.operations.find((o) => o.id === operationId)!.status === 'awaiting');
    },

    async recordAttempt(w, locked, operationId, rules, authenticated) {
      const attempts = attemptsOfOperation(locked.attempts, operationId);
      const step = nextStep(rules, attempts);
      if (step.kind !== 'attempt') return undefined;
      const now = clock.now();
      const attempt: AttemptRecord = {
        // The first attempt carries its operation's id, so the PSP's idempotency key is the id the merchant knows.
        id: step.seq === 0 ? operationId : ids.hex32(), paymentId: locked.payment.id, operationId, seq: step.seq,
        accountId: step.account.id, accountName: step.account.name, connector: step.account.connector, authenticated,
        status: 'pending', reason: undefined, resultCode: undefined, pspReference: undefined, createdAt: now, updatedAt: now,
      };
      if (!(await w.payments.insertAttempt(attempt))) return undefined;
      locked.attempts.push(attempt);
      return attempt;
    },

    async drive(paymentId, operationId, first, plan) {
      let attempt = first;
      let last: LockedPayment | undefined;
      while (attempt) {
        const outcome = await call(attempt, plan);
        const current: AttemptRecord = attempt;
        // The PSP runs 3-D Secure itself: the shopper's page is opened before the outcome that
        // points to it is recorded (a crash in between leaves only an unreachable page).
        const challenge = outcome.kind === 'pending' && outcome.redirect ? await openPspChallenge(paymentId, plan, outcome.redirect) : undefined;
        const rules = outcome.kind === 'declined' && plan.rulesNow ? await plan.rulesNow() : plan.rules;
        let endedMeanwhile: AttemptRecord | undefined;
        attempt = await write(async (w) => {
          endedMeanwhile = undefined;
          const locked = await w.payments.lock(paymentId);
          if (!locked) throw new Error(`payment ${paymentId} vanished`);
          const mine = locked.attempts.find((a) => a.id === current.id);
          // A racing reconciler settled it first: its record stands.
          if (!mine || !isOpen(mine.status) || (mine.status === 'pending' && mine.resultCode !== undefined)) {
            if (mine && !isOpen(mine.status)) endedMeanwhile = mine;
            return undefined;
          }
          const next = await applyAttemptOutcome(w, locked, mine, outcome, rules, challenge);
          last = locked;
          return next;
        });
        if (endedMeanwhile) await deps.answeredAfterEnd?.(endedMeanwhile, outcome);
      }
      return last;
    },

    async lookup(attempt, hint) {
      const connector = await deps.connectorFor(attempt.accountId);
      // An account removed while an attempt at it was open: nobody can be asked now. Taken for
      // "never received", the attempt would fail and its cascade charge the card elsewhere while
      // the PSP that had it may have charged it already; it stays open, for an operator.
      if (!connector) throw new Error(`the PSP account ${attempt.accountName} (${attempt.accountId}) is gone: what became of attempt ${attempt.id} cannot be asked`);
      return connector.lookup(attempt.id, hint);
    },

    async settleAttempt(paymentId, attemptId, outcome, rules) {
      let next: AttemptRecord | undefined;
      const changed = await write(async (w) => {
        const locked = await w.payments.lock(paymentId);
        const attempt = locked?.attempts.find((a) => a.id === attemptId);
        if (!locked || !attempt || !isOpen(attempt.status)) return false;
        next = await applyAttemptOutcome(w, locked, attempt, outcome, rules ?? noAccountLeft);
        return true;
      });
      return { changed, next };
    },
  };

  /** The hosted page that forwards the shopper to a PSP's own 3-D Secure, open as long as a shopper may take. */
  async function openPspChallenge(paymentId: string, plan: AttemptPlan, redirect: NonNullable<Extract<Outcome, { kind: 'pending' }>['redirect']>): Promise<Challenge | undefined> {
    const [payment, opening] = await Promise.all([store.payment(paymentId), store.operation(paymentId)]);
    if (!payment) return undefined;
    // The merchant's pages the shopper goes on to after the PSP: the page's form must be allowed to end there.
    const origins = opening?.context.pspReturnOrigins;
    return deps.threeds.open({
      merchantId: payment.merchantId, merchantName: '', purpose: '3ds', subject: { kind: 'payment', id: paymentId },
      amount: plan.request.amount, instrumentLabel: plan.request.card ? `${plan.request.card.brand} •••• ${plan.request.card.pan.last4}` : '',
      returnUrls: Array.isArray(origins) ? origins.filter((o): o is string => typeof o === 'string') : [],
      expiresAt: clock.now() + deps.asyncTimeoutMs, pspRedirect: redirect,
    });
  }

  /** Calls the PSP outside any transaction, bounded by its account's timeout (else the PSP timeout); a lost or broken answer is unknown. */
  async function call(attempt: AttemptRecord, plan: AttemptPlan): Promise<Outcome> {
    const connector = await deps.connectorFor(attempt.accountId);
    if (!connector) {
      return { kind: 'declined', reason: 'provider_error', acquirerCode: undefined, message: 'PSP account not configured', pspReference: undefined, details: {} };
    }
    // Recorded long enough ago that a reconciler may already have asked the PSP about it (after twice
    // the PSP timeout), found it never received and ended it: this node stalled since (a long pause,
    // a frozen VM). Sent now, it could charge the card for an attempt the gateway has failed, or
    // after the cascade's next account already has. Left unknown, the reconciler settles it.
    if (clock.now() - Math.max(attempt.createdAt, plan.takenUpAt ?? 0) >= pspTimeoutMs) {
      logger.warn({ attemptId: attempt.id, paymentId: attempt.paymentId }, 'an attempt was not sent: this node was held up since recording it; the reconciler settles it');
      return { kind: 'unknown' };
    }
    inFlight.add(attempt.id);
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<Outcome>((resolve) => { timer = setTimeout(resolve, connector.timeoutMs ?? pspTimeoutMs, { kind: 'unknown' }); });
    try {
      const request: ConnectorRequest = { ...plan.request, attemptId: attempt.id, ...(plan.returnBaseUrl ? { returnUrl: `${plan.returnBaseUrl}/${attempt.id}` } : {}) };
      return await Promise.race([connector.execute(request), timeout]);
    } catch (err) {
      // A connection that broke mid-call may or may not have reached the PSP: unknown, never retried blindly.
      logger.warn({ err: String(err), attemptId: attempt.id }, 'psp call failed');
      return { kind: 'unknown' };
    } finally {
      clearTimeout(timer);
      inFlight.delete(attempt.id);
    }
  }

  /**
   * Records an attempt's outcome and what it means for its operation: approved settles it (and the
   * payment remembers the account that holds the authorization), a decline the cascade moves on
   * from records the next attempt, a final decline settles it failed, pending keeps it open, unknown
   * marks it unknown. Returns the next attempt to send, if any.
   */
  async function applyAttemptOutcome(w: Writers, locked: LockedPayment, attempt: AttemptRecord, outcome: Outcome, rules: CascadeRules,
    challenge?: Challenge): Promise<AttemptRecord | undefined> {
    const at = clock.now();
    const op = locked.operations.find((o) => o.id === attempt.operationId)!;
    const s = settlementOf(outcome, at, op.details);
    await w.payments.settleAttempt(attempt, s);
    const settledAttempt: AttemptRecord = { ...attempt, status: s.status, reason: s.reason, resultCode: s.resultCode, pspReference: s.pspReference, updatedAt: at };
    locked.attempts.splice(locked.attempts.indexOf(attempt), 1, settledAttempt);
    if (s.status === 'pending') {
      // The PSP is still processing, or waits for the shopper at its own 3-D Secure (the
      // operation awaits the shopper, whose page the dialects show): it stays open either way.
      if (challenge) await runner.settle(w, locked, op.id, { ...s, status: 'awaiting' }, { challenge: { id: challenge.id, purpose: challenge.purpose } });
      else await runner.settle(w, locked, op.id, s);
      return undefined;
    }
    if (s.status === 'failed') {
      const step = nextStep(rules, attemptsOfOperation(locked.attempts, op.id));
      if (step.kind === 'attempt') {
        const next = await runner.recordAttempt(w, locked, op.id, rules, attempt.authenticated);
        // The operation goes on at the next account as it was before this one answered: the
        // declined attempt keeps its own code, reference and details, none of which may show on
        // the operation the next account approves (an approved payment saying "DECLINED", naming
        // the other PSP's transaction).
        const onward: Settlement = { ...s, status: 'pending', reason: undefined, resultCode: undefined, pspReference: undefined, details: op.details };
        if (op.status === 'unknown' || op.status === 'awaiting') await runner.settle(w, locked, op.id, onward);
        else await w.payments.settleOperation(op.id, onward);
        return next;
      }
    }
    await runner.settle(w, locked, op.id, s, s.status === 'succeeded' ? { pspAccountId: attempt.accountId } : {});
    return undefined;
  }

  return runner;
}

