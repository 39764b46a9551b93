import { randomUUID } from 'node:crypto';
import type { Clock } from '../runtime/clock.ts';
import type { Ids } from '../runtime/ids.ts';
import type { Logger } from '../runtime/logger.ts';
import type { Money } from '../money/money.ts';
import type { Merchant } from '../merchants/model.ts';
import type { MerchantService } from '../merchants/service.ts';
import type { InstrumentService } from '../vault/instruments.ts';
import type { PaymentService, TransactionView } from '../payments/service.ts';
import { decideBackOffice, initialOf, totalsOf, type BackOfficeType } from '../payments/model.ts';
import { cancelPlan } from '../payments/cancel.ts';
import type { AttemptState, Cascade, CascadeOutcome } from '../payments/cascade.ts';
import type { PaymentError } from '../payments/errors.ts';
import { declineCategoryOf } from '../processors/accounts.ts';
import type { WorkflowService } from '../workflows/service.ts';
import {
  backOfficeFrom, canMove, metaLocked, mergePatch, nextTime, shopperStepOf,
  type ActionName, type ActionRecord, type AuthorizeRequest, type EventName, type ExecutionRecord,
  type ExecutionStatus, type FailureInfo, type HistoryCode, type HistoryEntry, type RequiredAction, type ReturnInfo,
} from './model.ts';
import type { ExecutionFilter, ExecutionStore, ExecutionWriter } from './store.ts';
import type { UnitOfWork } from '../storage/unit-of-work.ts';
import { addOutboxEvent, type OutboxEvent } from '../webhooks/outbox.ts';

/** The writers of one unit of work an execution change uses. */
interface Writers {
  readonly executions: ExecutionWriter;
  event(e: OutboxEvent): Promise<void>;
}
import type { Waiters } from './waiters.ts';

export type ExecutionError =
  | 'not_found' | 'not_allowed' | 'instrument_not_found' | 'currency_mismatch' | 'amount_mismatch' | PaymentError;

export type ExecResult<T> = { ok: true; value: T } | { ok: false; error: ExecutionError; detail?: string };

/** The execution with what the dialect shows beside it: the cascade's attempts and the money totals. */
export interface ExecutionView {
  readonly execution: ExecutionRecord;
  readonly attempts: readonly AttemptState[];
  readonly totals: { authorized: number; captured: number; refunded: number } | undefined;
}

export interface ActionAck {
  readonly execution: ExecutionRecord;
  readonly action: ActionRecord;
}

/**
 * The 3-D Secure seam the execution flow needs (the shared `threeds/` concern implements it): which
 * flow a card gets, and opening a hosted challenge whose outcome comes back through `challengeDone`.
 */
export interface ThreeDsGate {
  /** Decides the card's 3-D Secure flow and opens the hosted challenge when it needs one. */
  authenticate(input: { merchant: Merchant; execution: ExecutionRecord; cardId: string; amount: Money; returnInfo: ReturnInfo }): Promise<GateDecision>;
}

export type GateDecision =
  | { readonly kind: 'none' }
  | { readonly kind: 'authenticated'; readonly authentication: NonNullable<AuthorizeRequest['authentication']> }
  | { readonly kind: 'challenge'; readonly action: RequiredAction }
  | { readonly kind: 'refused'; readonly resultCode: string };

/** An event a status change produces (catalogue of reference §3.3). */
export interface EventSpec {
  readonly name: EventName;
  readonly action?: ActionRecord;
  readonly success?: boolean;
  readonly errors?: readonly FailureInfo[];
  readonly trigger?: 'api' | 'action' | 'external';
}

export interface ExecutionService {
  create(merchant: Merchant, workflowCode: string, input: { merchantReference?: string; holderReference?: string; workspaceId: string; meta: Record<string, unknown> }): Promise<ExecutionRecord>;
  view(merchant: Merchant, workflowCode: string, id: string): Promise<ExecutionView | undefined>;
  list(filter: ExecutionFilter): Promise<ExecutionRecord[]>;
  /**
   * Waits while the execution's status is in `statuses`, up to `ms`; returns it as it then is.
   * The wait is woken by the change itself (in process, or by NOTIFY from another node).
   */
  waitWhile(merchant: Merchant, workflowCode: string, id: string, statuses: ReadonlySet<string>, ms: number, signal?: AbortSignal): Promise<ExecutionView | undefined>;
  /**
   * The execution behind a shopper's `consumerWait` link (the id is the capability), once authorize
   * was called; while the authorization is running, waits up to `ms` for its next step.
   */
  forShopper(id: string, ms: number, signal?: AbortSignal): Promise<ExecutionRecord | undefined>;
  patchMeta(merchant: Merchant, workflowCode: string, id: string, patch: Record<string, unknown>): Promise<ExecResult<ExecutionRecord>>;
  authorize(merchant: Merchant, workflowCode: string, id: string, input: { amount: Money; returnInfo: ReturnInfo; paymentMethodCode: string; instrumentId: string; baseUrl: string }): Promise<ExecResult<ActionAck>>;
  capture(merchant: Merchant, workflowCode: string, id: string, input: { amount: Money | undefined; final: boolean; reason?: string; reasonDescription?: string }): Promise<ExecResult<ActionAck>>;
  cancel(merchant: Merchant, workflowCode: string, id: string, input: { reason?: string; reasonDescription?: string }): Promise<ExecResult<ActionAck>>;
  refund(merchant: Merchant, workflowCode: string, id: string, input: { amount: Money | undefined; reason?: string; reasonDescription?: string }): Promise<ExecResult<ActionAck>>;
  /** The shopper finished the challenge; runs the cascade with the authentication result. Returns the execution after it. */
  challengeDone(executionId: string, outcome: 'completed' | 'failed' | 'cancelled', authentication: AuthorizeRequest['authentication'],
    resultOf?: (cardId: string) => Promise<AuthorizeRequest['authentication']>): Promise<ExecutionRecord | undefined>;
  /** Picks up authorizations a crash or a lost PSP answer left unfinished; returns how many moved on. */
  resume(): Promise<number>;
  /** Background authorizations still running in this process (tests and shutdown wait for them). */
  idle(): Promise<void>;
}

const failureOf = (resultCode: string | undefined): FailureInfo => {
  const category = declineCategoryOf(resultCode ?? '');
  const reason: FailureInfo['reason'] = category === 'hard' ? 'declined_hard' : category === 'error' ? 'provider_error' : 'declined_soft';
  return resultCode ? { reason, resultCode } : { reason };
};

export function createExecutionService(deps: {
  uow: UnitOfWork;
  store: ExecutionStore;
  merchants: MerchantService;
  payments: PaymentService;
  cascade: Cascade;
  workflows: WorkflowService;
  instruments: InstrumentService;
  waiters: Waiters;
  clock: Clock;
  ids: Ids;
  logger: Logger;
  threeds?: ThreeDsGate;
  /**
   * How long an authorization may stand unchanged before `resume()` takes it up (its node crashed
   * or a PSP answer was lost); a PSP call in flight is never taken up, whatever its age.
   */
  resumeAfterMs?: number;
  /** The webhook body of an event (the dialect's renderer, injected by the composition root). */
  renderEvent: (e: ExecutionRecord, ev: EventSpec) => Readonly<Record<string, unknown>>;
}): ExecutionService {
  const { uow, store, merchants, payments, cascade, workflows, instruments, waiters, clock, ids, logger } = deps;
  const running = new Set<Promise<unknown>>();

  /** Appends history entries, moves status (checked against the state machine) and writes the event, in the caller's transaction. */
  async function change(w: Writers, e: ExecutionRecord, to: {
    status?: ExecutionStatus; entries: { code: HistoryCode; errors?: readonly FailureInfo[] }[];
    patch?: Partial<ExecutionRecord>; event?: EventSpec;
  }): Promise<ExecutionRecord> {
    const status = to.status ?? e.status;
    if (status !== e.status && !canMove(e.status, status)) throw new Error(`illegal execution transition ${e.status} → ${status} on ${e.id}`);
    const history: HistoryEntry[] = [...e.history];
    for (const entry of to.entries) history.push({ code: entry.code, time: nextTime(history, clock.now()), ...(entry.errors ? { errors: entry.errors } : {}) });
    const next: ExecutionRecord = { ...e, ...to.patch, status, history, version: e.version + 1, updatedAt: history.at(-1)?.time ?? clock.now() };
    await w.executions.update(next);
    if (to.event) await w.event(eventOf(next, to.event));
    await w.executions.notify(next.id);
    return next;
  }

  function eventOf(e: ExecutionRecord, ev: EventSpec) {
    // The payload is the full webhook body, rendered by the dialect (wire money is printed there).
    return { id: ids.hex32(), merchantId: e.merchantId, type: `execution.${ev.name}`, subjectId: e.id, createdAt: clock.now(), payload: deps.renderEvent(e, ev) };
  }

  /** Commits a change and wakes this process's long-polls (other nodes hear the NOTIFY). */
  async function commit<T>(id: string, fn: (w: Writers) => Promise<T>): Promise<T> {
    const r = await uow.run((tx) => fn({ executions: store.writer(tx), event: (e) => addOutboxEvent(tx, e) }));
    waiters.wake(id);
    return r;
  }

  async function own(merchant: Merchant, workflowCode: string, id: string): Promise<ExecutionRecord | undefined> {
    const e = await store.get(id);
    return e && e.merchantId === merchant.id && e.workflowCode === workflowCode ? e : undefined;
  }

  async function viewOf(e: ExecutionRecord): Promise<ExecutionView> {
    const attempts = e.authorize ? await cascade.attempts(e.id) : [];
    let totals: ExecutionView['totals'];
    if (e.paymentId) {
      const p = await payments.transactionsOf(e.paymentId);
      if (p) { const t = totalsOf(p.transactions); totals = { authorized: t.authorized, captured: t.captured, refunded: t.refunded }; }
    }
    return { execution: e, attempts, totals };
  }

  const lastAction = (e: ExecutionRecord, name: ActionName) => [...e.actions].reverse().find((a) => a.name === name);
  const completeAction = (e: ExecutionRecord, id: string, success: boolean): ActionRecord[] =>
    e.actions.map((a) => (a.id === id ? { ...a, success } : a));

  /** Records the cascade's outcome on the execution (idempotent: only from an authorize-in-progress status). */
  async function finishAuthorize(id: string, outcome: CascadeOutcome): Promise<ExecutionRecord | undefined> {
    return commit(id, async (w) => {
      const e = await w.executions.lock(id);
      if (!e || !(e.status === 'authorizeRequested' || e.status === 'authorizePending' || e.status === 'unknown')) return e;
      const action = lastAction(e, 'authorize')!;
      switch (outcome.kind) {
        case 'approved':
          return change(w, e, {
            status: 'authorized', entries: [{ code: 'authorizeSuccessful' }],
            patch: { paymentId: outcome.attempt.id, action: undefined, actions: completeAction(e, action.id, true) },
            event: { name: 'executionActionCompleted', action, success: true },
          });
        case 'unknown':
          if (e.status === 'unknown') return e;
          return change(w, e, {
            status: 'unknown', entries: [{ code: 'authorizeUnknown' }], patch: { action: undefined },
            event: { name: 'executionActionUpdated', action },
          });
        case 'declined':
        case 'rejected': {
          const errors = [outcome.kind === 'declined'
            ? failureOf(outcome.attempt.resultCode)
            : { reason: outcome.error === 'card_expired' || outcome.error === 'card_not_found' ? 'invalid_instrument' as const : 'not_allowed' as const }];
          return change(w, e, {
            status: 'authorizeFailed', entries: [{ code: 'authorizeFailed', errors }],
            patch: { action: undefined, actions: completeAction(e, action.id, false) },
            event: { name: 'executionActionCompleted', action, success: false, errors },
          });
        }
      }
    });
  }

  /** Runs an authorization forward from wherever it stands: challenge first when needed, then the cascade. */
  async function drive(id: string): Promise<ExecutionRecord | undefined> {
    const e = await store.get(id);
    if (!e?.authorize) return e;
    const merchant = await merchants.byId(e.merchantId);
    if (!merchant) return e;
    const auth = e.authorize;
    let authentication = auth.authentication;
    if (e.status === 'authorizeRequested' && deps.threeds && !auth.challengeDone && !auth.authentication) {
      const decision = await deps.threeds.authenticate({ merchant, execution: e, cardId: auth.cardId, amount: auth.amount, returnInfo: auth.returnInfo });
      if (decision.kind === 'refused') {
        return commit(id, async (w) => {
          const locked = await w.executions.lock(id);
          if (!locked || locked.status !== 'authorizeRequested') return locked;
          const action = lastAction(locked, 'authorize')!;
          const errors: FailureInfo[] = [{ reason: 'authentication_error', resultCode: decision.resultCode }];
          return change(w, locked, {
            status: 'authorizeFailed', entries: [{ code: 'authorizeFailed', errors }], patch: { actions: completeAction(locked, action.id, false) },
            event: { name: 'executionActionCompleted', action, success: false, errors },
          });
        });
      }
      if (decision.kind === 'authenticated') authentication = decision.authentication;
      if (decision.kind === 'challenge') {
        const wf = await workflows.workflow(e.merchantId, e.workflowCode);
        return commit(id, async (w) => {
          const locked = await w.executions.lock(id);
          if (!locked || locked.status !== 'authorizeRequested') return locked;
          return change(w, locked, {
            status: 'authorizePending', entries: [{ code: 'authorizePending' }], patch: { action: decision.action },
            ...(wf?.notifyPending ? { event: { name: 'executionActionPending' as const, action: lastAction(locked, 'authorize')! } } : {}),
          });
        });
      }
    }
    if (e.status === 'authorizePending' && !auth.challengeDone) return e;
    if (!(e.status === 'authorizeRequested' || e.status === 'authorizePending' || e.status === 'unknown')) return e;
    const outcome = await cascade.run({
      cascadeId: e.id, merchant, entity: await merchants.executionsEntity(merchant), amount: auth.amount, cardId: auth.cardId,
      cvv: takeCvvOrSay(id, auth.instrumentId), rules: await workflows.rulesOf(e.merchantId, e.workflowCode),
      authentication, merchantTransactionId: e.merchantReference,
    });
    // An attempt recorded but not answered: its PSP call is still running (here or on another node),
    // or its node died and the engine's reconciler will settle it. Either way the outcome is not
    // unknown yet: the execution stays as it is, and resume() takes it up once the attempt settles.
    if (outcome.kind === 'unknown' && outcome.attempt.status === 'pending' && outcome.attempt.resultCode === undefined) return e;
    return finishAuthorize(id, outcome);
  }

  /** The CVV lives in memory only: after use, expiry or a restart it is gone, and the log says so. */
  function takeCvvOrSay(executionId: string, instrumentId: string) {
    const cvv = instruments.takeCvv(instrumentId);
    if (!cvv) logger.info({ executionId, instrumentId }, 'no security code held for this instrument (used, expired or the gateway restarted); authorizing without it');
    return cvv;
  }

  function inBackground(p: Promise<unknown>) {
    const tracked = p.catch((err) => logger.error({ err: String(err) }, 'execution authorization failed to run')).finally(() => running.delete(tracked));
    running.add(tracked);
  }

  /** Runs one engine back-office operation on the execution's payment and returns the view of it. */
  async function engine(merchant: Merchant, e: ExecutionRecord, type: BackOfficeType, amount: Money | undefined) {
    return payments.backOffice({
      merchant, entity: await merchants.executionsEntity(merchant), type, referencedId: e.paymentId!, amount,
      merchantTransactionId: e.merchantReference, echo: {}, testParameters: {},
    });
  }

  /** A back-office action: checked by the engine's rules before anything is written, then requested, run and recorded. */
  async function backOfficeAction(merchant: Merchant, workflowCode: string, id: string, name: 'capture' | 'refund' | 'cancel',
    input: { amount: Money | undefined; final?: boolean; reason?: string; reasonDescription?: string }): Promise<ExecResult<ActionAck>> {
    const e = await own(merchant, workflowCode, id);
    if (!e) return { ok: false, error: 'not_found' };
    if (!e.paymentId) return { ok: false, error: 'not_allowed', detail: `${name} needs an authorized execution; it is ${e.status}` };
    if (name === 'capture' && e.captureClosed) return { ok: false, error: 'not_allowed', detail: 'a final capture was made already' };
    if (!backOfficeFrom[name].includes(e.status)) return { ok: false, error: 'not_allowed', detail: `${name} is not allowed while the execution is ${e.status}` };
    const p = (await payments.transactionsOf(e.paymentId))!;
    const currency = initialOf(p.transactions).amount.currency;
    const t = totalsOf(p.transactions);
    if (input.amount && input.amount.currency !== currency) return { ok: false, error: 'currency_mismatch' };
    // The engine's rules decide, on the payment as it is now; the dialect holds none of its own.
    const plan: { type: BackOfficeType; amount: Money | undefined }[] = [];
    if (name === 'capture') plan.push({ type: 'CP', amount: input.amount ?? { amount: t.authorized - t.captured - t.inFlightCaptures, currency } });
    if (name === 'refund') plan.push({ type: 'RF', amount: input.amount ?? { amount: t.captured - t.refunded - t.inFlightRefunds, currency } });
    if (name === 'cancel') {
      const c = cancelPlan(p.transactions);
      if (c.refund) plan.push({ type: 'RF', amount: c.refund });
      if (c.voidOpen) plan.push({ type: 'RV', amount: undefined });
      if (plan.length === 0) return { ok: false, error: 'not_allowed', detail: 'nothing is left to cancel' };
    }
    for (const step of plan) {
      if (step.amount && step.amount.amount <= 0) return { ok: false, error: 'not_allowed', detail: `nothing is left to ${name}` };
      const decided = decideBackOffice(p.transactions, { type: step.type, amount: step.amount, target: p.transactions[0]! });
      if (!decided.ok) return { ok: false, error: decided.error };
    }
    const action: ActionRecord = {
      id: randomUUID(), name, requestedAt: clock.now(), ...(plan[0]!.amount && name !== 'cancel' ? { amount: plan[0]!.amount } : {}),
      ...(input.reason ? { reason: input.reason } : {}), ...(input.reasonDescription ? { reasonDescription: input.reasonDescription } : {}),
    };
    const requested = await commit(id, async (w) => {
      const locked = (await w.executions.lock(id))!;
      if (locked.version !== e.version) return undefined;
      return change(w, locked, {
        ...(name === 'capture' ? { status: 'captureRequested' as const } : {}),
        entries: [{ code: `${name}Requested` }], patch: { actions: [...locked.actions, action] },
        event: { name: 'executionActionRequested', action, trigger: 'api' },
      });
    });
    if (!requested) return { ok: false, error: 'not_allowed', detail: 'the execution changed meanwhile; retry' };
    let success = true;
    let failure: FailureInfo | undefined;
    let pending = false;
    for (const step of plan) {
      const r = await engine(merchant, requested, step.type, step.amount);
      const status = r.ok ? r.value.transaction.status : 'failed';
      if (status === 'pending' || status === 'unknown') { pending = true; break; }
      if (status === 'failed') {
        success = false;
        failure = r.ok ? failureOf(r.value.transaction.resultCode) : { reason: 'not_allowed' };
        break;
      }
    }
    // A final partial capture releases the rest of the authorization.
    if (name === 'capture' && success && !pending && input.final) {
      const after = (await payments.transactionsOf(e.paymentId))!;
      if (cancelPlan(after.transactions).voidOpen) await engine(merchant, requested, 'RV', undefined);
    }
    const done = await recordBackOffice(id, action, success, failure, pending, name === 'capture' && input.final === true);
    return { ok: true, value: { execution: done, action } };
  }

  /** Derives the execution's status from the payment after a back-office action and records it. */
  async function recordBackOffice(id: string, action: ActionRecord, success: boolean, failure: FailureInfo | undefined, pending: boolean, closeCapture: boolean): Promise<ExecutionRecord> {
    const e0 = (await store.get(id))!;
    const p = (await payments.transactionsOf(e0.paymentId!))!;
    const t = totalsOf(p.transactions);
    return commit(id, async (w) => {
      const e = (await w.executions.lock(id))!;
      if (pending) return e;
      const name = action.name;
      let status: ExecutionStatus;
      if (!success) status = name === 'capture' ? 'captureFailed' : name === 'refund' ? 'refundFailed' : e.status;
      else if (name === 'cancel') status = 'cancelled';
      else if (name === 'capture') status = t.captured >= t.authorized || closeCapture ? 'captured' : 'partiallyCaptured';
      else status = t.refunded >= t.captured ? 'refunded' : 'partiallyRefunded';
      const code: HistoryCode = success ? `${name}Successful` : `${name}Failed`;
      return change(w, e, {
        status, entries: [{ code, ...(failure ? { errors: [failure] } : {}) }],
        patch: { actions: completeAction(e, action.id, success), ...(closeCapture && success ? { captureClosed: true } : {}) },
        event: { name: 'executionActionCompleted', action, success, ...(failure ? { errors: [failure] } : {}) },
      });
    });
  }

  const service: ExecutionService = {
    async create(merchant, workflowCode, input) {
      const now = clock.now();
      const e: ExecutionRecord = {
        id: randomUUID(), merchantId: merchant.id, workflowCode, merchantReference: input.merchantReference,
        holderReference: input.holderReference, workspaceId: input.workspaceId, meta: input.meta, status: 'created',
        history: [{ code: 'created', time: now }], authorize: undefined, paymentId: undefined, action: undefined, actions: [],
        captureClosed: false, version: 1, createdAt: now, updatedAt: now,
      };
      await commit(e.id, async (w) => {
        await w.executions.insert(e);
        await w.event(eventOf(e, { name: 'executionCreated', trigger: 'api' }));
      });
      return e;
    },

    async view(merchant, workflowCode, id) {
      const e = await own(merchant, workflowCode, id);
      return e ? viewOf(e) : undefined;
    },

    list: (filter) => store.list(filter),

    async waitWhile(merchant, workflowCode, id, statuses, ms, signal) {
      const deadline = clock.now() + ms;
      for (;;) {
        // Registered before the read, so a change committed between the two still wakes it.
        const woken = waiters.wait(id, Math.max(0, deadline - clock.now()), signal);
        const e = await own(merchant, workflowCode, id);
        if (!e) { waiters.wake(id); return undefined; }
        if (!statuses.has(e.status) || clock.now() >= deadline || signal?.aborted) {
          waiters.wake(id);
          return viewOf(e);
        }
        if (!(await woken)) return viewOf((await store.get(id))!);
      }
    },

    async forShopper(id, ms, signal) {
      const e = await store.get(id);
      if (!e?.authorize || shopperStepOf(e)?.kind !== 'running') return e?.authorize ? e : undefined;
      const merchant = await merchants.byId(e.merchantId);
      if (!merchant) return undefined;
      return (await service.waitWhile(merchant, e.workflowCode, id, new Set([e.status]), ms, signal))?.execution;
    },

    async patchMeta(merchant, workflowCode, id, patch) {
      const e = await own(merchant, workflowCode, id);
      if (!e) return { ok: false, error: 'not_found' };
      return commit(id, async (w) => {
        const locked = (await w.executions.lock(id))!;
        if (metaLocked(locked.status)) return { ok: false, error: 'not_allowed', detail: `meta is locked once authorize completed (status ${locked.status})` } as const;
        const meta = mergePatch(locked.meta, patch) as Record<string, unknown>;
        const next: ExecutionRecord = { ...locked, meta, version: locked.version + 1, updatedAt: clock.now() };
        await w.executions.update(next);
        await w.executions.notify(id);
        return { ok: true, value: next } as const;
      });
    },

    async authorize(merchant, workflowCode, id, input) {
      const e = await own(merchant, workflowCode, id);
      if (!e) return { ok: false, error: 'not_found' };
      const instrument = await instruments.get(merchant.id, input.instrumentId);
      if (!instrument || instrument.status === 'deleted') return { ok: false, error: 'instrument_not_found' };
      if (e.holderReference !== undefined && instrument.holderReference !== e.holderReference) return { ok: false, error: 'instrument_not_found' };
      const action: ActionRecord = { id: randomUUID(), name: 'authorize', requestedAt: clock.now(), amount: input.amount };
      const acked = await commit(id, async (w) => {
        const locked = (await w.executions.lock(id))!;
        // One authorization per execution; a declined one is retried with a new execution.
        if (locked.status !== 'created') return undefined;
        return change(w, locked, {
          status: 'authorizeRequested', entries: [{ code: 'authorizeRequested' }],
          patch: {
            authorize: { amount: input.amount, returnInfo: input.returnInfo, paymentMethodCode: input.paymentMethodCode, instrumentId: instrument.id, cardId: instrument.cardId, baseUrl: input.baseUrl },
            actions: [...locked.actions, action],
          },
          event: { name: 'executionActionRequested', action, trigger: 'api' },
        });
      });
      if (!acked) return { ok: false, error: 'not_allowed', detail: `authorize is allowed once, on a created execution (status ${e.status})` };
      // An ephemeral instrument is spent by its first authorization.
      if (instrument.status === 'transient') await instruments.markUsed(merchant.id, instrument.id);
      // Acknowledged once recorded; the cascade runs after the answer (the outcome arrives by long-poll or webhook).
      inBackground(drive(id));
      return { ok: true, value: { execution: acked, action } };
    },

    capture: (merchant, code, id, input) => backOfficeAction(merchant, code, id, 'capture', input),
    refund: (merchant, code, id, input) => backOfficeAction(merchant, code, id, 'refund', input),
    cancel: (merchant, code, id, input) => backOfficeAction(merchant, code, id, 'cancel', { amount: undefined, ...input }),

    async challengeDone(executionId, outcome, given, resultOf) {
      const current = await store.get(executionId);
      const authentication = given ?? (outcome === 'completed' && current?.authorize && resultOf ? await resultOf(current.authorize.cardId) : undefined);
      const updated = await commit(executionId, async (w) => {
        const e = await w.executions.lock(executionId);
        if (!e?.authorize || e.status !== 'authorizePending' || e.authorize.challengeDone) return undefined;
        if (outcome === 'completed') {
          return change(w, e, { entries: [], patch: { authorize: { ...e.authorize, challengeDone: true, ...(authentication ? { authentication } : {}) }, action: undefined } });
        }
        const action = lastAction(e, 'authorize')!;
        const errors: FailureInfo[] = [{ reason: outcome === 'cancelled' ? 'cancelled_by_payer' : 'authentication_failed' }];
        return change(w, e, {
          status: 'authorizeFailed', entries: [{ code: 'authorizeFailed', errors }],
          patch: { authorize: { ...e.authorize, challengeDone: true }, action: undefined, actions: completeAction(e, action.id, false) },
          event: { name: 'executionActionCompleted', action, success: false, errors },
        });
      });
      if (!updated) return store.get(executionId);
      if (updated.status !== 'authorizePending') return updated;
      return drive(executionId);
    },

    async resume() {
      // Left unchanged for a while: the node driving it crashed, or a PSP answer was lost.
      const stale = await store.stale(['authorizeRequested', 'authorizePending', 'unknown'], clock.now() - (deps.resumeAfterMs ?? 30_000), 50);
      let moved = 0;
      for (const e of stale) {
        if (e.status === 'authorizePending' && !e.authorize?.challengeDone) continue;
        const after = await drive(e.id);
        if (after && after.status !== e.status) moved++;
      }
      return moved;
    },

    async idle() {
      while (running.size > 0) await Promise.all([...running]);
    },
  };
  return service;
}

export type { TransactionView };
