import type { PaymentChange } from '../payments/change.ts';
import { isOpen, totalsOf, type DeclineReason } from '../payments/model.ts';
import type { OperationRecord } from '../payments/store.ts';
import { codeOfReason } from '../processors/result-codes.ts';
import {
  nextTime, type ActionRecord, type DisputeInfo, type EventName, type ExecutionRecord, type ExecutionStatus, type FailureInfo,
  type HistoryCode, type RequiredAction,
} from './model.ts';

/** What a change of its payment does to an execution: its next status, history entries and event. Pure. */
export interface ExecutionStep {
  readonly status: ExecutionStatus;
  readonly entries: readonly { readonly code: HistoryCode; readonly errors?: readonly FailureInfo[] }[];
  readonly patch: Partial<ExecutionRecord>;
  readonly event?: {
    readonly name: EventName; readonly action?: ActionRecord; readonly success?: boolean; readonly errors?: readonly FailureInfo[];
    readonly trigger?: 'api' | 'action' | 'external'; readonly dispute?: DisputeInfo;
  };
}

const shopperEnded = new Set<DeclineReason>(['authentication_failed', 'cancelled_by_shopper', 'expired']);

/** An engine decline, as an execution's failure (the acquirer's own code kept when a PSP answered). */
export function failureOf(reason: DeclineReason | undefined, resultCode: string | undefined): FailureInfo {
  const byReason: Readonly<Record<DeclineReason, FailureInfo['reason']>> = {
    soft: 'declined_soft', hard: 'declined_hard', fraud: 'declined_fraud', invalid_request: 'declined_hard',
    provider_error: 'provider_error', not_received: 'provider_error', not_supported: 'not_allowed',
    authentication_failed: 'authentication_failed', authentication_error: 'authentication_error',
    not_enrolled: 'authentication_error', not_participating: 'authentication_error',
    cancelled_by_shopper: 'cancelled_by_payer', expired: 'cancelled_by_payer', instrument_removed: 'invalid_instrument',
  };
  const r = byReason[reason ?? 'provider_error'];
  // Failures before any PSP answered carry the family's code of their reason, as acquirers' declines carry theirs;
  // the shopper's own choices (a failed or abandoned challenge) carry none.
  const code = resultCode ?? (reason && !shopperEnded.has(reason) ? codeOfReason[reason] : undefined);
  return code ? { reason: r, resultCode: code } : { reason: r };
}

/** The action an operation was made for (executions put it in the operation's context). */
export const actionOf = (o: OperationRecord): ActionRecord | undefined => o.context.executionAction as ActionRecord | undefined;

const completeAction = (e: ExecutionRecord, id: string, success: boolean): ActionRecord[] =>
  e.actions.map((a) => (a.id === id ? { ...a, success } : a));

/**
 * The execution's next step after its payment changed: the engine's state mapped to this
 * dialect's statuses, history and events. Undefined when nothing changes for the execution.
 * `challengeHref` is the hosted page's address when the change opened one.
 */
export function projectExecution(e: ExecutionRecord, change: PaymentChange, challengeHref: string | undefined, notifyPending: boolean): ExecutionStep | undefined {
  const op = change.operation;
  if (op.seq === 0) return projectAuthorization(e, change, challengeHref, notifyPending);
  if (op.kind === 'chargeback' || op.kind === 'chargeback_reversal') return disputeStep(e, op);
  const action = actionOf(op);
  if (!action) return expiryStep(e, op);
  const known = e.actions.find((a) => a.id === action.id);
  if (change.undone && known) return undoneStep(e, change, known);
  if (!known) {
    return {
      status: action.name === 'capture' ? 'captureRequested' : e.status,
      entries: [{ code: `${action.name}Requested` as HistoryCode }],
      patch: { actions: [...e.actions, action] },
      event: { name: 'executionActionRequested', action, trigger: 'api' },
    };
  }
  if (known.success !== undefined) return undefined;
  const mine = change.operations.filter((o) => actionOf(o)?.id === action.id);
  if (mine.some((o) => isOpen(o.status))) return undefined;
  const failed = mine.find((o) => o.status === 'failed');
  const success = failed === undefined;
  const t = totalsOf(change.operations);
  const closeCapture = action.name === 'capture' && mine.some((o) => o.context.final === true);
  let status: ExecutionStatus;
  if (!success) {
    status = action.name === 'capture' || action.name === 'refund' ? statusAfterFailure(e, action.name, t)
      : action.name === 'cancel' ? statusAfterCancelFailure(e, mine, t) : e.status;
  }
  else if (action.name === 'cancel') status = 'cancelled';
  // Nothing more can be captured once any capture closed it (one that ended first included) or the
  // rest was released.
  else if (action.name === 'capture') status = t.captured >= t.authorized || closeCapture || e.captureClosed || t.reversed ? 'captured' : 'partiallyCaptured';
  else status = refundedStatus(e, t);
  // A capture asked while this action was still at its PSP (a refund Adyen answered `received`) is
  // running: this action completes, and the status stays with the capture until it ends.
  // So does one that ends while another capture (asked at once, on another node) is still running.
  const otherCapture = e.actions.some((a) => a.name === 'capture' && a.id !== action.id && a.success === undefined);
  if (e.status === 'captureRequested' && (action.name !== 'capture' || otherCapture)) status = 'captureRequested';
  const failure = failed ? failureOf(failed.reason, failed.resultCode) : undefined;
  return {
    status,
    entries: [{ code: `${action.name}${success ? 'Successful' : 'Failed'}` as HistoryCode, ...(failure ? { errors: [failure] } : {}) }],
    patch: { actions: completeAction(e, action.id, success), ...(closeCapture && success ? { captureClosed: true } : {}) },
    event: { name: 'executionActionCompleted', action: known, success, ...(failure ? { errors: [failure] } : {}) },
  };
}

/**
 * The status after a capture or refund failed: what the money now says, so a failure never hides
 * money that moved (a second partial capture refused after a first went through, or one part of a
 * refund in parts refused after the other went back) nor takes away the refund that money allows.
 * The failure itself is the history entry and the webhook. `captureFailed` and `refundFailed` are
 * left for when nothing of that kind moved.
 */
function statusAfterFailure(e: ExecutionRecord, kind: 'capture' | 'refund', t: ReturnType<typeof totalsOf>): ExecutionStatus {
  if (kind === 'refund') {
    if (staysCancelled(e, t)) return 'cancelled';
    if (t.captured === 0) return 'captureFailed';
    return t.refunded > 0 ? 'partiallyRefunded' : 'refundFailed';
  }
  // Nothing captured stands (a capture undone after refunds were drawn on it): the capture failed,
  // whatever went back meanwhile.
  if (t.captured === 0) return 'captureFailed';
  if (staysCancelled(e, t)) return 'cancelled';
  if (t.refunded > 0) return t.refunded >= t.captured ? 'refunded' : 'partiallyRefunded';
  // A capture beside it closed the authorization (a final one, or the rest released).
  return t.captured >= t.authorized || e.captureClosed || t.reversed ? 'captured' : 'partiallyCaptured';
}

/**
 * A cancelled execution whose refunds still cover what stays captured stays cancelled, whatever
 * ends after the cancel (a refund asked beside it, a capture its PSP reports failed later): the
 * action ends in its history entry and its webhook.
 */
const staysCancelled = (e: ExecutionRecord, t: ReturnType<typeof totalsOf>) => e.status === 'cancelled' && t.refunded >= t.captured;

/** After a refund went through: nothing captured standing (its capture reported failed since) is still a failed capture. */
function refundedStatus(e: ExecutionRecord, t: ReturnType<typeof totalsOf>): ExecutionStatus {
  if (staysCancelled(e, t)) return 'cancelled';
  if (t.captured === 0) return 'captureFailed';
  return t.refunded >= t.captured ? 'refunded' : 'partiallyRefunded';
}

/**
 * The status after a cancel failed. A cancel of captured money refunds each capture before it voids
 * the rest; when some of that went back and another part was refused, the status says what the
 * money now is (as after a refund in parts), never the status from before the cancel, which would
 * hide money the shopper has back. When none of it went back, the payment is as it was.
 */
function statusAfterCancelFailure(e: ExecutionRecord, mine: readonly OperationRecord[], t: ReturnType<typeof totalsOf>): ExecutionStatus {
  if (!mine.some((o) => o.kind === 'refund' && o.status === 'succeeded')) return e.status;
  return t.refunded >= t.captured ? 'refunded' : 'partiallyRefunded';
}

/**
 * A capture or refund its PSP reported failed after confirming it (the card scheme rejected it):
 * the action ends failed after all, and the execution's status is what its money now says. A
 * cancel's refund undone leaves the shopper unrefunded: the execution is no longer `cancelled` but
 * `refundFailed` (or `partiallyRefunded`), so the merchant hears of it and may refund again.
 */
function undoneStep(e: ExecutionRecord, change: PaymentChange, action: ActionRecord): ExecutionStep {
  const op = change.operation;
  const t = totalsOf(change.operations);
  const failure = failureOf(op.reason, op.resultCode);
  // While a later capture runs, the status stays with it (as when an action completes meanwhile):
  // this action ends failed all the same, in its history entry and its webhook.
  const status: ExecutionStatus = e.status === 'captureRequested' ? 'captureRequested'
    : statusAfterFailure(e, action.name === 'refund' || (action.name === 'cancel' && op.kind === 'refund') ? 'refund' : 'capture', t);
  return {
    status,
    entries: [{ code: `${action.name}Failed` as HistoryCode, errors: [failure] }],
    patch: { actions: completeAction(e, action.id, false), ...(action.name === 'capture' ? { captureClosed: false } : {}) },
    event: { name: 'executionActionUpdated', action, success: false, errors: [failure], trigger: 'external' },
  };
}

/**
 * A chargeback, or its reversal, recorded on the payment: the scheme moved the merchant's money with
 * no action of theirs, so the timeline says so and an event tells a backend that follows webhooks.
 * The status stays what the merchant's actions made it (the reference has no status for a dispute).
 */
function disputeStep(e: ExecutionRecord, op: OperationRecord): ExecutionStep | undefined {
  if (op.status !== 'succeeded') return undefined;
  const name = op.kind === 'chargeback' ? 'chargebackReceived' : 'chargebackReversed';
  const pspEvent = typeof op.context.pspEvent === 'string' ? op.context.pspEvent : undefined;
  const dispute: DisputeInfo = { ...(op.pspReference ? { reference: op.pspReference } : {}), amount: op.amount, ...(pspEvent ? { pspEvent } : {}) };
  return { status: e.status, entries: [{ code: name }], patch: {}, event: { name, trigger: 'external', dispute } };
}

/**
 * An authorization that expired with money still uncaptured (the engine voided its open rest).
 * Wholly uncaptured, the execution ends `cancelled` with a `cancelSuccessful` entry, as if
 * cancelled, because nothing can be captured. Partly captured, it ends as a final capture leaves
 * it: `captured` (or its refund status, when refunds followed), its capture closed, what was
 * captured still refundable. Either way a capture asked for afterwards is refused, and the
 * merchant is told (`executionActionUpdated`, triggered outside its API) rather than left reading
 * an open rest that no longer exists.
 */
function expiryStep(e: ExecutionRecord, op: OperationRecord): ExecutionStep | undefined {
  if (op.kind !== 'void' || op.context.expired !== true || op.status !== 'succeeded') return undefined;
  // The event names the authorization that lapsed, as every action event names its action.
  const authorization = [...e.actions].reverse().find((a) => a.name === 'authorize');
  const event = { name: 'executionActionUpdated', ...(authorization ? { action: authorization } : {}), trigger: 'external' } as const;
  if (e.status === 'authorized' || e.status === 'captureFailed') {
    return { status: 'cancelled', entries: [{ code: 'cancelSuccessful' }], patch: {}, event };
  }
  if (e.captureClosed) return undefined;
  if (e.status === 'partiallyCaptured') return { status: 'captured', entries: [], patch: { captureClosed: true }, event };
  // Refunds made since keep their status; the rest that a capture could still have taken is gone.
  if (e.status === 'partiallyRefunded' || e.status === 'refunded' || e.status === 'refundFailed') return { status: e.status, entries: [], patch: { captureClosed: true }, event };
  return undefined;
}

function projectAuthorization(e: ExecutionRecord, change: PaymentChange, challengeHref: string | undefined, notifyPending: boolean): ExecutionStep | undefined {
  const op = change.operation;
  const action = [...e.actions].reverse().find((a) => a.name === 'authorize');
  if (!action || !e.authorize) return undefined;
  const authorizing = e.status === 'authorizeRequested' || e.status === 'authorizePending' || e.status === 'unknown';
  if (!authorizing) return undefined;
  switch (op.status) {
    case 'awaiting': {
      if (!change.challenge || !challengeHref) return undefined;
      // A later PSP of the cascade asks for its own challenge: the new page replaces the used one.
      const later = (e.status === 'authorizePending' || e.status === 'unknown') && e.action?.challengeId !== change.challenge.id;
      if (e.status !== 'authorizeRequested' && !later) return undefined;
      const required: RequiredAction = { kind: '3ds', challengeId: change.challenge.id, href: challengeHref };
      return {
        status: 'authorizePending', entries: e.status === 'authorizePending' ? [] : [{ code: 'authorizePending' }],
        patch: { action: required, authorize: { ...e.authorize, challengeDone: false } },
        ...(notifyPending ? { event: { name: 'executionActionPending' as const, action } } : {}),
      };
    }
    case 'pending':
      // The shopper finished the challenge: the cascade runs on without leaving this status, so a
      // long-poll on ["authorizePending"] resolves only at the outcome.
      if (e.status === 'authorizePending' && e.action) {
        return { status: e.status, entries: [], patch: { action: undefined, authorize: { ...e.authorize, challengeDone: true } } };
      }
      return undefined;
    case 'unknown':
      if (e.status === 'unknown') return undefined;
      return { status: 'unknown', entries: [{ code: 'authorizeUnknown' }], patch: { action: undefined }, event: { name: 'executionActionUpdated', action } };
    case 'succeeded':
      return {
        status: 'authorized', entries: [{ code: 'authorizeSuccessful' }],
        patch: { action: undefined, actions: completeAction(e, action.id, true) },
        event: { name: 'executionActionCompleted', action, success: true },
      };
    case 'failed': {
      const errors = [failureOf(op.reason, op.resultCode)];
      const challengeEnded = op.reason === 'authentication_failed' || op.reason === 'cancelled_by_shopper' || op.reason === 'expired';
      return {
        status: 'authorizeFailed', entries: [{ code: 'authorizeFailed', errors }],
        patch: { action: undefined, actions: completeAction(e, action.id, false), ...(challengeEnded ? { authorize: { ...e.authorize, challengeDone: true } } : {}) },
        event: { name: 'executionActionCompleted', action, success: false, errors },
      };
    }
  }
}

/** Applies a step: history entries with strictly increasing times, status, version. */
export function applyStep(e: ExecutionRecord, step: ExecutionStep, now: number): ExecutionRecord {
  const history = [...e.history];
  for (const entry of step.entries) history.push({ code: entry.code, time: nextTime(history, now), ...(entry.errors ? { errors: entry.errors } : {}) });
  // A step that adds no entry (an expiry's release of a captured execution's rest, a later PSP's
  // challenge) still happened now: its event carries this time, after every event before it.
  const at = step.entries.length > 0 ? history.at(-1)!.time : Math.max(now, e.updatedAt + 1);
  return { ...e, ...step.patch, status: step.status, history, version: e.version + 1, updatedAt: at };
}
