import { sql, type ExpressionBuilder, type Kysely, type Selectable } from 'kysely';
import type { Tx, UnitOfWork } from '../storage/unit-of-work.ts';
import type { Database, WebhookAttemptsTable, WebhookDeliveriesTable, WebhookEndpointsTable } from '../storage/schema.ts';
import { longestRetryWaitMs, shouldDisable, type DeliveryStatus, type EndpointStatus, type WebhookDialect } from './model.ts';
import type { AttemptOutcome, AttemptRecord, AttemptRecorded, DeliveryRecord, EndpointRecord, WebhookStore } from './store.ts';

const toEndpoint = (r: Selectable<WebhookEndpointsTable>): EndpointRecord => ({
  id: r.id, merchantId: r.merchant_id, dialect: r.dialect as WebhookDialect, entityId: r.entity_id ?? undefined, url: r.url,
  types: JSON.parse(r.types), sealedSecret: r.secret, sealedPreviousSecret: r.previous_secret ?? undefined,
  previousSecretUntil: r.previous_secret_until ?? undefined, status: r.status as EndpointStatus,
  failingSince: r.failing_since ?? undefined, createdAt: r.created_at, updatedAt: r.updated_at,
});

const toDelivery = (r: Selectable<WebhookDeliveriesTable>): DeliveryRecord => ({
  id: r.id, eventId: r.event_id, endpointId: r.endpoint_id, merchantId: r.merchant_id, eventType: r.event_type, body: r.body,
  status: r.status as DeliveryStatus, attempts: r.attempts, retryIndex: r.retry_index, ladderStart: r.ladder_start,
  nextAttemptAt: r.next_attempt_at, lastStatus: r.last_status ?? undefined, lastError: r.last_error ?? undefined,
  deliveredAt: r.delivered_at ?? undefined, createdAt: r.created_at, redeliveries: r.redeliveries,
  orderingKey: r.ordering_key ?? undefined, seq: r.seq === null ? undefined : Number(r.seq), traceparent: r.traceparent ?? undefined,
});

const toAttempt = (r: Selectable<WebhookAttemptsTable>): AttemptRecord => ({
  id: r.id, deliveryId: r.delivery_id, attemptedAt: r.attempted_at, httpStatus: r.http_status ?? undefined,
  latencyMs: r.latency_ms, error: r.error ?? undefined, excerpt: r.excerpt ?? undefined,
});

const deliveryRow = (d: DeliveryRecord): WebhookDeliveriesTable => ({
  id: d.id, event_id: d.eventId, endpoint_id: d.endpointId, merchant_id: d.merchantId, event_type: d.eventType, body: d.body,
  status: d.status, attempts: d.attempts, retry_index: d.retryIndex, ladder_start: d.ladderStart, next_attempt_at: d.nextAttemptAt,
  lease_until: null, lease_owner: null, redeliveries: d.redeliveries ?? 0, last_status: d.lastStatus ?? null, last_error: d.lastError ?? null,
  delivered_at: d.deliveredAt ?? null, created_at: d.createdAt,
  ordering_key: d.orderingKey ?? null, seq: d.seq ?? null, traceparent: d.traceparent ?? null,
});

/**
 * Keeps an active endpoint's failure streak from what the database holds now, not from the copy read
 * at claim time: another node's success may have ended the streak meanwhile, or an operator enabled
 * the endpoint again, and writing that copy back revived the old streak and disabled an endpoint
 * that had just answered. One disabled meanwhile stays as the operator left it. Returns whether
 * this failure is what disabled it.
 */
async function recordHealth(tx: Tx, e: AttemptOutcome['endpoint'], attemptedAt: number): Promise<boolean> {
  const streakPauseMs = 2 * longestRetryWaitMs;
  const active = tx.updateTable('webhook_endpoints').where('id', '=', e.id).where('status', '=', 'active');
  if (e.answered) {
    await active.set({ failing_since: null, updated_at: e.at }).execute();
    return false;
  }
  // The UPDATE takes the row's lock (PostgreSQL; SQLite has one writer), so the streak read back is
  // the one this transaction decides on.
  // A streak is unbroken failures: after a pause longer than any retry ladder's longest wait (the
  // endpoint had nothing to deliver, or its deliveries ran out their ladder), this failure starts a
  // new one; otherwise one transient failure weeks later would disable the endpoint at once.
  const pausedBefore = attemptedAt - streakPauseMs;
  const row = await active.set((eb) => ({
    failing_since: eb.case().when(eb.or([eb('failing_since', 'is', null), eb('updated_at', '<', pausedBefore)])).then(eb.val(attemptedAt)).else(eb.ref('failing_since')).end(),
    updated_at: e.at,
  })).returning('failing_since').executeTakeFirst();
  if (!row || !shouldDisable(row.failing_since ?? undefined, e.at, e.disableAfterMs)) return false;
  await tx.updateTable('webhook_endpoints').set({ status: 'disabled' }).where('id', '=', e.id).where('status', '=', 'active').execute();
  return true;
}

/** One implementation for both stores; `locking` adds FOR UPDATE SKIP LOCKED where the database has it (SQLite has one writer). */
/**
 * For a query over `webhook_deliveries`: those the gateway still owes, to an active endpoint or to
 * one it disabled itself after failing for too long (which keeps its failure streak: an operator
 * must hear of those). Not those held for an endpoint an operator disabled (its streak cleared),
 * which wait for an enable: counted as a backlog, they kept its alert firing for good while every
 * active endpoint was served.
 */
export const toOwedDelivery = (eb: ExpressionBuilder<Database, 'webhook_deliveries'>) => eb.exists(eb.selectFrom('webhook_endpoints').select('webhook_endpoints.id')
  .whereRef('webhook_endpoints.id', '=', 'webhook_deliveries.endpoint_id')
  .where((w) => w.or([w('webhook_endpoints.status', '=', 'active'), w('webhook_endpoints.failing_since', 'is not', null)])));

export function createWebhookStore(uow: UnitOfWork): WebhookStore {
  const { db } = uow;
  const opts = { locking: uow.kind === 'postgres' };
  // Outbox events in the order they were written (095): a sequence on PostgreSQL, the rowid on SQLite.
  const written = opts.locking ? sql<string | number>`seq` : sql<string | number>`rowid`;
  return {
    async insertEndpoint(e, deliveries, join) {
      await uow.run(async (tx) => {
        await tx.insertInto('webhook_endpoints').values({
          id: e.id, merchant_id: e.merchantId, dialect: e.dialect, entity_id: e.entityId ?? null, url: e.url,
          types: JSON.stringify(e.types), secret: e.sealedSecret, previous_secret: e.sealedPreviousSecret ?? null,
          previous_secret_until: e.previousSecretUntil ?? null, status: e.status, failing_since: e.failingSince ?? null,
          created_at: e.createdAt, updated_at: e.updatedAt,
        }).execute();
        for (const d of deliveries) await tx.insertInto('webhook_deliveries').values(deliveryRow(d)).execute();
        await join?.(tx);
      });
    },
    async addDelivery(d) {
      await db.insertInto('webhook_deliveries').values(deliveryRow(d)).execute();
    },
    async endpoint(id) {
      const r = await db.selectFrom('webhook_endpoints').selectAll().where('id', '=', id).executeTakeFirst();
      return r ? toEndpoint(r) : undefined;
    },
    async endpoints({ merchantId }) {
      let q = db.selectFrom('webhook_endpoints').selectAll();
      if (merchantId) q = q.where('merchant_id', '=', merchantId);
      return (await q.orderBy('created_at').orderBy('id').execute()).map(toEndpoint);
    },
    async updateEndpoint(id, p, at, ifSealedSecret, join) {
      const update = (on: Kysely<Database>) => {
        let q = on.updateTable('webhook_endpoints').set({
        ...(p.sealedSecret !== undefined ? { secret: p.sealedSecret } : {}),
        ...('sealedPreviousSecret' in p ? { previous_secret: p.sealedPreviousSecret ?? null } : {}),
        ...('previousSecretUntil' in p ? { previous_secret_until: p.previousSecretUntil ?? null } : {}),
        ...(p.status !== undefined ? { status: p.status } : {}),
        ...('failingSince' in p ? { failing_since: p.failingSince ?? null } : {}),
        updated_at: at,
        }).where('id', '=', id);
        if (ifSealedSecret !== undefined) q = q.where('secret', '=', ifSealedSecret);
        return q;
      };
      if (!join) return Number((await update(db).executeTakeFirst()).numUpdatedRows) > 0;
      return uow.run(async (tx) => {
        const written = Number((await update(tx).executeTakeFirst()).numUpdatedRows) > 0;
        if (written) await join(tx);
        return written;
      });
    },
    async undispatched(limit) {
      const rows = await db.selectFrom('outbox').selectAll().select(written.as('seq')).where('delivered_at', 'is', null)
        .orderBy(written).limit(limit).execute();
      return rows.map((r) => ({
        id: r.id, merchantId: r.merchant_id, type: r.type, subjectId: r.subject_id, payload: JSON.parse(r.payload), createdAt: r.created_at,
        seq: Number(r.seq), traceparent: r.traceparent ?? undefined,
      }));
    },
    async oldestUndispatchedAt() {
      // The first in written order: the index of the backlog finds it without reading the rest of
      // the backlog, which min(created_at) would.
      const r = await db.selectFrom('outbox').select('created_at').where('delivered_at', 'is', null)
        .orderBy(written).limit(1).executeTakeFirst();
      return r?.created_at;
    },
    async fanOut(byEvent, at) {
      const ids = [...byEvent.keys()];
      if (ids.length === 0) return [];
      return uow.run(async (tx) => {
        // One node fans out at a time. With each skipping the rows another holds, a node could fan
        // out (and send) a payment's later event while another node's open transaction still held
        // its earlier one, whose deliveries the order check cannot see until they exist. Waiting
        // here, the second node then finds what the first dispatched and leaves it.
        if (opts.locking) await sql`select pg_advisory_xact_lock(hashtext('switchyard:webhook-fan-out'))`.execute(tx);
        let q = tx.selectFrom('outbox').select('id').where('id', 'in', ids).where('delivered_at', 'is', null);
        if (opts.locking) q = q.forUpdate().skipLocked();
        const claimed = (await q.execute()).map((r) => r.id);
        for (const id of claimed) {
          for (const d of byEvent.get(id) ?? []) {
            await tx.insertInto('webhook_deliveries').values(deliveryRow(d))
              .onConflict((oc) => oc.columns(['event_id', 'endpoint_id']).doNothing()).execute();
          }
        }
        if (claimed.length > 0) await tx.updateTable('outbox').set({ delivered_at: at }).where('id', 'in', claimed).execute();
        return claimed;
      });
    },
    async claimDue(now, leaseUntil, owner, limit, share) {
      return uow.run(async (tx) => {
        const due = () => tx.selectFrom('webhook_deliveries')
          .select(['id', 'endpoint_id'])
          .select((eb) => eb.selectFrom('webhook_endpoints').select('failing_since').whereRef('webhook_endpoints.id', '=', 'webhook_deliveries.endpoint_id').as('failing_since'))
          .where('status', '=', 'pending').where('next_attempt_at', '<=', now)
          .where((eb) => eb.or([eb('lease_until', 'is', null), eb('lease_until', '<', now)]))
          .where('endpoint_id', 'in', (eb) => eb.selectFrom('webhook_endpoints').select('id').where('status', '=', 'active'))
          // One at a time per endpoint and subject, in the order the events happened: a delivery waits
          // while an earlier one about the same payment (execution, registration) is pending there.
          .where(({ not, exists, selectFrom }) => not(exists(selectFrom('webhook_deliveries as earlier').select('earlier.id')
            .whereRef('earlier.endpoint_id', '=', 'webhook_deliveries.endpoint_id')
            .whereRef('earlier.ordering_key', '=', 'webhook_deliveries.ordering_key')
            .where('earlier.status', '=', 'pending')
            .whereRef('earlier.seq', '<', 'webhook_deliveries.seq'))))
          .orderBy('next_attempt_at').orderBy('id');
        const read = async (q: ReturnType<typeof due>, n: number) => (opts.locking ? q.limit(n).forUpdate().skipLocked() : q.limit(n)).execute();
        const taken = new Map<string, number>();
        const ids: string[] = [];
        const take = (c: { id: string; endpoint_id: string }) => { taken.set(c.endpoint_id, (taken.get(c.endpoint_id) ?? 0) + 1); ids.push(c.id); };
        if (!share) {
          for (const c of await read(due(), limit)) take(c);
        } else {
          // Endpoints with their share in flight are left out of the reads, answering or not, and so
          // is one that reaches its share in this claim: their older backlog would otherwise fill
          // the window, and what other merchants have due behind it would wait until that backlog
          // was gone (a review measured 600 deliveries of one slow endpoint before another
          // merchant's one).
          const busy = [...share.busy.keys()];
          const failing = new Set(busy.length === 0 ? [] : (await tx.selectFrom('webhook_endpoints').select('id')
            .where('id', 'in', busy).where('failing_since', 'is not', null).execute()).map((r) => r.id));
          const full = new Set(busy.filter((id) => share.busy.get(id)! >= share.shareOf(failing.has(id))));
          if ([...full].some((id) => failing.has(id))) share.heldBack?.();
          const rest: { id: string; endpoint_id: string }[] = [];
          for (let pass = 0; pass < 3 && ids.length < limit; pass++) {
            let q = due();
            if (full.size > 0) q = q.where('endpoint_id', 'not in', [...full]);
            if (ids.length + rest.length > 0) q = q.where('id', 'not in', [...ids, ...rest.map((c) => c.id)]);
            // A few times the slots are read, so that an endpoint reaching its share leaves them to the next ones due.
            const window = await read(q, limit * 4);
            let reachedShare = false;
            for (const c of window) {
              if (ids.length === limit) break;
              const used = (share.busy.get(c.endpoint_id) ?? 0) + (taken.get(c.endpoint_id) ?? 0);
              if (c.failing_since !== null) failing.add(c.endpoint_id);
              const shareOf = share.shareOf(c.failing_since !== null);
              if (used < shareOf) { take(c); if (used + 1 >= shareOf) { full.add(c.endpoint_id); reachedShare = true; } }
              else if (c.failing_since === null) { rest.push(c); full.add(c.endpoint_id); } else share.heldBack?.();
            }
            // Read again without the endpoints now at their share, unless the window held nothing more.
            if (!reachedShare || window.length < limit * 4) break;
          }
          // Slots nobody else wants go to endpoints that answer, beyond their share: one merchant
          // alone still has the whole worker.
          for (const c of rest) { if (ids.length === limit) break; take(c); }
          const answering = [...full].filter((id) => !failing.has(id));
          if (ids.length < limit && answering.length > 0) {
            let more = due().where('endpoint_id', 'in', answering);
            if (ids.length > 0) more = more.where('id', 'not in', ids);
            for (const c of await read(more, limit - ids.length)) take(c);
          }
        }
        if (ids.length === 0) return [];
        await tx.updateTable('webhook_deliveries').set({ lease_until: leaseUntil, lease_owner: owner }).where('id', 'in', ids).execute();
        const rows = await tx.selectFrom('webhook_deliveries').selectAll().where('id', 'in', ids).orderBy('next_attempt_at').orderBy('id').execute();
        return rows.map(toDelivery);
      });
    },
    async recordAttempt(deliveryId, outcome) {
      return (await this.recordAttempts([{ deliveryId, outcome }]))[0]!.recorded;
    },
    async recordAttempts(list) {
      if (list.length === 0) return [];
      return uow.run(async (tx) => {
        const results: AttemptRecorded[] = [];
        /** The endpoints' streaks, kept after every delivery row (see below). */
        const health: { at: number; o: AttemptOutcome; result: { recorded: true; disabledEndpoint: boolean } }[] = [];
        // Rows are taken in one order on every node: deliveries by id, then endpoints by id. Two
        // nodes recording attempts of the same endpoints in the order their calls ended would
        // otherwise lock the endpoint rows in opposite orders, and PostgreSQL would abort one
        // batch as a deadlock, its answered deliveries left to be sent again once their leases ran out.
        const ordered = [...list].sort((x, y) => (x.deliveryId < y.deliveryId ? -1 : x.deliveryId > y.deliveryId ? 1 : 0));
        const byDelivery = new Map<string, AttemptRecorded>();
        for (const { deliveryId, outcome: o } of ordered) {
          const a = o.attempt;
          // Only the lease's holder settles the delivery: a worker that stalled past its lease would
          // clear the lease of the node sending it now (a third could then send it too) or mark
          // failed what that node delivered.
          // Redelivered while this attempt was under way (an operator asked again since the claim):
          // a failure leaves the redelivery's fresh ladder standing, due at once, instead of the old
          // ladder's next step (or its end). Told by the count, not by comparing the redelivery's
          // time with the attempt's: two nodes' clocks.
          const updated = await tx.updateTable('webhook_deliveries').set((eb) => {
            const redelivered = o.status === 'delivered' ? eb.lit(false) : eb('redeliveries', '>', o.redeliveries);
            const status = eb.case().when(redelivered).then(eb.ref('status')).else(eb.val(o.status)).end();
            const unlessRedelivered = (column: 'retry_index' | 'next_attempt_at' | 'ladder_start', value: number) =>
              eb.case().when(redelivered).then(eb.ref(column)).else(eb.val(value)).end();
            return {
              status, attempts: eb('attempts', '+', 1), retry_index: unlessRedelivered('retry_index', o.retryIndex),
              next_attempt_at: unlessRedelivered('next_attempt_at', o.nextAttemptAt),
              ...(o.ladderStart !== undefined ? { ladder_start: unlessRedelivered('ladder_start', o.ladderStart) } : {}),
              lease_until: null, lease_owner: null, last_status: a.httpStatus ?? null, last_error: a.error ?? null,
              delivered_at: o.status === 'delivered' ? a.attemptedAt : null,
            };
          }).where('id', '=', deliveryId).where('status', '=', 'pending').where('lease_owner', '=', o.owner).executeTakeFirst();
          if (Number(updated.numUpdatedRows) === 0) {
            byDelivery.set(deliveryId, { recorded: false, disabledEndpoint: false });
            continue;
          }
          await tx.insertInto('webhook_attempts').values({
            id: a.id, delivery_id: deliveryId, attempted_at: a.attemptedAt, http_status: a.httpStatus ?? null,
            latency_ms: a.latencyMs, error: a.error ?? null, excerpt: a.excerpt ?? null,
          }).execute();
          const result = { recorded: true as const, disabledEndpoint: false };
          byDelivery.set(deliveryId, result);
          health.push({ at: a.attemptedAt, o, result });
        }
        // An endpoint's attempts in the order they were made: a success after a failure ends the streak.
        health.sort((x, y) => (x.o.endpoint.id < y.o.endpoint.id ? -1 : x.o.endpoint.id > y.o.endpoint.id ? 1 : x.at - y.at));
        for (const h of health) h.result.disabledEndpoint = await recordHealth(tx, h.o.endpoint, h.at);
        for (const { deliveryId } of list) results.push(byDelivery.get(deliveryId)!);
        return results;
      });
    },
    async deliveries(f) {
      let q = db.selectFrom('webhook_deliveries').selectAll();
      if (f.merchantId) q = q.where('merchant_id', '=', f.merchantId);
      if (f.endpointId) q = q.where('endpoint_id', '=', f.endpointId);
      if (f.eventId) q = q.where('event_id', '=', f.eventId);
      if (f.status) q = q.where('status', '=', f.status);
      if (f.since !== undefined) q = q.where('created_at', '>=', f.since);
      const before = f.before;
      // As one row value: an index range, where the same test spelt with OR was two ranges sorted together.
      if (before) q = q.where((eb) => eb(eb.refTuple('created_at', 'id'), '<', eb.tuple(before.createdAt, before.id)));
      const rows = await q.orderBy('created_at', 'desc').orderBy('id', 'desc').limit(f.limit ?? 100).execute();
      return rows.map(toDelivery);
    },
    async purgeFinished(before, limit) {
      return uow.run(async (tx) => {
        // Through the (status, next_attempt_at) index: a finished delivery's next_attempt_at is when
        // its last attempt was due, never after it was made, so it is before the cutoff whenever
        // that attempt is. It may be long before: a delivery due for weeks behind a disabled endpoint
        // or an earlier one about the same payment, then sent today. The last try decides.
        let finished = tx.selectFrom('webhook_deliveries as d').select('d.id')
          .where('d.status', 'in', ['delivered', 'failed']).where('d.next_attempt_at', '<', before)
          .where((eb) => eb.or([eb('d.delivered_at', 'is', null), eb('d.delivered_at', '<', before)]))
          .where(({ not, exists, selectFrom }) => not(exists(selectFrom('webhook_attempts as a').select('a.id')
            .whereRef('a.delivery_id', '=', 'd.id').where('a.attempted_at', '>=', before))))
          .limit(limit);
        // PostgreSQL: locked, so that an operator's redelivery under way (its row locked) is left
        // alone, and one that comes after waits and finds the row gone rather than being deleted
        // after it was answered "redelivered".
        if (opts.locking) finished = finished.forUpdate().skipLocked();
        const ids = (await finished.execute()).map((d) => d.id);
        if (ids.length > 0) {
          await tx.deleteFrom('webhook_attempts').where('delivery_id', 'in', ids).execute();
          await tx.deleteFrom('webhook_deliveries').where('id', 'in', ids).execute();
        }
        // An event goes once no delivery names it: one still pending (an endpoint disabled for
        // months) keeps it, and the payment's page still shows that delivery.
        // Through `outbox_dispatched` (SQLite) or `outbox_pending_seq` (PostgreSQL).
        const events = await tx.selectFrom('outbox').select('id').where('delivered_at', 'is not', null).where('delivered_at', '<', before)
          .where(({ not, exists, selectFrom }) => not(exists(selectFrom('webhook_deliveries as d').select('d.id').whereRef('d.event_id', '=', 'outbox.id'))))
          .limit(limit).execute();
        if (events.length > 0) await tx.deleteFrom('outbox').where('id', 'in', events.map((e) => e.id)).execute();
        return { deliveries: ids.length, events: events.length };
      });
    },
    async attemptsOf(deliveryId) {
      const rows = await db.selectFrom('webhook_attempts').selectAll().where('delivery_id', '=', deliveryId)
        .orderBy('attempted_at').orderBy('id').execute();
      return rows.map(toAttempt);
    },
    async redeliver(f, now) {
      if (f.deliveryIds && f.deliveryIds.length === 0) return { redelivered: 0, waitingForEnable: 0 };
      const matching = (eb: ExpressionBuilder<Database, 'webhook_deliveries'>) => {
        const terms = [];
        if (f.deliveryIds) terms.push(eb('id', 'in', f.deliveryIds));
        if (f.failedSince !== undefined) {
          // Failed since then: tried since then, whenever its event was made (one made last week that
          // has failed all day is what an operator fixing today's outage means to send again).
          terms.push(eb.or([eb('status', '=', 'failed'), eb.and([eb('status', '=', 'pending'), eb('attempts', '>', 0)])]));
          terms.push(eb.exists(eb.selectFrom('webhook_attempts').select(sql.lit(1).as('one'))
            .whereRef('webhook_attempts.delivery_id', '=', 'webhook_deliveries.id').where('webhook_attempts.attempted_at', '>=', f.failedSince)));
        }
        if (f.endpointId) terms.push(eb('endpoint_id', '=', f.endpointId));
        if (f.merchantId) terms.push(eb('merchant_id', '=', f.merchantId));
        return eb.and(terms);
      };
      // A delivery being sent right now keeps its lease: sent again beside that attempt, it would
      // reach the receiver twice at once; its attempt, when recorded, leaves this fresh ladder.
      const rows = await uow.run(async (tx) => {
        // On PostgreSQL the rows are locked in id order first, the order every node records
        // attempts in: one UPDATE's own scan order could take them against a recording batch's and
        // deadlock with it, failing the operator's call or losing the batch's records.
        if (opts.locking) await tx.selectFrom('webhook_deliveries').select('id').where(matching).orderBy('id').forUpdate().execute();
        return tx.updateTable('webhook_deliveries').set((eb) => ({
          status: 'pending', retry_index: 0, ladder_start: now, next_attempt_at: now, redeliveries: eb('redeliveries', '+', 1),
          lease_until: eb.case().when('lease_until', '>', now).then(eb.ref('lease_until')).else(null).end(),
          lease_owner: eb.case().when('lease_until', '>', now).then(eb.ref('lease_owner')).else(null).end(),
        })).where(matching).returning('endpoint_id').execute();
      });
      // An operator told "redelivered" should also be told which wait: a disabled endpoint gets nothing until enabled.
      const endpoints = [...new Set(rows.map((r) => r.endpoint_id))];
      const disabled = new Set<string>();
      for (let i = 0; i < endpoints.length; i += 500) {
        const part = endpoints.slice(i, i + 500);
        for (const e of await db.selectFrom('webhook_endpoints').select('id').where('id', 'in', part).where('status', '=', 'disabled').execute()) disabled.add(e.id);
      }
      return { redelivered: rows.length, waitingForEnable: rows.filter((r) => disabled.has(r.endpoint_id)).length };
    },
  };
}
