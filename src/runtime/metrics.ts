import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/**
 * What the gateway exposes at `/metrics` (docs/metrics.md). Labels are bounded sets only — route
 * patterns, status codes, dialects, operation kinds, outcomes, connector and PSP account ids —
 * never a payment id, a raw URL or anything a merchant or shopper typed, so cardinality stays fixed
 * and no card data can reach a scrape.
 *
 * One registry per app instance (not prom-client's global one), so several apps in one process
 * (the tests) each count their own.
 */
export interface Metrics {
  readonly registry: Registry;
  /** One HTTP answer: its route pattern (`unmatched` when no route matched), method and status. */
  httpRequest(route: string, method: string, status: number, seconds: number): void;
  /** An operation reached an outcome, counted once its unit of work committed. */
  paymentOutcome(labels: { channel: string; kind: string; status: string; reason: string; account: string }): void;
  /** One PSP call: `approved`, `declined`, `pending`, `error` (it threw) or `timeout`. */
  pspCall(connector: string, outcome: string, seconds: number): void;
  /** A PSP account's circuit breaker changed state (`closed`, `half_open`, `open`). */
  pspCircuit(account: string, state: string): void;
  /** Drops a removed PSP account's circuit series (a removed account's circuit must not read open for ever). */
  forgetPspCircuit(account: string): void;
  /** One unit of work, from its call to its answer (waiting for its batch, its statements, the shared commit). */
  unitOfWork(outcome: 'commit' | 'rollback', seconds: number): void;
  /** One database commit of the group commit: how many units it carried and how long it took. */
  commitBatch(size: number, seconds: number): void;
  walFlush(seconds: number): void;
  /** Read from the store on each scrape, so every node reports the cluster's backlog as it is now. */
  setBacklogProbe(probe: () => Promise<Backlog>): void;
  /** How many `waitWhile` long-polls this node holds open, read on each scrape. */
  setLongPollProbe(probe: () => number): void;
  /** Every PSP account's circuit on this node, as its view shows it now (read at each scrape). */
  setCircuitProbe(probe: () => [accountId: string, state: string][]): void;
  /** The text exposition format. */
  scrape(): Promise<{ contentType: string; body: string }>;
}

export interface Backlog {
  /** Operations whose outcome is unknown, or pending at a PSP, for longer than the PSP timeout. */
  readonly unknownWaiting: number;
  /** Age of the oldest outbox row not yet fanned out, 0 when none. */
  readonly outboxLagSeconds: number;
  /** Webhook deliveries not yet delivered (pending or retrying) and the age of the oldest. */
  readonly webhookPending: number;
  readonly webhookOldestSeconds: number;
  /** Charges a PSP approved after the gateway had ended their attempts, not yet reversed. */
  readonly lateApprovalsUnreversed: number;
}

// Seconds; PSP calls run up to the PSP timeout (default tens of seconds), HTTP long-polls longer.
const httpBuckets = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];
const pspBuckets = [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 20, 30, 60];
const uowBuckets = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5];

/** How long a scrape waits for the store's backlog figures before answering without them. */
const backlogProbeMs = 2000;

export function createMetrics(): Metrics {
  const registry = new Registry();
  // Process metrics (CPU, memory, handles) and `nodejs_eventloop_lag_*` / `nodejs_eventloop_lag_p99_seconds`.
  collectDefaultMetrics({ register: registry, eventLoopMonitoringPrecision: 20 });
  const httpRequests = new Counter({
    name: 'switchyard_http_requests_total', help: 'HTTP requests answered, by route pattern, method and status',
    labelNames: ['route', 'method', 'status'] as const, registers: [registry],
  });
  const httpDuration = new Histogram({
    name: 'switchyard_http_request_duration_seconds', help: 'Time to answer an HTTP request, by route pattern, method and status',
    labelNames: ['route', 'method', 'status'] as const, buckets: httpBuckets, registers: [registry],
  });
  const payments = new Counter({
    name: 'switchyard_payment_operations_total',
    help: 'Payment operations settled or changed, by dialect (channel), operation kind, status, decline reason and PSP account',
    labelNames: ['channel', 'kind', 'status', 'reason', 'psp_account'] as const, registers: [registry],
  });
  const psp = new Histogram({
    name: 'switchyard_psp_call_duration_seconds', help: 'PSP call latency, by connector and outcome',
    labelNames: ['connector', 'outcome'] as const, buckets: pspBuckets, registers: [registry],
  });
  const uow = new Histogram({
    name: 'switchyard_unit_of_work_duration_seconds', help: 'Unit of work duration from its call to its durable commit (or rollback), group-commit wait included',
    labelNames: ['outcome'] as const, buckets: uowBuckets, registers: [registry],
  });
  const commitDuration = new Histogram({
    name: 'switchyard_commit_duration_seconds', help: 'Database transaction of one group commit, begin to durable commit',
    buckets: uowBuckets, registers: [registry],
  });
  const commitSize = new Histogram({
    name: 'switchyard_commit_batch_size', help: 'Units of work carried by one database commit (group commit)',
    buckets: [1, 2, 4, 8, 16, 32, 64], registers: [registry],
  });
  const walFlush = new Histogram({
    name: 'switchyard_wal_flush_duration_seconds', help: 'One flush of the embedded store\'s write-ahead log, made off the event loop before a commit is answered (SQLite only)',
    buckets: uowBuckets, registers: [registry],
  });
  let circuits: (() => [string, string][]) | undefined;
  const circuitLevel: Record<string, number> = { closed: 0, half_open: 1, open: 2 };
  const circuit = new Gauge({
    name: 'switchyard_psp_circuit_state', help: 'Circuit breaker of each PSP account on this node: 0 closed, 1 half-open (probing), 2 open (out of cascades)',
    labelNames: ['psp_account'] as const, registers: [registry],
    // Read at each scrape as the admin view reads it: an open circuit whose period is over is
    // half-open, though no payment has come to probe it yet (set on change only, it read open).
    collect() { for (const [account, state] of circuits?.() ?? []) this.set({ psp_account: account }, circuitLevel[state] ?? 0); },
  });
  const circuitOpened = new Counter({
    name: 'switchyard_psp_circuit_opened_total', help: 'Times a PSP account\'s circuit opened on this node (taken out of cascades)',
    labelNames: ['psp_account'] as const, registers: [registry],
  });
  let probe: (() => Promise<Backlog>) | undefined;
  let longPolls: (() => number) | undefined;
  new Gauge({
    name: 'switchyard_long_polls_waiting', help: 'waitWhile long-polls this node holds open', registers: [registry],
    collect() { this.set(longPolls?.() ?? 0); },
  });
  // The backlog gauges live in a registry of their own, written into a scrape only when this
  // scrape's read of the store answered: prom-client writes an unset gauge with its last value (or
  // 0 before any), and a frozen or invented figure would feed the backlog alerts through a whole
  // outage instead of the series going absent.
  const backlogRegistry = new Registry();
  const backlogGauges: { gauge: Gauge; pick: (b: Backlog) => number }[] = [];
  const gauge = (name: string, help: string, pick: (b: Backlog) => number) => {
    backlogGauges.push({ gauge: new Gauge({ name, help, registers: [backlogRegistry] }), pick });
  };
  gauge('switchyard_unknown_outcomes_waiting', 'Operations unknown or pending at a PSP for longer than the PSP timeout', (b) => b.unknownWaiting);
  gauge('switchyard_outbox_lag_seconds', 'Age of the oldest outbox event not yet fanned out to webhook deliveries (0 when none)', (b) => b.outboxLagSeconds);
  gauge('switchyard_webhook_deliveries_pending', 'Webhook deliveries not yet delivered (pending or retrying), but for endpoints an operator disabled', (b) => b.webhookPending);
  gauge('switchyard_late_approvals_unreversed', 'Charges a PSP approved after the gateway had ended their attempts as failed, not yet reversed (waiting for a try, or for an operator)', (b) => b.lateApprovalsUnreversed);
  gauge('switchyard_webhook_oldest_pending_seconds', 'Age of the oldest webhook delivery not yet delivered (0 when none)', (b) => b.webhookOldestSeconds);
  return {
    registry,
    httpRequest(route, method, status, seconds) {
      const labels = { route, method, status: String(status) };
      httpRequests.inc(labels);
      httpDuration.observe(labels, seconds);
    },
    paymentOutcome(l) {
      payments.inc({ channel: l.channel, kind: l.kind, status: l.status, reason: l.reason, psp_account: l.account });
    },
    pspCall(connector, outcome, seconds) { psp.observe({ connector, outcome }, seconds); },
    pspCircuit(account, state) {
      circuit.set({ psp_account: account }, circuitLevel[state] ?? 0);
      if (state === 'open') circuitOpened.inc({ psp_account: account });
    },
    forgetPspCircuit(account) {
      circuit.remove({ psp_account: account });
      circuitOpened.remove({ psp_account: account });
    },
    unitOfWork(outcome, seconds) { uow.observe({ outcome }, seconds); },
    commitBatch(size, seconds) { commitSize.observe(size); commitDuration.observe(seconds); },
    walFlush(seconds) { walFlush.observe(seconds); },
    setBacklogProbe(p) { probe = p; },
    setLongPollProbe(p) { longPolls = p; },
    setCircuitProbe(p) { circuits = p; },
    async scrape() {
      // The backlog is read from the store: a store that is down, closed or frozen leaves those five
      // gauges unset for this scrape, never the whole answer (the outage is when the rest is needed),
      // and its error (a driver's words, a database's address) is nobody's to read here.
      const probed = probe?.();
      const [body, backlog] = await Promise.all([
        registry.metrics(),
        probed === undefined ? undefined : Promise.race([
          probed.catch(() => undefined),
          new Promise<undefined>((resolve) => { setTimeout(resolve, backlogProbeMs, undefined).unref(); }),
        ]),
      ]);
      if (!backlog) return { contentType: registry.contentType, body };
      for (const { gauge: g, pick } of backlogGauges) g.set(pick(backlog));
      const separator = body.endsWith('\n') ? '' : '\n';
      return { contentType: registry.contentType, body: body + separator + await backlogRegistry.metrics() };
    },
  };
}
