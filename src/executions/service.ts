import type { Clock } from '../runtime/clock.ts';
import { uuid, type Ids } from '../runtime/ids.ts';
import type { Logger } from '../runtime/logger.ts';
import type { Currency, Money } from '../money/money.ts';
import type { Merchant } from '../merchants/model.ts';
import type { MerchantService } from '../merchants/service.ts';
import type { InstrumentService } from '../vault/instruments.ts';
import type { PaymentService } from '../payments/service.ts';
import type { ExecResult, ExecutionError, NotAllowed } from './errors.ts';
import type { PaymentChange, PaymentObserver } from '../payments/change.ts';
import { shopperContextOf } from './shopper.ts';
import { cancelPlan, metadataLocked, totalsOf, attemptsOfOperation, issuerRefusedForGood, storedCardStands } from '../payments/model.ts';
import { cardholderNotAuthenticated } from '../processors/outcome.ts';
import type { AttemptRecord } from '../payments/store.ts';
import type { ThreeDsService } from '../threeds/service.ts';
import type { WorkflowService } from '../workflows/service.ts';
import type { Tx, UnitOfWork } from '../storage/unit-of-work.ts';
import { addOutboxEvent } from '../webhooks/outbox.ts';
import {
  backOfficeFrom, canMove, mergePatch, metaLimitBytes, shopperStepOf,
  type ActionMeta, type ActionRecord, type DisputeInfo, type EventName, type ExecutionRecord, type ExecutionStatus, type FailureInfo, type ReturnInfo,
} from './model.ts';
import { applyStep, projectExecution, type ExecutionStep } from './projection.ts';
import type { ExecutionFilter, ExecutionStore } from './store.ts';
import type { Departure, Waiters } from './waiters.ts';

export type { ExecResult, ExecutionError };

/** The execution with what the dialect shows beside it: its payment's attempts and money totals. */
export interface ExecutionView {
  readonly execution: ExecutionRecord;
  readonly attempts: readonly AttemptRecord[];
  /**
   * `reversed`: what the authorization left uncaptured was released (a final capture's void, the
   * expiry job's). `refundable`, `cancellable`: whether the engine would take a refund or a cancel
   * now, by its money (what stays captured and unrefunded, refunds at the PSP, a chargeback).
   */
  readonly totals: { authorized: number; captured: number; refunded: number; reversed: boolean; refundable: boolean; cancellable: boolean } | undefined;
}

export interface ActionAck {
  readonly execution: ExecutionRecord;
  readonly action: ActionRecord;
}

/** An event a status change produces (catalogue of reference §3.3). */
export interface EventSpec {
  readonly name: EventName;
  readonly action?: ActionRecord;
  readonly success?: boolean;
  readonly errors?: readonly FailureInfo[];
  readonly trigger?: 'api' | 'action' | 'external';
  readonly dispute?: DisputeInfo;
}

/** What an action's caller writes of its answer (its idempotency record) in the unit of work that records the action. */
export interface Acknowledged {
  readonly acknowledge?: (tx: Tx, ack: ActionAck) => Promise<void>;
}

export interface ExecutionService extends PaymentObserver {
  /** `acknowledge` writes the caller's answer in the unit of work that creates it (the idempotency key's stored answer). */
  create(merchant: Merchant, workflowCode: string, input: { merchantReference?: string; holderReference?: string; workspaceId: string; meta: Record<string, unknown> },
    acknowledge?: (tx: Tx, e: ExecutionRecord) => Promise<void>): Promise<ExecutionRecord>;
  view(merchant: Merchant, workflowCode: string, id: string): Promise<ExecutionView | undefined>;
  list(filter: ExecutionFilter): Promise<ExecutionRecord[]>;
  /** The same page as `list`, each execution with its attempts and totals as `view` shows them. */
  listViews(filter: ExecutionFilter): Promise<ExecutionView[]>;
  /**
   * Waits while the execution's status is in `statuses`, up to `ms`; returns it as it then is.
   * The wait is woken by the change itself (in process, or by NOTIFY from another node); it ends
   * early when the client behind `departure` goes away.
   */
  waitWhile(merchant: Merchant, workflowCode: string, id: string, statuses: ReadonlySet<string>, ms: number, departure?: Departure): Promise<ExecutionView | undefined>;
  /**
   * The execution behind a shopper's `consumerWait` link (the id is the capability), once authorize
   * was called; while the authorization is running, waits up to `ms` for its next step.
   */
  forShopper(id: string, ms: number, departure?: Departure): Promise<ExecutionRecord | undefined>;
  /** The execution whose payment this is (the hosted challenge page sends its shopper back by it). */
  byPayment(paymentId: string): Promise<ExecutionRecord | undefined>;
  /** `acknowledge` writes the caller's answer (the execution as patched) in the unit of work that patches it. */
  patchMeta(merchant: Merchant, workflowCode: string, id: string, patch: Record<string, unknown>,
    acknowledge?: (tx: Tx, view: ExecutionView) => Promise<void>): Promise<ExecResult<ExecutionRecord>>;
  /**
   * Records the authorization and creates its payment in one unit of work, then runs it in the
   * background. `acknowledge` writes the caller's record of the answer (its idempotency record) in
   * that same unit of work.
   */
  authorize(merchant: Merchant, workflowCode: string, id: string, input: {
    amount: Money; returnInfo: ReturnInfo; paymentMethodCode: string; instrumentId: string; baseUrl: string;
    /** The request's own `meta`: kept as the action's; its `clientContext` (the shopper's browser) goes to the PSP. */
    meta?: ActionMeta;
    /** A transient instrument is kept as a saved one by this authorization (the composition's `storeInstrument`). */
    storeInstrument?: boolean;
  } & Acknowledged): Promise<ExecResult<ActionAck>>;
  /** A back-office action; `acknowledge`, as for `authorize`, writes the caller's record of the answer in the unit of work that records it. */
  capture(merchant: Merchant, workflowCode: string, id: string, input: { amount: Money | undefined; final: boolean; reason?: string; reasonDescription?: string; meta?: ActionMeta } & Acknowledged): Promise<ExecResult<ActionAck>>;
  /**
   * Whether the execution's own rules (its status, a capture closed by a final one) let this action
   * be asked of it now; the engine's money rules are checked apart. For the dashboard, which offers
   * only what would not be refused.
   */
  allows(execution: ExecutionRecord, name: 'capture' | 'refund' | 'cancel'): boolean;
  /** `voidOnly` (an operator's void): refused once anything is captured, where a cancel refunds it. */
  cancel(merchant: Merchant, workflowCode: string, id: string, input: { reason?: string; reasonDescription?: string; voidOnly?: boolean; meta?: ActionMeta } & Acknowledged): Promise<ExecResult<ActionAck>>;
  /** `paymentId`, when given, must be the execution's payment: the money comes back from no other. */
  refund(merchant: Merchant, workflowCode: string, id: string, input: { amount: Money | undefined; paymentId?: string; reason?: string; reasonDescription?: string; meta?: ActionMeta } & Acknowledged): Promise<ExecResult<ActionAck>>;
  /** Background authorizations still running in this process (tests and shutdown wait for them). */
  idle(): Promise<void>;
}

/** A long-poll's read found the execution still in a status it waits on. */
const waitOn: unique symbol = Symbol('wait on');

/**
 * The executions dialect's use cases over the one engine. An execution holds what this dialect
 * adds to a payment (workflow, workspace, metadata, the shopper's return URLs, the actions asked
 * for and the status timeline); the payment itself is the engine's. Authorize creates the payment
 * in the unit of work that records the request; every later change of the payment reaches the
 * execution through `paymentChanged`, inside the engine's own unit of work — so no crash, node or
 * reconciler can leave an execution behind its payment.
 */
/** What a stored instrument is kept for, in the engine's terms: its `futureUsage`, else the shopper's own later payments. */
function cardOnFileUseOf(futureUsage: string | undefined): 'recurring' | 'unscheduled' | 'card_on_file' {
  return futureUsage === 'Subscription' ? 'recurring' : futureUsage === 'UnscheduledCardOnFile' ? 'unscheduled' : 'card_on_file';
}

export function createExecutionService(deps: {
  uow: UnitOfWork;
  store: ExecutionStore;
  merchants: MerchantService;
  payments: PaymentService;
  workflows: WorkflowService;
  instruments: InstrumentService;
  threeds: ThreeDsService;
  waiters: Waiters;
  clock: Clock;
  ids: Ids;
  logger: Logger;
  /** The gateway's address as shoppers' browsers reach it; else the address the merchant called. */
  publicUrl: string | undefined;
  /** The webhook body of an event (the dialect's renderer, injected by the composition root). */
  renderEvent: (e: ExecutionRecord, ev: EventSpec) => Readonly<Record<string, unknown>>;
  /** Whether a payment other than `paymentId` was made with the card, in the unit of work (the payments' store). */
  chargedElsewhere: (tx: Tx, cardId: string, paymentId: string) => Promise<boolean>;
}): ExecutionService {
  const { uow, store, payments, workflows, instruments, waiters, clock, ids, logger } = deps;

  /** Writes a step of the execution with its event and its wake-ups (NOTIFY for other nodes, in process after commit). */
  async function record(tx: Tx, e: ExecutionRecord, step: ExecutionStep): Promise<ExecutionRecord> {
    if (step.status !== e.status && !canMove(e.status, step.status)) {
      // Never thrown: the payment's change must commit whatever its view makes of it.
      logger.error({ executionId: e.id, from: e.status, to: step.status }, 'execution moved outside its state machine');
      return e;
    }
    const next = applyStep(e, step, clock.now());
    const w = store.writer(tx);
    await w.update(next);
    if (step.event) await addOutboxEvent(tx, eventOf(next, step.event));
    await w.notify(next.id);
    uow.afterCommit(tx, () => waiters.wake(next.id));
    return next;
  }

  function eventOf(e: ExecutionRecord, ev: EventSpec) {
    // The payload is the full webhook body, rendered by the dialect (wire money is printed there).
    return { id: ids.hex32(), merchantId: e.merchantId, type: `execution.${ev.name}`, subjectId: e.id, createdAt: clock.now(), payload: deps.renderEvent(e, ev) };
  }

  async function own(merchant: Merchant, workflowCode: string, id: string): Promise<ExecutionRecord | undefined> {
    const e = await store.get(id);
    return e && e.merchantId === merchant.id && e.workflowCode === workflowCode ? e : undefined;
  }

  /** The execution's view when a long-poll has its answer now (gone, moved on, out of time), else `waitOn`. */
  async function answerUnlessWaiting(merchant: Merchant, workflowCode: string, id: string, statuses: ReadonlySet<string>,
    deadline: number, departure: Departure | undefined): Promise<ExecutionView | undefined | typeof waitOn> {
    const e = await own(merchant, workflowCode, id);
    if (!e) return undefined;
    if (!statuses.has(e.status) || clock.now() >= deadline || departure?.closed) return viewOf(e);
    return waitOn;
  }

  async function viewOf(e: ExecutionRecord): Promise<ExecutionView> {
    return viewWith(e, e.paymentId ? await payments.details(e.paymentId) : undefined);
  }

  function viewWith(e: ExecutionRecord, p: Awaited<ReturnType<PaymentService['details']>>): ExecutionView {
    if (!p) return { execution: e, attempts: [], totals: undefined };
    const t = totalsOf(p.operations);
    // The engine's own rules: no refund while a chargeback stands; a cancel refunds what is left
    // (refused when a chargeback stands over part of it) and releases the open rest.
    const refundable = t.chargedBack === 0 && t.captured - t.refunded - t.inFlightRefunds > 0;
    const plan = cancelPlan(p.operations);
    const cancellable = (plan.refund === undefined || t.chargedBack === 0) && (plan.refund !== undefined || plan.voidOpen);
    // The cascade's attempts are those of the authorization (the payment's opening operation).
    return {
      execution: e, attempts: attemptsOfOperation(p.attempts, p.payment.id),
      totals: { authorized: t.authorized, captured: t.captured, refunded: t.refunded, reversed: t.reversed, refundable, cancellable },
    };
  }

  const actionFields = (input: { reason?: string; reasonDescription?: string; meta?: ActionMeta }) =>
    ({ ...(input.reason ? { reason: input.reason } : {}), ...(input.reasonDescription ? { reasonDescription: input.reasonDescription } : {}), ...(input.meta ? { meta: input.meta } : {}) });

  /** Why the execution's own rules refuse the action now; undefined when they let it be asked. */
  function refusalOf(e: ExecutionRecord, name: 'capture' | 'refund' | 'cancel'): NotAllowed | undefined {
    if (!e.paymentId) return { reason: 'needs_authorization', action: name, status: e.status };
    if (name === 'capture' && e.captureClosed) return { reason: 'capture_closed' };
    if (!backOfficeFrom[name].includes(e.status)) return { reason: 'wrong_status', action: name, status: e.status };
    return undefined;
  }

  /** A back-office action: the engine records its operations (and this execution's view of them) under the payment's lock. */
  async function backOffice(merchant: Merchant, workflowCode: string, id: string, name: 'capture' | 'refund' | 'cancel',
    input: { amount: Money | undefined; final?: boolean; paymentId?: string; reason?: string; reasonDescription?: string; voidOnly?: boolean; meta?: ActionMeta } & Acknowledged): Promise<ExecResult<ActionAck>> {
    const e = await own(merchant, workflowCode, id);
    if (!e) return { ok: false, error: 'not_found' };
    const refused = refusalOf(e, name);
    if (refused || !e.paymentId) return { ok: false, error: 'not_allowed', ...(refused ? { why: refused } : {}) };
    // A payment named is this execution's one: ignored, a refund naming another payment (of another
    // execution, or none) gave back this one's money.
    if (input.paymentId !== undefined && input.paymentId.toLowerCase() !== e.paymentId) return { ok: false, error: 'payment_mismatch' };
    const p = (await payments.details(e.paymentId))!;
    const currency = p.payment.currency as Currency;
    if (input.amount && input.amount.currency !== currency) return { ok: false, error: 'currency_mismatch' };
    const t = totalsOf(p.operations);
    const amount = input.amount ?? (name === 'capture'
      ? { amount: t.authorized - t.captured - t.inFlightCaptures, currency }
      : { amount: t.captured - t.refunded - t.inFlightRefunds, currency });
    if (name !== 'cancel' && amount.amount <= 0) return { ok: false, error: 'not_allowed', why: { reason: 'nothing_left', action: name } };
    const action: ActionRecord = {
      id: uuid(), name, requestedAt: clock.now(), ...(name !== 'cancel' ? { amount } : {}), ...actionFields(input),
    };
    const scope = { channel: 'executions' } as const;
    const context = { executionAction: action };
    // The answer names the execution and the action only: known now, stored with the action itself.
    const acknowledge = input.acknowledge;
    const join = acknowledge ? { join: (tx: Tx) => acknowledge(tx, { execution: e, action }) } : {};
    const r = name === 'cancel'
      ? await payments.cancel({ merchant, scope, paymentId: e.paymentId, context, ...join, ...(input.voidOnly ? { voidOnly: true } : {}) })
      : await payments.followUp({
        merchant, scope, kind: name, referencedId: e.paymentId, amount, merchantTransactionId: e.merchantReference,
        context, testParameters: {}, ...(name === 'capture' && input.final ? { final: true } : {}), ...(name === 'refund' ? { inParts: true } : {}), ...join,
      });
    if (!r.ok) {
      if (name === 'cancel' && r.error === 'reversal_after_capture') {
        return input.voidOnly ? { ok: false, error: 'reversal_after_capture' } : { ok: false, error: 'not_allowed', why: { reason: 'nothing_left', action: 'cancel' } };
      }
      return { ok: false, error: r.error };
    }
    // The action is recorded with its operations; the execution is read again for the answer, or,
    // when the store cannot be read now (the database that lost the outcome still away), answered
    // as read before: an error would tell the merchant the action failed for money the PSP moved.
    const after = await store.get(id).catch(() => undefined);
    return { ok: true, value: { execution: after ?? e, action } };
  }

  /** The statuses of an execution whose authorization has no outcome yet. */
  const metaOpenIn: ReadonlySet<ExecutionStatus> = new Set(['created', 'authorizeRequested', 'authorizePending', 'unknown']);

  const service: ExecutionService = {
    async create(merchant, workflowCode, input, acknowledge) {
      const now = clock.now();
      const e: ExecutionRecord = {
        id: uuid(), merchantId: merchant.id, workflowCode, merchantReference: input.merchantReference,
        holderReference: input.holderReference, workspaceId: input.workspaceId, meta: input.meta, status: 'created',
        history: [{ code: 'created', time: now }], authorize: undefined, paymentId: undefined, action: undefined, actions: [],
        captureClosed: false, version: 1, createdAt: now, updatedAt: now,
      };
      await uow.run(async (tx) => {
        await store.writer(tx).insert(e);
        await addOutboxEvent(tx, eventOf(e, { name: 'executionCreated', trigger: 'api' }));
        await acknowledge?.(tx, e);
        uow.afterCommit(tx, () => waiters.wake(e.id));
      });
      return e;
    },

    async view(merchant, workflowCode, id) {
      const e = await own(merchant, workflowCode, id);
      return e ? viewOf(e) : undefined;
    },

    list: (filter) => store.list(filter),

    async listViews(filter) {
      return Promise.all((await store.list(filter)).map(viewOf));
    },

    async waitWhile(merchant, workflowCode, id, statuses, ms, departure) {
      const deadline = clock.now() + ms;
      for (;;) {
        // Registered before the read, so a change committed between the two still wakes it.
        const woken = waiters.wait(id, Math.max(0, deadline - clock.now()), departure);
        // The read and its answer stay in their own frame: a waiting request holds neither.
        const answer = await answerUnlessWaiting(merchant, workflowCode, id, statuses, deadline, departure);
        if (answer !== waitOn) { waiters.leave(woken); return answer; }
        if (!(await woken)) return viewOf((await store.get(id))!);
      }
    },

    async forShopper(id, ms, departure) {
      // Held while the shopper has no step to take: not while the status stays as it was, since a
      // later PSP of the cascade asking for its own challenge leaves it `authorizePending`.
      const deadline = clock.now() + ms;
      for (;;) {
        // Registered before the read, so a change committed between the two still wakes it.
        const woken = waiters.wait(id, Math.max(0, deadline - clock.now()), departure);
        const e = await store.get(id);
        if (!e?.authorize || shopperStepOf(e)?.kind !== 'running') {
          waiters.leave(woken);
          return e?.authorize ? e : undefined;
        }
        if (!(await woken)) return (await store.get(id)) ?? undefined;
      }
    },

    byPayment: (paymentId) => store.byPayment(paymentId),
    allows: (e, name) => refusalOf(e, name) === undefined,

    async patchMeta(merchant, workflowCode, id, patch, acknowledge) {
      const e = await own(merchant, workflowCode, id);
      if (!e) return { ok: false, error: 'not_found' };
      // Read before the unit of work: SQLite's one connection belongs to the transaction inside it.
      const payment = e.paymentId ? await payments.details(e.paymentId) : undefined;
      return uow.run(async (tx) => {
        const w = store.writer(tx);
        const locked = (await w.lock(id))!;
        // Metadata may change until the authorization has an outcome (the engine's rule). The payment
        // was read before this unit; an outcome committed since moved the execution with it, in its
        // own unit of work, so the execution as it stands under the lock tells.
        if (metadataLocked(payment?.payment.status) || (locked.paymentId !== undefined && payment === undefined) || !metaOpenIn.has(locked.status)) {
          return { ok: false, error: 'not_allowed', why: { reason: 'meta_locked', status: locked.status } } as const;
        }
        const meta = mergePatch(locked.meta, patch) as Record<string, unknown>;
        // Each patch is within the body limit; their sum is held to it too, or patches would grow a
        // meta every read and every list page then carries.
        if (Buffer.byteLength(JSON.stringify(meta)) > metaLimitBytes) return { ok: false, error: 'meta_too_large' } as const;
        const next: ExecutionRecord = { ...locked, meta, version: locked.version + 1, updatedAt: clock.now() };
        await w.update(next);
        await w.notify(id);
        // The payment read before is the one this patch was allowed against: nothing of it has an outcome yet.
        await acknowledge?.(tx, viewWith(next, payment));
        uow.afterCommit(tx, () => waiters.wake(id));
        return { ok: true, value: next } as const;
      });
    },

    async authorize(merchant, workflowCode, id, input) {
      const e = await own(merchant, workflowCode, id);
      if (!e) return { ok: false, error: 'not_found' };
      // Authorized once: a second authorize says so, whatever became of the instrument the first one spent.
      if (e.status !== 'created') return { ok: false, error: 'not_allowed', why: { reason: 'authorize_once', status: e.status } };
      const instrument = await instruments.get(merchant.id, input.instrumentId);
      if (!instrument || instrument.status === 'deleted') return { ok: false, error: 'instrument_not_found' };
      if (e.holderReference !== undefined && instrument.holderReference !== e.holderReference) return { ok: false, error: 'instrument_not_found' };
      const action: ActionRecord = { id: uuid(), name: 'authorize', requestedAt: clock.now(), amount: input.amount, ...(input.meta ? { meta: input.meta } : {}) };
      // The workflow's choice is kept with the request: the 3-D Secure pause is announced (or not) inside the engine's unit of work.
      const notifyPending = (await workflows.workflow(merchant.id, workflowCode))?.notifyPending ?? false;
      let acked: ExecutionRecord | undefined;
      let instrumentGone = false;
      const info = input.returnInfo;
      // The CVV is held once, for a short time: after use or expiry it is gone, and the log says so.
      // It is taken only by the request whose authorization is recorded (another may race this one).
      const takeCvv = async () => {
        const cvv = await instruments.takeCvv(instrument.id);
        if (!cvv) logger.info({ executionId: id, instrumentId: instrument.id }, 'no security code held for this instrument (used, expired, or held in the memory of an embedded store that restarted); authorizing without it');
        return cvv;
      };
      // A transient instrument the merchant asks to keep is saved by this authorization: the card is
      // kept for later charges, and its PSP is told so by this first one.
      const keeps = input.storeInstrument === true && instrument.status === 'transient';
      // Acknowledged once recorded; the cascade runs after the answer (the outcome arrives by long-poll or webhook).
      const r = await payments.pay({
        merchant, scope: { channel: 'executions' }, kind: 'authorize', amount: input.amount,
        storedCard: { cardId: instrument.cardId, cvv: undefined, takeCvv }, returnUrls: [info.success, info.cancel, info.error, info.pending].filter((u) => u !== undefined),
        shopperBaseUrl: deps.publicUrl ?? input.baseUrl,
        workflowCode, merchantTransactionId: e.merchantReference, testParameters: {}, background: true,
        // A stored instrument is kept for later charges: its PSP is told what for (its first approved charge stores it).
        context: {
          executionId: id, ...(instrument.status === 'enabled' || keeps ? { cardOnFileUse: cardOnFileUseOf(instrument.futureUsage) } : {}),
          ...shopperContextOf(e.meta, input.meta),
        },
        // The execution records the request in the payment's own unit of work: one commit for both.
        join: async (tx, paymentId) => {
          const w = store.writer(tx);
          const locked = await w.lock(id);
          // One authorization per execution; a declined one is retried with a new execution.
          if (!locked || locked.status !== 'created') return false;
          // Deleted since it was read, or an ephemeral one another authorization spent meanwhile.
          if (!await (keeps ? instruments.keepIn(tx, instrument) : instruments.holdIn(tx, instrument))) { instrumentGone = true; return false; }
          acked = await record(tx, { ...locked, paymentId }, {
            status: 'authorizeRequested', entries: [{ code: 'authorizeRequested' }],
            patch: {
              authorize: {
                amount: input.amount, returnInfo: info, paymentMethodCode: input.paymentMethodCode, instrumentId: instrument.id, cardId: instrument.cardId,
                baseUrl: input.baseUrl, notifyPending, ...(keeps ? { keptInstrument: true } : instrument.status === 'enabled' ? { savedInstrument: true } : {}),
              },
              actions: [...locked.actions, action],
            },
            event: { name: 'executionActionRequested', action, trigger: 'api' },
          });
          await input.acknowledge?.(tx, { execution: acked, action });
          return true;
        },
      });
      if (!r.ok) {
        // No authorization was recorded (another request authorized the execution first, or the
        // payment was refused before its intent): the code stays held for the one that will be.
        if (instrumentGone) return { ok: false, error: 'instrument_not_found' };
        if (r.error === 'not_allowed') return { ok: false, error: 'not_allowed', why: { reason: 'authorize_once', status: (await store.get(id))?.status } };
        // The card is the instrument's: the request named no expiry of its own to blame.
        if (r.error === 'card_expired') return { ok: false, error: 'instrument_expired' };
        return { ok: false, error: r.error };
      }
      return { ok: true, value: { execution: acked!, action } };
    },

    capture: (merchant, code, id, input) => backOffice(merchant, code, id, 'capture', input),
    refund: (merchant, code, id, input) => backOffice(merchant, code, id, 'refund', input),
    cancel: (merchant, code, id, input) => backOffice(merchant, code, id, 'cancel', { amount: undefined, ...input }),

    async paymentChanged(tx, change: PaymentChange) {
      if (change.payment.channel !== 'executions') return;
      const e = await store.writer(tx).lockByPayment(change.payment.id);
      if (!e) return;
      const href = change.challenge && e.authorize ? deps.threeds.urlOf(change.challenge, deps.publicUrl ?? e.authorize.baseUrl) : undefined;
      const step = projectExecution(e, change, href, e.authorize?.notifyPending === true);
      if (step) await record(tx, e, step);
      const op = change.operation;
      const a = e.authorize;
      if (a && op.seq === 0 && op.status === 'failed'
        && ((a.keptInstrument && !storedCardStands(op, change.attempts))
          || (a.savedInstrument && (cardholderNotAuthenticated(op.reason) || issuerRefusedForGood(op, change.attempts))))) {
        await instruments.unkeepIn(tx, a.instrumentId, (cardId) => deps.chargedElsewhere(tx, cardId, change.payment.id));
      }
    },

    idle: () => payments.idle(),
  };
  return service;
}
