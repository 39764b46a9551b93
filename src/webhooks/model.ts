/**
 * Pure webhook rules: which endpoints an outbox event goes to, what it is called there, and when
 * a failed delivery is tried again. No I/O, no clock reads.
 */

export const webhookDialects = ['opp', 'executions'] as const;
export type WebhookDialect = (typeof webhookDialects)[number];
export const isWebhookDialect = (v: unknown): v is WebhookDialect => webhookDialects.includes(v as WebhookDialect);

/** /v1 notification types a listener may choose (reference §8.2). */
export const oppNotificationTypes = ['PAYMENT', 'REGISTRATION', 'SCHEDULE', 'RISK'] as const;
export type OppNotificationType = (typeof oppNotificationTypes)[number];

/** The executions catalogue (reference §3.3). */
export const executionEvents = [
  'executionCreated', 'executionActionRequested', 'ruleEngineExecuted', 'executionActionCompleted',
  'executionActionUpdated', 'executionActionPending', 'networkOffersEnrollmentCompleted',
  // The gateway's own: a settlement report disagreed with the books, and an operator resolved it;
  // a chargeback took money back from a capture, and its reversal gave it back.
  'settlementDiscrepancyOpened', 'settlementDiscrepancyResolved', 'chargebackReceived', 'chargebackReversed',
] as const;
export type ExecutionEvent = (typeof executionEvents)[number];

export const endpointStatuses = ['active', 'disabled'] as const;
export type EndpointStatus = (typeof endpointStatuses)[number];

/** pending: will be tried (again); delivered: a 2xx came back; failed: the ladder ran out. */
export const deliveryStatuses = ['pending', 'delivered', 'failed'] as const;
export type DeliveryStatus = (typeof deliveryStatuses)[number];
export const isDeliveryStatus = (v: unknown): v is DeliveryStatus => deliveryStatuses.includes(v as DeliveryStatus);

/** Where an outbox event goes: which dialect's endpoints, narrowed to an entity for /v1, under which type name. */
export interface Route {
  readonly dialect: WebhookDialect;
  /** /v1 only: the listener's entity. */
  readonly entityId: string | undefined;
  /** The name an endpoint's `types` filter matches: `PAYMENT`, ... or an executions event name. */
  readonly notificationType: string;
}

/** The outbox type convention (documented in docs/architecture.md). Unknown types go nowhere. */
export function routeOf(type: string, payload: Readonly<Record<string, unknown>>): Route | undefined {
  const [prefix, name] = splitType(type);
  const entityId = typeof payload.entityId === 'string' ? payload.entityId : undefined;
  if (prefix === 'operation' && entityId) return { dialect: 'opp', entityId, notificationType: 'PAYMENT' };
  if (prefix === 'registration' && entityId && ['created', 'updated', 'deleted'].includes(name)) {
    return { dialect: 'opp', entityId, notificationType: 'REGISTRATION' };
  }
  if (prefix === 'execution' && executionEvents.includes(name as ExecutionEvent)) {
    return { dialect: 'executions', entityId: undefined, notificationType: name };
  }
  return undefined;
}

/**
 * What an event is about, for ordering: events of one payment (its operations, in /v1), of one
 * execution or of one registration reach an endpoint in the order they were written.
 */
export function orderingKeyOf(type: string, subjectId: string, payload: Readonly<Record<string, unknown>>): string {
  const [prefix] = splitType(type);
  if (prefix === 'operation' && typeof payload.paymentId === 'string') return `payment:${payload.paymentId}`;
  return `${prefix}:${subjectId}`;
}

function splitType(type: string): [string, string] {
  const dot = type.indexOf('.');
  return dot < 0 ? [type, ''] : [type.slice(0, dot), type.slice(dot + 1)];
}

export interface EndpointScope {
  readonly dialect: WebhookDialect;
  readonly entityId: string | undefined;
  readonly types: readonly string[];
  readonly status: EndpointStatus;
  readonly createdAt: number;
}

/**
 * Whether an endpoint receives an event: same dialect, same entity for /v1, a chosen type (none
 * chosen = all), and an event made after the endpoint was added (new endpoints do not get history).
 * Disabled endpoints still get their deliveries queued, so re-enabling one loses nothing.
 */
export function endpointWants(e: EndpointScope, route: Route, eventCreatedAt: number): boolean {
  if (e.dialect !== route.dialect) return false;
  if (route.dialect === 'opp' && e.entityId !== route.entityId) return false;
  if (e.types.length > 0 && !e.types.includes(route.notificationType)) return false;
  return eventCreatedAt >= e.createdAt;
}

const minute = 60_000;
const hour = 60 * minute;
const day = 24 * hour;

/**
 * Retry ladders. /v1 (reference §8.3): 1, 2, 4, 8, 15, 30 min, 1 h, then daily, never beyond 30
 * days. Executions: backoff from 30 s to daily, ending a little over four days after the first try
 * (the contract asks for at least three days; the platform's own ~6 h is too short for an outage).
 */
export const retryLadders: Record<WebhookDialect, { readonly steps: readonly number[]; readonly repeat: number | undefined; readonly maxAge: number }> = {
  opp: { steps: [minute, 2 * minute, 4 * minute, 8 * minute, 15 * minute, 30 * minute, hour], repeat: day, maxAge: 30 * day },
  executions: {
    steps: [30_000, minute, 5 * minute, 15 * minute, 30 * minute, hour, 2 * hour, 4 * hour, 8 * hour, 12 * hour, day, day, day],
    repeat: undefined, maxAge: 5 * day,
  },
};

/**
 * When to try again after the `retryIndex`-th failure (0 = the first attempt failed), counted from
 * the previous attempt; undefined when the ladder has run out (the delivery then fails for good).
 */
export function nextAttemptAt(dialect: WebhookDialect, retryIndex: number, ladderStart: number, failedAt: number): number | undefined {
  const ladder = retryLadders[dialect];
  const wait = ladder.steps[retryIndex] ?? ladder.repeat;
  if (wait === undefined) return undefined;
  const at = failedAt + wait;
  return at - ladderStart > ladder.maxAge ? undefined : at;
}

/** The longest wait between two tries of one delivery, in any ladder. */
export const longestRetryWaitMs = Math.max(...Object.values(retryLadders).flatMap((l) => [...l.steps, l.repeat ?? 0]));

/** An endpoint failing without a single success for this long is disabled. */
export function shouldDisable(failingSince: number | undefined, now: number, disableAfterMs: number): boolean {
  return failingSince !== undefined && now - failingSince >= disableAfterMs;
}

export const isSuccess = (status: number | undefined): boolean => status !== undefined && status >= 200 && status < 300;
