import type { Money } from '../money/money.ts';

/** An execution's current status (decision 1). */
export const executionStatuses = [
  'created', 'authorizeRequested', 'authorizePending', 'authorized', 'authorizeFailed',
  'captureRequested', 'captured', 'partiallyCaptured', 'captureFailed', 'cancelled',
  'refunded', 'partiallyRefunded', 'refundFailed', 'unknown',
] as const;
export type ExecutionStatus = (typeof executionStatuses)[number];
export const isExecutionStatus = (s: unknown): s is ExecutionStatus => (executionStatuses as readonly unknown[]).includes(s);

/**
 * The execution state machine: the statuses each status may move to, declared once. Only the
 * executions service changes status, in the transaction that writes the outbox event.
 */
export const executionTransitions: Readonly<Record<ExecutionStatus, readonly ExecutionStatus[]>> = {
  created: ['authorizeRequested'],
  // The cascade runs; 3-D Secure may pause it; a lost PSP answer leaves it unknown.
  authorizeRequested: ['authorizePending', 'authorized', 'authorizeFailed', 'unknown'],
  // The shopper's challenge; after it the cascade runs without leaving this status, so a long-poll
  // on ["authorizePending"] resolves only at the outcome.
  authorizePending: ['authorized', 'authorizeFailed', 'unknown'],
  // Reconciliation settles it (and a settled soft decline lets the cascade go on, to a PSP that may
  // ask for a challenge of its own).
  unknown: ['authorized', 'authorizeFailed', 'authorizePending'],
  authorizeFailed: [],
  authorized: ['captureRequested', 'cancelled'],
  // A capture of the rest asked after refunds, refused: back to what the refunds made it.
  captureRequested: ['captured', 'partiallyCaptured', 'captureFailed', 'partiallyRefunded', 'refunded'],
  // A capture (or refund) its PSP confirmed can still be reported failed later, when the card
  // scheme rejects it: the execution moves back to what its money then says.
  // `captured` without a capture: the expiry job released the rest a capture could have taken.
  partiallyCaptured: ['captureRequested', 'captured', 'cancelled', 'partiallyRefunded', 'refunded', 'refundFailed', 'captureFailed'],
  // A capture that ends after another one failed (two asked at once).
  captureFailed: ['captureRequested', 'cancelled', 'captured', 'partiallyCaptured'],
  captured: ['cancelled', 'partiallyRefunded', 'refunded', 'refundFailed', 'partiallyCaptured', 'captureFailed'],
  // A refund after a capture that was not final leaves the authorization's rest open: it may still
  // be captured (or released by a cancel).
  // Refunds drawn on a capture do not stop its PSP from reporting it failed later (the scheme
  // rejected it): the execution then says what its money says, refunds left uncovered.
  partiallyRefunded: ['partiallyRefunded', 'refunded', 'refundFailed', 'cancelled', 'captureRequested', 'partiallyCaptured', 'captureFailed'],
  refundFailed: ['partiallyRefunded', 'refunded', 'refundFailed', 'cancelled', 'captureRequested', 'partiallyCaptured', 'captureFailed'],
  // When the PSP reports the refund a cancel made failed after all (the shopper was not refunded),
  // or the capture that refund gave back failed.
  cancelled: ['refundFailed', 'partiallyRefunded', 'partiallyCaptured', 'captureFailed'],
  refunded: ['partiallyRefunded', 'refundFailed', 'captureRequested', 'cancelled', 'partiallyCaptured', 'captureFailed'],
};

export function canMove(from: ExecutionStatus, to: ExecutionStatus): boolean {
  return executionTransitions[from].includes(to);
}

/** Codes of the status timeline (`statusHistory`), the reference's event codes. */
export const historyCodes = [
  'created', 'authorizeRequested', 'authorizePending', 'authorizeSuccessful', 'authorizeFailed', 'authorizeUnknown',
  'captureRequested', 'captureSuccessful', 'captureFailed', 'cancelRequested', 'cancelSuccessful', 'cancelFailed',
  'refundRequested', 'refundSuccessful', 'refundFailed',
  // The gateway's own: the scheme took money back from a capture (a chargeback), or gave it back.
  'chargebackReceived', 'chargebackReversed',
] as const;
export type HistoryCode = (typeof historyCodes)[number];

/** A dispute's money as a chargeback event tells it: the PSP's reference of the dispute and what moved. */
export interface DisputeInfo {
  /** The PSP's reference of the dispute (absent when it gave none). */
  readonly reference?: string;
  readonly amount: Money;
  /** The PSP's name of the event (Adyen's CHARGEBACK, Stripe's charge.dispute.funds_withdrawn…). */
  readonly pspEvent?: string;
}

/** Why an action failed, dialect-neutral: the dialect renders it in its own error shape. */
export interface FailureInfo {
  /** What went wrong, in the engine's terms. */
  readonly reason:
    | 'declined_soft' | 'declined_hard' | 'declined_fraud' | 'provider_error' | 'authentication_failed' | 'cancelled_by_payer'
    | 'authentication_error' | 'not_allowed' | 'invalid_instrument';
  /** The acquirer's result code, when a PSP answered. */
  readonly resultCode?: string;
}

export interface HistoryEntry {
  readonly code: HistoryCode;
  /** Epoch ms; strictly increasing along the history. */
  readonly time: number;
  readonly errors?: readonly FailureInfo[];
}

/** The next history time: never before the previous entry, and at least 1 ms after it (clients compare times). */
export function nextTime(history: readonly HistoryEntry[], now: number): number {
  const last = history.at(-1)?.time ?? -Infinity;
  return Math.max(now, last + 1);
}

export const actionNames = ['authorize', 'capture', 'cancel', 'refund'] as const;
export type ActionName = (typeof actionNames)[number];

/** An action request's own `meta`: a JSON object. */
export type ActionMeta = Readonly<Record<string, unknown>>;

export interface ActionRecord {
  readonly id: string;
  readonly name: ActionName;
  readonly requestedAt: number;
  readonly amount?: Money;
  readonly reason?: string;
  readonly reasonDescription?: string;
  /**
   * The request's own `meta`, kept as sent (card-number runs masked, as all merchant data): the
   * action's webhooks carry it as `actionMeta`, apart from the execution's `meta`.
   */
  readonly meta?: ActionMeta;
  /** Set once the action completed. */
  readonly success?: boolean;
}

/** What the shopper must do before the authorization can go on. */
export interface RequiredAction {
  readonly kind: '3ds';
  readonly challengeId: string;
  readonly href: string;
}

export interface ReturnInfo {
  readonly success: string;
  readonly cancel?: string;
  readonly error?: string;
  readonly pending?: string;
}

/** The authorize request as accepted, kept for the cascade (which may resume on another node). */
export interface AuthorizeRequest {
  readonly amount: Money;
  readonly returnInfo: ReturnInfo;
  readonly paymentMethodCode: string;
  readonly instrumentId: string;
  readonly cardId: string;
  /** The gateway's address as the merchant reached it: the base of the hosted pages' URLs. */
  readonly baseUrl: string;
  /** Set after a completed 3-D Secure challenge: passed to every PSP the cascade tries. */
  readonly authentication?: { readonly status: string; readonly eci: string | undefined };
  /** The shopper's challenge ended (completed, failed or cancelled): there is no second one. */
  readonly challengeDone?: boolean;
  /** The workflow announces the 3-D Secure pause (`executionActionPending`), as it said when authorize was asked. */
  readonly notifyPending?: boolean;
  /**
   * The instrument was a transient one this authorization kept (`storeInstrument: true`): a payment
   * that ends before any issuer saw the card (3-D Secure failed, cancelled, never finished or erred,
   * no PSP took it), or that an issuer refused for good (hard or fraud), takes it back unless another
   * payment has charged it, rather than leave the holder a saved card they never paid with, or one
   * that would only be declined again.
   */
  readonly keptInstrument?: boolean;
  /**
   * The instrument was saved before this authorization (the secure fields' tokenize with
   * `storeInstrument: true`, then the payment): taken back, unless another payment has charged it,
   * only when its cardholder did not authenticate or an issuer refused it for good (hard or fraud).
   * A PSP's error, or an issuer's soft decline, on a card the merchant stored for a subscription
   * leaves the card.
   */
  readonly savedInstrument?: boolean;
}

export interface ExecutionRecord {
  readonly id: string;
  readonly merchantId: string;
  readonly workflowCode: string;
  readonly merchantReference: string | undefined;
  readonly holderReference: string | undefined;
  readonly workspaceId: string;
  readonly meta: Readonly<Record<string, unknown>>;
  readonly status: ExecutionStatus;
  readonly history: readonly HistoryEntry[];
  readonly authorize: AuthorizeRequest | undefined;
  /** The approved attempt's payment, once authorized. */
  readonly paymentId: string | undefined;
  readonly action: RequiredAction | undefined;
  readonly actions: readonly ActionRecord[];
  /** A final capture was made: no further capture. */
  readonly captureClosed: boolean;
  readonly version: number;
  readonly createdAt: number;
  readonly updatedAt: number;
}

/**
 * Statuses a back-office action may be requested from (the engine then checks the amounts). A
 * capture that was not final leaves the authorization's rest open through the refunds that follow
 * it (reference: further captures up to the authorized amount; a cancel voids what is not captured),
 * so capture and cancel stay open from the refund statuses too, as long as something is left.
 */
export const backOfficeFrom: Readonly<Record<'capture' | 'refund' | 'cancel', readonly ExecutionStatus[]>> = {
  capture: ['authorized', 'partiallyCaptured', 'captureFailed', 'partiallyRefunded', 'refunded', 'refundFailed'],
  // With a capture in progress too (the reference allows it): the engine refunds only what is captured already.
  refund: ['captured', 'partiallyCaptured', 'partiallyRefunded', 'refundFailed', 'captureRequested'],
  cancel: ['authorized', 'partiallyCaptured', 'captureFailed', 'captured', 'partiallyRefunded', 'refundFailed', 'refunded'],
};


/** Webhook events of the catalogue (reference §3.3) that status changes produce. */
export const eventNames = [
  'executionCreated', 'executionActionRequested', 'executionActionPending', 'executionActionCompleted', 'executionActionUpdated',
  // The gateway's own, told when a PSP reports a dispute's money on the payment.
  'chargebackReceived', 'chargebackReversed',
] as const;
export type EventName = (typeof eventNames)[number];

/**
 * RFC 7396 JSON merge patch: objects merge key by key, `null` removes a key, anything else replaces.
 * Keys that could reach an object's prototype are dropped.
 */
export function mergePatch(target: unknown, patch: unknown): unknown {
  if (typeof patch !== 'object' || patch === null || Array.isArray(patch)) return patch;
  const base: Record<string, unknown> = typeof target === 'object' && target !== null && !Array.isArray(target) ? { ...(target as Record<string, unknown>) } : {};
  for (const [k, v] of Object.entries(patch as Record<string, unknown>)) {
    if (k === '__proto__' || k === 'constructor' || k === 'prototype') continue;
    if (v === null) delete base[k];
    else base[k] = mergePatch(base[k], v);
  }
  return base;
}

/** Where the shopper's browser goes next: on to the challenge, back to the merchant, or nowhere yet. */
export type ShopperStep =
  | { readonly kind: 'running' }
  | { readonly kind: 'challenge'; readonly href: string }
  | { readonly kind: 'return'; readonly url: string };

/**
 * The shopper's next step for an authorized-or-authorizing execution (undefined before authorize):
 * the hosted challenge while it is awaited; `returnInfo.success` once authorized (whatever the
 * back office did since); `cancel` (else `success`) when the payer cancelled the challenge, `error`
 * (else `success`) on any other failure; `pending` (else `success`) while the outcome is unknown.
 * URLs come only from the merchant's authenticated authorize call.
 */
export function shopperStepOf(e: ExecutionRecord): ShopperStep | undefined {
  const info = e.authorize?.returnInfo;
  if (!info) return undefined;
  switch (e.status) {
    case 'created':
      return undefined;
    case 'authorizeRequested':
      return { kind: 'running' };
    case 'authorizePending':
      if (e.action && !e.authorize!.challengeDone) return { kind: 'challenge', href: e.action.href };
      return { kind: 'running' };
    case 'unknown':
      return { kind: 'return', url: info.pending ?? info.success };
    case 'authorizeFailed': {
      const cancelled = e.history.at(-1)?.errors?.some((x) => x.reason === 'cancelled_by_payer');
      return { kind: 'return', url: (cancelled ? info.cancel : info.error) ?? info.success };
    }
    default:
      return { kind: 'return', url: info.success };
  }
}

/**
 * The most an execution's `meta` may hold, as JSON bytes: what one request body may carry (the
 * dialect's 64 KiB limit). Patches merge into it, so the sum is held to it as well.
 */
export const metaLimitBytes = 64 * 1024;
/** An action's own `meta`: kept in the execution's record and sent with each of its webhooks, so smaller. */
export const actionMetaLimitBytes = 16 * 1024;
