import { formatMajorUnits, type Money } from '../../money/money.ts';
import { networkOf } from '../../vault/networks.ts';
import type { Instrument } from '../../vault/instruments.ts';
import type { ExecutionView } from '../../executions/service.ts';
import { backOfficeFrom, type ActionRecord, type DisputeInfo, type EventName, type ExecutionRecord, type FailureInfo } from '../../executions/model.ts';
import { failureItem } from './errors.ts';
import { codeOfReason } from '../../processors/result-codes.ts';

/** Money on this dialect's wire: `{value: "12.50", currency}`. */
export const wireMoney = (m: Money) => ({ value: formatMajorUnits(m), currency: m.currency });

const iso = (ms: number) => new Date(ms).toISOString();


export function renderInstrument(i: Instrument, securityCodeHeld?: boolean) {
  return {
    ...(securityCodeHeld === undefined ? {} : { securityCodeHeld }),
    id: i.id, createdAt: iso(i.createdAt), updatedAt: iso(i.updatedAt), holderReference: i.holderReference,
    paymentMethod: 'card', status: i.status, fingerprint: i.fingerprint, futureUsage: i.futureUsage ?? null,
    data: {
      network: networkOf[i.card.brand], bin: i.card.bin, suffix: i.card.last4,
      expiryMonth: i.card.expiryMonth, expiryYear: i.card.expiryYear, holderName: i.card.holder ?? null,
    },
  };
}

export const executionPath = (e: { workflowCode: string; id: string }) => `/merchant/workflows/${e.workflowCode}/executions/${e.id}`;

const errorsOf = (e: ExecutionRecord, i: number, errors: readonly FailureInfo[] | undefined) =>
  errors?.map((f, j) => failureItem(f, `${e.id}:${i}:${j}`));

/** The execution object (reference §1.4, decision 1): `status` a string, the timeline in `statusHistory`. */
export function renderExecution(v: ExecutionView, baseUrl: string) {
  const e = v.execution;
  const self = baseUrl + executionPath(e);
  const links: Record<string, unknown> = { self };
  const allowed = (name: string) => ({ method: 'POST', href: `${self}/${name}` });
  if (e.status === 'created') links.authorize = allowed('authorize');
  // The actions the execution's status allows (the same table the use cases check).
  // A capture is offered only while part of the authorization is open (not captured, not released
  // by a final capture or the expiry job); so is a cancel once everything captured was refunded.
  const restOpen = v.totals === undefined || (!v.totals.reversed && v.totals.authorized > v.totals.captured);
  if (e.paymentId && backOfficeFrom.capture.includes(e.status) && !e.captureClosed && restOpen) links.capture = allowed('capture');
  // A refund or a cancel is offered only when the engine would take it (nothing left to refund, a
  // full refund still at the PSP, a chargeback standing: no link that would then be refused).
  const cancellable = v.totals === undefined || v.totals.cancellable;
  if (e.paymentId && backOfficeFrom.cancel.includes(e.status) && cancellable && (e.status !== 'refunded' || (restOpen && !e.captureClosed))) links.cancel = allowed('cancel');
  if (e.paymentId && backOfficeFrom.refund.includes(e.status) && (v.totals === undefined || v.totals.refundable)) links.refund = allowed('refund');
  const challenge = challengeOf(e);
  if (challenge) { links.redirect = challenge.href; links['3ds'] = challenge.href; }
  const auth = e.authorize;
  return {
    id: e.id,
    merchantReference: e.merchantReference ?? null,
    holderReference: e.holderReference ?? null,
    // The holder's id at the gateway: the merchant's holder reference names it (as tokenize answers).
    holderId: e.holderReference ?? null,
    workspaceId: e.workspaceId,
    workflow: { code: e.workflowCode, version: 1 },
    createdAt: iso(e.createdAt),
    meta: e.meta,
    status: e.status,
    statusHistory: e.history.map((h, i) => ({ code: h.code, time: iso(h.time), ...(h.errors ? { errors: errorsOf(e, i, h.errors) } : {}) })),
    ...(auth ? { amount: wireMoney(auth.amount) } : {}),
    ...(v.totals && auth ? {
      authorizedAmount: wireMoney({ amount: v.totals.authorized, currency: auth.amount.currency }),
      capturedAmount: wireMoney({ amount: v.totals.captured, currency: auth.amount.currency }),
      refundedAmount: wireMoney({ amount: v.totals.refunded, currency: auth.amount.currency }),
    } : {}),
    ...requiredActionOf(challenge),
    ...(auth ? {
      paymentComposition: [{
        paymentMethodCode: auth.paymentMethodCode, integrationType: 'api', amount: wireMoney(auth.amount),
        paymentInstrumentId: auth.instrumentId, paymentId: e.paymentId ?? null,
        // Every attempt of the cascade, in order, with the PSP account that answered.
        attempts: v.attempts.map((a) => ({
          id: a.id, pspAccount: a.accountName, status: a.status,
          resultCode: a.resultCode ?? (a.reason ? codeOfReason[a.reason] : null), authenticated: a.authenticated, createdAt: iso(a.createdAt),
        })),
      }],
    } : {}),
    links,
  };
}

/** The shopper's challenge an execution waits for, if it waits for one. */
const challengeOf = (e: ExecutionRecord) => (e.status === 'authorizePending' && e.action ? e.action : undefined);

/** Where the shopper must go next, as the polled execution and its webhooks both say. */
const requiredActionOf = (challenge: ExecutionRecord['action'] | undefined) => (challenge ? {
  actionRequired: '3ds',
  requiredAction: { method: 'GET', href: challenge.href, type: 'redirect', subType: '3ds' },
} : {});

/** The webhook body of an execution event (decision 7 envelope, reference §3.4 details). */
export function renderEvent(e: ExecutionRecord, ev: { name: EventName; action?: ActionRecord; success?: boolean; errors?: readonly FailureInfo[]; trigger?: 'api' | 'action' | 'external'; dispute?: DisputeInfo }) {
  // When the change happened: its history entry's time, or (a change that adds none) the time it was applied.
  const at = e.updatedAt;
  return {
    event: ev.name,
    time: iso(at),
    workspaceId: e.workspaceId,
    eventTrigger: ev.trigger ?? 'action',
    details: {
      ...(ev.action ? {
        action: ev.action.name, actionId: ev.action.id,
        ...(ev.action.amount ? { actionAmount: wireMoney(ev.action.amount) } : {}),
        // The action request's own meta, apart from the execution's (reference §3.4).
        ...(ev.action.meta ? { actionMeta: ev.action.meta } : {}),
      } : {}),
      ...(ev.success !== undefined ? { success: ev.success } : {}),
      ...(ev.errors ? { errors: errorsOf(e, e.history.length - 1, ev.errors) } : {}),
      ...(ev.dispute ? { dispute: { ...(ev.dispute.reference ? { reference: ev.dispute.reference } : {}), amount: wireMoney(ev.dispute.amount), ...(ev.dispute.pspEvent ? { pspEvent: ev.dispute.pspEvent } : {}) } } : {}),
      execution: {
        id: e.id, merchantReference: e.merchantReference ?? null, holderReference: e.holderReference ?? null, holderId: e.holderReference ?? null,
        workflowCode: e.workflowCode, status: e.status,
      },
      // A backend that follows webhooks rather than polling finds the challenge here.
      ...requiredActionOf(challengeOf(e)),
      ...(e.authorize ? { amount: wireMoney(e.authorize.amount) } : {}),
      ...(e.authorize ? { paymentComposition: [{ paymentMethodCode: e.authorize.paymentMethodCode, integrationType: 'api', amount: wireMoney(e.authorize.amount), paymentId: e.paymentId ?? null }] } : {}),
    },
  };
}
