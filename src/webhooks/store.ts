import type { Tx } from '../storage/unit-of-work.ts';
import type { DeliveryStatus, EndpointStatus, WebhookDialect } from './model.ts';
import type { OutboxEvent } from './outbox.ts';

export interface EndpointRecord {
  readonly id: string;
  readonly merchantId: string;
  readonly dialect: WebhookDialect;
  readonly entityId: string | undefined;
  readonly url: string;
  readonly types: readonly string[];
  /** Sealed; only the service opens it. */
  readonly sealedSecret: string;
  readonly sealedPreviousSecret: string | undefined;
  readonly previousSecretUntil: number | undefined;
  readonly status: EndpointStatus;
  readonly failingSince: number | undefined;
  readonly createdAt: number;
  readonly updatedAt: number;
}

/** What a redelivery did: deliveries put back on a fresh ladder, and those of them whose endpoint is disabled (they wait for `enable`). */
export interface Redelivered {
  readonly redelivered: number;
  readonly waitingForEnable: number;
}

export interface DeliveryRecord {
  readonly id: string;
  readonly eventId: string;
  readonly endpointId: string;
  readonly merchantId: string;
  readonly eventType: string;
  readonly body: string;
  readonly status: DeliveryStatus;
  readonly attempts: number;
  readonly retryIndex: number;
  readonly ladderStart: number;
  readonly nextAttemptAt: number;
  readonly lastStatus: number | undefined;
  readonly lastError: string | undefined;
  readonly deliveredAt: number | undefined;
  readonly createdAt: number;
  /** How many times an operator asked for it again (0 for a new delivery). */
  readonly redeliveries?: number;
  /** What the event is about; deliveries to one endpoint with the same key go out in `seq` order, one at a time. */
  readonly orderingKey?: string | undefined;
  readonly seq?: number | undefined;
  /** The trace of the request that caused the event: each attempt sends a child of it. */
  readonly traceparent?: string | undefined;
}

export interface AttemptRecord {
  readonly id: string;
  readonly deliveryId: string;
  readonly attemptedAt: number;
  readonly httpStatus: number | undefined;
  readonly latencyMs: number;
  readonly error: string | undefined;
  readonly excerpt: string | undefined;
}

/** What one attempt changes, written in one transaction with the attempt row. */
export interface AttemptOutcome {
  readonly attempt: AttemptRecord;
  /**
   * The worker that claimed the delivery and sent this attempt. Only the lease's holder records: a
   * worker that stalled past its lease would otherwise release (or settle) the delivery under the
   * node that claimed it since and is sending it now.
   */
  readonly owner: string;
  /** The delivery's redeliveries when it was claimed: more by the time this is recorded, and the latest one's ladder stands. */
  readonly redeliveries: number;
  readonly status: DeliveryStatus;
  readonly retryIndex: number;
  readonly nextAttemptAt: number;
  /** Where the retry ladder now starts, when this attempt started it (a delivery's first attempt, after it waited its turn). */
  readonly ladderStart?: number;
  /**
   * What this attempt tells of the endpoint. The streak and the status are worked out from what the
   * database holds when the attempt is recorded, never from the copy read when the delivery was
   * claimed: meanwhile another node's success may have ended the streak, or an operator disabled
   * (or enabled) the endpoint.
   */
  readonly endpoint: {
    readonly id: string;
    /** Whether the endpoint answered with a success (ends its failure streak) or failed (starts one at `attempt.attemptedAt` unless one runs). */
    readonly answered: boolean;
    /** A failure disables the endpoint once the streak it continues is this old at `at`. */
    readonly disableAfterMs: number;
    readonly at: number;
  };
}

/** What recording one attempt did. */
export interface AttemptRecorded {
  /** False when the delivery was no longer pending or its lease had passed to another worker: nothing was written. */
  readonly recorded: boolean;
  /** This attempt is what disabled the endpoint. */
  readonly disabledEndpoint: boolean;
}

export interface DeliveryFilter {
  readonly merchantId?: string;
  readonly endpointId?: string;
  readonly eventId?: string;
  readonly status?: DeliveryStatus;
  readonly since?: number;
  /** Only deliveries older than this one (newest first: the last of the previous page). */
  readonly before?: { readonly createdAt: number; readonly id: string };
  readonly limit?: number;
}

/** How a claim shares the worker's slots between endpoints. */
export interface ClaimShare {
  /** Attempts this node has in flight, by endpoint. */
  readonly busy: ReadonlyMap<string, number>;
  /** How many attempts one endpoint may have in flight while others wait (told whether it is failing, as the database says). */
  shareOf(failing: boolean): number;
  /** Told when due deliveries were left for an endpoint at its share: a claim after its attempts end finds them. */
  heldBack?(): void;
}

export interface WebhookStore {
  /** Adds an endpoint and its first deliveries (the /v1 activation message) together. */
  /** `join` writes in the same unit of work (a form's one-time key answered with the change). */
  insertEndpoint(e: EndpointRecord, deliveries: readonly DeliveryRecord[], join?: (tx: Tx) => Promise<void>): Promise<void>;
  /** Queues one more delivery (the activation message sent again). */
  addDelivery(d: DeliveryRecord): Promise<void>;
  endpoint(id: string): Promise<EndpointRecord | undefined>;
  endpoints(filter: { merchantId?: string }): Promise<EndpointRecord[]>;
  /** Replaces the secrets (rotation) or the status (disable/enable). */
  /**
   * Whether the endpoint was changed: with `ifSealedSecret`, only while its secret is still that one
   * (a rotation builds on the secret it read, and another rotation may have replaced it since).
   */
  updateEndpoint(id: string, patch: Partial<Pick<EndpointRecord, 'sealedSecret' | 'sealedPreviousSecret' | 'previousSecretUntil' | 'status' | 'failingSince'>>, at: number, ifSealedSecret?: string, join?: (tx: Tx) => Promise<void>): Promise<boolean>;
  /** Outbox events not yet fanned out, oldest first (read without locking; `fanOut` claims). */
  undispatched(limit: number): Promise<OutboxEvent[]>;
  /** When the first of them (in the order `undispatched` reads them) was written, if any waits (the outbox-lag gauge). */
  oldestUndispatchedAt(): Promise<number | undefined>;
  /**
   * Claims the events still undispatched (PostgreSQL: FOR UPDATE SKIP LOCKED, so two nodes never
   * fan out the same event), inserts their deliveries and marks them dispatched, in one transaction.
   * Returns the ids it claimed.
   */
  fanOut(deliveriesByEvent: ReadonlyMap<string, readonly DeliveryRecord[]>, at: number): Promise<string[]>;
  /**
   * Leases up to `limit` due deliveries of active endpoints until `leaseUntil` (PostgreSQL: FOR
   * UPDATE SKIP LOCKED). An expired lease (a worker that died mid-send) makes a delivery due again.
   * With `share`, each endpoint first gets what its share leaves beside its attempts in flight; what
   * is left goes to endpoints that answer (a failing one never gets more than its share), so one
   * endpoint cannot take every slot while others wait, and may when nobody does.
   */
  claimDue(now: number, leaseUntil: number, owner: string, limit: number, share?: ClaimShare): Promise<DeliveryRecord[]>;
  /**
   * Records an attempt and its consequences; ignored (returns false, writes nothing) when the
   * delivery is no longer pending or `outcome.owner` no longer holds its lease.
   */
  recordAttempt(deliveryId: string, outcome: AttemptOutcome): Promise<boolean>;
  /** The same for a batch of attempts, in order, in one transaction (one commit, one fsync, for the whole batch). */
  recordAttempts(outcomes: readonly { deliveryId: string; outcome: AttemptOutcome }[]): Promise<AttemptRecorded[]>;
  deliveries(filter: DeliveryFilter): Promise<DeliveryRecord[]>;
  /**
   * Deletes, in one transaction, up to `limit` finished deliveries (delivered, or failed for good)
   * last due before `before`, with their attempts, then up to `limit` events fanned out before
   * `before` that no delivery names any more. A pending delivery, and its event, is never deleted.
   */
  purgeFinished(before: number, limit: number): Promise<{ deliveries: number; events: number }>;
  attemptsOf(deliveryId: string): Promise<AttemptRecord[]>;
  /** Makes deliveries due now on a fresh ladder; returns how many, and how many of them wait for a disabled endpoint to be enabled. */
  redeliver(filter: { deliveryIds?: readonly string[]; failedSince?: number; endpointId?: string; merchantId?: string }, now: number): Promise<Redelivered>;
}
