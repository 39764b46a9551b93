import type { Money } from '../money/money.ts';
import type { Connector } from '../processors/connector.ts';
import type { Outcome } from '../processors/outcome.ts';
import type { Clock } from '../runtime/clock.ts';
import type { Ids } from '../runtime/ids.ts';
import type { Logger } from '../runtime/logger.ts';
import { eachIsolated } from '../jobs/isolated.ts';
import type { OperationKind } from './model.ts';
import type { AttemptRecord, PaymentStore } from './store.ts';

/**
 * A charge a PSP approved after the gateway had ended its attempt as failed. The merchant was told
 * the payment failed (and a cascade may have charged the card at the next PSP), so the money is
 * the cardholder's: the gateway takes it back at the PSP on its own, and only where it cannot does
 * an operator have to.
 */
export type Reversal = 'void' | 'refund';
/** `resolved`: an operator has dealt with one the gateway could not reverse. */
export type LateApprovalStatus = 'reversing' | 'reversed' | 'operator' | 'resolved';

export interface LateApproval {
  readonly attemptId: string;
  readonly paymentId: string;
  readonly merchantId: string;
  readonly accountId: string;
  /** What the PSP approved. */
  readonly operation: OperationKind;
  readonly pspReference: string | undefined;
  /** The PSP reference the reversal names: the late charge's own, or its payment's for a capture. */
  readonly originalReference: string | undefined;
  readonly amount: Money;
  readonly live: boolean;
  /** What undoes it; none when the gateway cannot (money it paid out or gave back). */
  readonly reversal: Reversal | undefined;
  /**
   * The current try's idempotency key at the PSP. A try that got no answer keeps it: it is looked up
   * under it, and sent again under it only if the PSP never received it. A refused try moved no
   * money, and the next gets a key of its own (a PSP that keeps its answer per key, as Stripe does,
   * would otherwise repeat the refusal).
   */
  readonly reversalId: string;
  /** The try under `reversalId` is sent, and the PSP has not said how it ended (no answer yet, or pending). */
  readonly inDoubt: boolean;
  /** When the try under `reversalId` was first sent. */
  readonly triedAt: number | undefined;
  /** How many times the try under `reversalId` was sent (more than once: a refusal may be of the repeat alone). */
  readonly sends: number;
  readonly status: LateApprovalStatus;
  readonly refusals: number;
  readonly nextTryAt: number;
  readonly lastResult: string | undefined;
  readonly foundAt: number;
  readonly updatedAt: number;
}

export interface LateApprovalStore {
  /** False when the attempt's late approval is recorded already (a notification sent again). */
  record(a: LateApproval): Promise<boolean>;
  get(attemptId: string): Promise<LateApproval | undefined>;
  /** Reversals to try now, the longest waiting first. */
  due(now: number, limit: number): Promise<LateApproval[]>;
  /** Moves a row on, unless it changed since it was read (false then). */
  update(attemptId: string, from: Pick<LateApproval, 'status' | 'updatedAt'>,
    change: Pick<LateApproval, 'status' | 'reversalId' | 'inDoubt' | 'triedAt' | 'sends' | 'refusals' | 'nextTryAt' | 'lastResult' | 'updatedAt'>): Promise<boolean>;
  /** The late approval whose current reversal try is under this key. */
  byReversalId(reversalId: string): Promise<LateApproval | undefined>;
  /** Late approvals not reversed yet, waiting for a try or for an operator. */
  unsettled(): Promise<number>;
  /** The newest first; with `open`, only those waiting for a try or for an operator. */
  list(options: { open: boolean; limit: number }): Promise<LateApproval[]>;
  /** An operator has reversed (or otherwise settled) one not yet reversed; false when there is none such. */
  resolve(attemptId: string, note: string, at: number): Promise<boolean>;
}

/** A PSP that refused the reversal this many times will not take it: an operator must act. */
export const maxRefusals = 5;

/** What the gateway itself ended as failed, so that an approval of it is a charge nobody was told of. */
export const endedByGateway = (reason: string | undefined) => reason === 'not_received' || reason === 'expired';

/** Undone by a void while only authorized, by a refund once money moved; what the gateway paid out or gave back it cannot take back. */
export function reversalOf(operation: OperationKind): Reversal | undefined {
  switch (operation) {
    case 'authorize': return 'void';
    case 'sale': case 'rebill': case 'capture': return 'refund';
    default: return undefined;
  }
}

/** A pending reversal is asked about again after this long, if its notification has not come. */
const pendingRecheckMs = 15 * 60_000;
/** A reversal whose fate the PSP has not told for this long (no answer, no lookup, no notification) goes to an operator. */
export const inDoubtLimitMs = 24 * 3_600_000;

/** Minutes between refused tries: 2, 4, 8, 16. */
const backoffMs = (refusals: number) => 2 ** refusals * 60_000;

export interface LateApprovals {
  /**
   * Records the PSP's approval of an attempt the gateway had ended as failed, with the reversal it
   * owes; the `reverse-late-approvals` job makes it. False when it was recorded already.
   */
  found(attempt: AttemptRecord, outcome: Extract<Outcome, { kind: 'approved' }>): Promise<boolean>;
  /** Tries every reversal that is due; returns how many the PSP took. */
  reverseDue(): Promise<number>;
  /**
   * A PSP's notification about one of the gateway's reversals (named by its key): its final word on
   * a try that was pending or unanswered. False when the key names no reversal of that account.
   */
  reversalSettled(accountId: string, reversalId: string, outcome: Exclude<Outcome, { kind: 'unknown' }>): Promise<boolean>;
}

export function createLateApprovals(deps: {
  store: LateApprovalStore;
  payments: PaymentStore;
  connectorFor: (accountId: string) => Promise<Connector | undefined>;
  clock: Clock;
  ids: Ids;
  logger: Logger;
  pspTimeoutMs: number;
}): LateApprovals {
  const { store, payments, clock, logger } = deps;

  /** The reversal's answer, bounded by the PSP timeout; a lost or broken answer is unknown. */
  async function send(connector: Connector, a: LateApproval, reversal: Reversal): Promise<Outcome> {
    let timer: NodeJS.Timeout | undefined;
    // Unref'd: a call still out does not hold a stopping process open (the reversal stays in doubt, looked up after a restart).
    const timeout = new Promise<Outcome>((resolve) => { timer = setTimeout(resolve, connector.timeoutMs ?? deps.pspTimeoutMs, { kind: 'unknown' }).unref(); });
    try {
      return await Promise.race([connector.execute({
        operation: reversal, attemptId: a.reversalId, amount: a.amount, live: a.live, originalReference: a.originalReference, testParameters: {},
      }), timeout]);
    } catch (err) {
      logger.warn({ err: String(err), attemptId: a.attemptId, reversalId: a.reversalId }, 'a late approval\'s reversal got no answer');
      return { kind: 'unknown' };
    } finally {
      clearTimeout(timer);
    }
  }

  type Change = Partial<Pick<LateApproval, 'status' | 'reversalId' | 'inDoubt' | 'triedAt' | 'sends' | 'refusals' | 'nextTryAt'>> & { lastResult: string };
  /** Moves the row on from `a` as it was read; the row as moved, or undefined when it had changed meanwhile. */
  async function move(a: LateApproval, c: Change): Promise<LateApproval | undefined> {
    const next: LateApproval = { ...a, ...c, updatedAt: Math.max(clock.now(), a.updatedAt + 1) };
    return await store.update(a.attemptId, a, next) ? next : undefined;
  }

  const contextOf = (a: LateApproval) => ({ paymentId: a.paymentId, attemptId: a.attemptId, accountId: a.accountId, pspReference: a.pspReference, reversalId: a.reversalId });

  /**
   * What the PSP said of the reversal under the row's current key, applied: taken (approved), still
   * to be confirmed (pending: in doubt until its notification or a lookup), refused (a new key, a
   * backoff, an operator after the fifth) or unanswered (in doubt). Once a try was sent more than
   * once under its key, a refusal in its answer or found by a lookup may be of the repeat alone ("that
   * key is taken": an OPP acquirer's duplicate transaction id, which its query then lists under the
   * same key; Adyen's request still in progress), so it proves nothing and the try stays in doubt;
   * only the PSP's notification (`notified`) is its word on the try itself. `moved`: the row was
   * changed (it was not, if something else moved it since it was read).
   */
  async function apply(a: LateApproval, outcome: Outcome, timeoutMs: number, notified = false): Promise<{ moved: boolean; taken: boolean }> {
    const now = clock.now();
    const code = 'acquirerCode' in outcome && outcome.acquirerCode ? ` (${outcome.acquirerCode})` : '';
    const inDoubt = async (lastResult: string, wait: number) => ({ moved: await move(a, { status: 'reversing', inDoubt: true, nextTryAt: now + wait, lastResult }) !== undefined, taken: false });
    switch (outcome.kind) {
      case 'approved': {
        const moved = await move(a, { status: 'reversed', inDoubt: false, lastResult: `${a.reversal} approved${code}` });
        if (moved) logger.warn({ ...contextOf(a), reversal: a.reversal }, 'a late approval was reversed at the PSP');
        else if ((await store.get(a.attemptId))?.status === 'resolved') {
          // An operator settled it by hand while this try was at the PSP, which has now made it too.
          logger.error({ ...contextOf(a), reversal: a.reversal }, 'the PSP made a late approval\'s reversal that an operator resolved by hand: check the cardholder was not refunded twice');
        }
        return { moved: moved !== undefined, taken: moved !== undefined };
      }
      case 'declined': {
        if (a.sends > 1 && !notified) return inDoubt(`${a.reversal} sent again, refused${code}: the first send may have been made`, 2 * timeoutMs);
        const refusals = a.refusals + 1;
        const lastResult = `${a.reversal} refused: ${outcome.reason}${code}`;
        // It moved no money: the next try is a request of its own, under a key of its own.
        const fresh = { status: 'reversing' as const, reversalId: deps.ids.hex32(), inDoubt: false, triedAt: undefined, sends: 0, refusals, lastResult };
        const last = refusals >= maxRefusals;
        const moved = await move(a, last ? { ...fresh, status: 'operator' } : { ...fresh, nextTryAt: now + backoffMs(refusals) });
        if (moved && last) logger.error({ ...contextOf(a), lastResult, refusals }, 'the PSP refused a late approval\'s reversal every time: reverse the charge at the PSP');
        return { moved: moved !== undefined, taken: false };
      }
      case 'pending':
        // Accepted, not yet done (Adyen answers every cancel and refund so): its notification, or a
        // lookup once it is due, says how it ended. Until then the money is not back.
        return inDoubt(`${a.reversal} pending at the PSP${code}`, Math.max(2 * timeoutMs, pendingRecheckMs));
      default:
        return inDoubt(`${a.reversal} unanswered`, 2 * timeoutMs);
    }
  }

  async function reverse(read: LateApproval): Promise<boolean> {
    let a = read;
    const now = clock.now();
    const connector = await deps.connectorFor(a.accountId);
    const reversal = a.reversal;
    if (!reversal || !connector || !connector.operations.includes(reversal)) {
      const why = !reversal ? `a ${a.operation} cannot be undone by the gateway`
        : !connector ? 'the PSP account is gone' : `the PSP account cannot ${reversal}`;
      await move(a, { status: 'operator', lastResult: why });
      logger.error({ ...contextOf(a), why }, 'a late approval cannot be reversed by the gateway: reverse the charge at the PSP');
      return false;
    }
    const timeoutMs = connector.timeoutMs ?? deps.pspTimeoutMs;
    if (a.inDoubt) {
      const sentAt = a.triedAt ?? a.updatedAt;
      // The last try may have been made: the PSP is asked before anything is sent again, since a
      // PSP that does not dedupe by key (an OPP acquirer's refunds) would refund twice.
      let known: Awaited<ReturnType<Connector['lookup']>>;
      let unknowable = false;
      try {
        known = await connector.lookup(a.reversalId, { operation: reversal, amount: a.amount, originalReference: a.originalReference, pspReference: undefined });
      } catch (err) {
        logger.warn({ ...contextOf(a), err: String(err) }, 'a late approval\'s reversal could not be looked up');
        unknowable = true;
      }
      if (known && known.kind !== 'pending') return (await apply(a, known, timeoutMs)).taken;
      if (now - sentAt >= inDoubtLimitMs) {
        const hours = Math.round((now - sentAt) / 3_600_000);
        const why = known?.kind === 'pending' || a.lastResult?.includes('pending')
          ? `${reversal} still pending at the PSP after ${hours} h`
          : `${reversal} unconfirmed for ${hours} h: the PSP has not said whether it was made`;
        await move(a, { status: 'operator', lastResult: why });
        logger.error({ ...contextOf(a), why }, 'a late approval\'s reversal was never confirmed: check it at the PSP');
        return false;
      }
      // Asked as the reconciler asks: "not found" within the PSP's lag means "not yet".
      const notYet = !unknowable && !known && now - sentAt < (connector.lookupLagMs ?? 0);
      // Sent again under its key only where that is safe: the PSP never received it, or it answers
      // a repeat with the first request's outcome (Adyen, Stripe) and cannot be asked.
      const again = !unknowable && !known ? !notYet : unknowable && connector.dedupesByKey === true;
      if (!again) {
        const wait = known?.kind === 'pending' ? Math.max(2 * timeoutMs, pendingRecheckMs) : 2 * timeoutMs;
        await move(a, { nextTryAt: now + wait, lastResult: `${a.reversal} ${known ? 'pending at the PSP' : unknowable ? 'unanswered, not found out yet' : 'unanswered, not found yet'}` });
        return false;
      }
    }
    // Claimed before the call (rule 1 of the write path: intent, call, outcome): another node that
    // read the row before this one finds it changed and stays away, and a crash during the call
    // leaves it in doubt, to be looked up, never blindly sent again.
    const resent = a.inDoubt;
    const claimed = await move(a, { inDoubt: true, triedAt: resent ? a.triedAt : now, sends: a.sends + 1, nextTryAt: now + 2 * timeoutMs, lastResult: `${a.reversal} sent` });
    if (!claimed) return false;
    a = claimed;
    // A pass that stalled after its claim (a long pause, a frozen VM) until the claim has no room
    // left for the call sends nothing: another node may have found the row in doubt meanwhile, not
    // found the reversal at the PSP and sent it, and a PSP that does not dedupe by key would refund
    // twice. The row stays in doubt, looked up at its next try.
    if (clock.now() + timeoutMs >= a.nextTryAt) {
      logger.warn(contextOf(a), 'a late approval\'s reversal was not sent: this pass was held up past its claim');
      return false;
    }
    return (await apply(a, await send(connector, a, reversal), timeoutMs)).taken;
  }

  return {
    async found(attempt, outcome) {
      if (!endedByGateway(attempt.reason)) {
        // The PSP itself declined it (or reported a confirmed capture failed): an approval now
        // contradicts its own answer, and reversing on it could refund money that never moved.
        logger.warn({ paymentId: attempt.paymentId, attemptId: attempt.id, reason: attempt.reason, pspReference: outcome.pspReference },
          'a PSP approved an attempt it had declined; left as it is');
        return false;
      }
      const op = await payments.operation(attempt.operationId);
      const payment = await payments.payment(attempt.paymentId);
      if (!op || !payment) {
        logger.error({ paymentId: attempt.paymentId, attemptId: attempt.id, pspReference: outcome.pspReference },
          'a PSP approved an attempt the gateway had ended as failed: reverse the charge at the PSP');
        return false;
      }
      const operation = op.kind;
      const reversal = reversalOf(operation);
      // A capture is refunded through the payment it captured; anything else (a rebill too) through itself.
      const original = op.kind === 'capture' ? (await payments.operationsOf(payment.id)).find((o) => o.seq === 0)?.pspReference : outcome.pspReference;
      const now = clock.now();
      const recorded = await store.record({
        attemptId: attempt.id, paymentId: payment.id, merchantId: payment.merchantId, accountId: attempt.accountId, operation,
        pspReference: outcome.pspReference, originalReference: original, amount: op.amount, live: payment.live,
        reversal: original !== undefined ? reversal : undefined, reversalId: deps.ids.hex32(), inDoubt: false, triedAt: undefined, sends: 0, status: 'reversing', refusals: 0,
        nextTryAt: now, lastResult: undefined, foundAt: now, updatedAt: now,
      });
      if (recorded) {
        logger.error({ paymentId: payment.id, attemptId: attempt.id, accountId: attempt.accountId, reason: attempt.reason, pspReference: outcome.pspReference, reversal },
          'a PSP approved an attempt the gateway had ended as failed: the gateway reverses it');
      }
      return recorded;
    },

    async reversalSettled(accountId, reversalId, outcome) {
      if (outcome.kind === 'pending') return false;
      // Read again if the job moved the row meanwhile: the PSP sends its word once.
      for (let read = 0; read < 5; read++) {
        const a = await store.byReversalId(reversalId);
        if (!a || a.accountId !== accountId) return false;
        const context = { ...contextOf(a), answer: outcome.kind };
        if (a.status === 'resolved') {
          if (outcome.kind === 'approved') logger.error(context, 'the PSP confirms a late approval\'s reversal that an operator resolved by hand: check the cardholder was not refunded twice');
          return true;
        }
        if (a.status === 'operator' && outcome.kind === 'declined') return true;
        // A reversal the PSP confirmed and then reports failed (Adyen's REFUND_FAILED) is owed again.
        if (a.status === 'reversed' && outcome.kind === 'approved') return true;
        const connector = await deps.connectorFor(a.accountId);
        if ((await apply(a, outcome, connector?.timeoutMs ?? deps.pspTimeoutMs, true)).moved) return true;
      }
      logger.error({ reversalId, answer: outcome.kind }, 'a PSP\'s word on a late approval\'s reversal could not be recorded: the row kept changing');
      return false;
    },

    async reverseDue() {
      let reversed = 0;
      await eachIsolated(await store.due(clock.now(), 100), async (a) => { if (await reverse(a)) reversed++; }, logger, 'reverse-late-approvals', (a) => a.attemptId);
      return reversed;
    },
  };
}
