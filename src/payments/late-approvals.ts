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
  /** The try under `reversalId` got no answer. */
  readonly inDoubt: boolean;
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
    change: Pick<LateApproval, 'status' | 'reversalId' | 'inDoubt' | 'refusals' | 'nextTryAt' | 'lastResult' | 'updatedAt'>): Promise<boolean>;
  /** Late approvals not reversed yet, waiting for a try or for an operator. */
  unsettled(): Promise<number>;
  /** The newest first; with `open`, only those waiting for a try or for an operator. */
  list(options: { open: boolean; limit: number }): Promise<LateApproval[]>;
  /** An operator has reversed (or otherwise settled) one left to them; false unless it waits for an operator. */
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
    const timeout = new Promise<Outcome>((resolve) => { timer = setTimeout(resolve, connector.timeoutMs ?? deps.pspTimeoutMs, { kind: 'unknown' }); });
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

  async function reverse(a: LateApproval): Promise<boolean> {
    const now = clock.now();
    const connector = await deps.connectorFor(a.accountId);
    type Change = Partial<Pick<LateApproval, 'status' | 'reversalId' | 'inDoubt' | 'refusals' | 'nextTryAt'>> & { lastResult: string };
    const move = (c: Change) => store.update(a.attemptId, a, {
      status: a.status, reversalId: a.reversalId, inDoubt: a.inDoubt, refusals: a.refusals, nextTryAt: a.nextTryAt, ...c, updatedAt: Math.max(now, a.updatedAt + 1),
    });
    const context = { paymentId: a.paymentId, attemptId: a.attemptId, accountId: a.accountId, pspReference: a.pspReference, reversalId: a.reversalId };
    if (!a.reversal || !connector || !connector.operations.includes(a.reversal)) {
      const why = !a.reversal ? `a ${a.operation} cannot be undone by the gateway`
        : !connector ? 'the PSP account is gone' : `the PSP account cannot ${a.reversal}`;
      await move({ status: 'operator', lastResult: why });
      logger.error({ ...context, why }, 'a late approval cannot be reversed by the gateway: reverse the charge at the PSP');
      return false;
    }
    const timeoutMs = connector.timeoutMs ?? deps.pspTimeoutMs;
    let outcome: Outcome | undefined;
    if (a.inDoubt) {
      // The last try may have been made: the PSP is asked before anything is sent again, since a
      // PSP that does not dedupe by key (an OPP acquirer's refunds) would refund twice.
      try {
        outcome = await connector.lookup(a.reversalId, { operation: a.reversal, amount: a.amount, originalReference: a.originalReference, pspReference: undefined });
      } catch (err) {
        logger.warn({ ...context, err: String(err) }, 'a late approval\'s unanswered reversal could not be looked up; asked again later');
        await move({ nextTryAt: now + 2 * timeoutMs, lastResult: `${a.reversal} unanswered, not found out yet` });
        return false;
      }
      if (!outcome && now - a.updatedAt < (connector.lookupLagMs ?? 0)) {
        await move({ nextTryAt: now + 2 * timeoutMs, lastResult: `${a.reversal} unanswered, not found yet` });
        return false;
      }
    }
    // Not tried yet, or the PSP never received the last try: sent under the same key.
    outcome ??= await send(connector, a, a.reversal);
    const code = 'acquirerCode' in outcome && outcome.acquirerCode ? ` (${outcome.acquirerCode})` : '';
    switch (outcome.kind) {
      case 'approved': case 'pending': {
        // A pending reversal is the PSP's acceptance of it (Adyen answers every cancel and refund so).
        const moved = await move({ status: 'reversed', inDoubt: false, lastResult: `${a.reversal} ${outcome.kind}${code}` });
        if (moved) logger.warn({ ...context, reversal: a.reversal, answer: outcome.kind }, 'a late approval was reversed at the PSP');
        return moved;
      }
      case 'declined': {
        const refusals = a.refusals + 1;
        const lastResult = `${a.reversal} refused: ${outcome.reason}${code}`;
        const fresh = { reversalId: deps.ids.hex32(), inDoubt: false, refusals, lastResult };
        if (refusals >= maxRefusals) {
          await move({ ...fresh, status: 'operator' });
          logger.error({ ...context, lastResult, refusals }, 'the PSP refused a late approval\'s reversal every time: reverse the charge at the PSP');
        } else {
          await move({ ...fresh, nextTryAt: now + backoffMs(refusals) });
        }
        return false;
      }
      default:
        await move({ inDoubt: true, nextTryAt: now + 2 * timeoutMs, lastResult: `${a.reversal} unanswered` });
        return false;
    }
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
        reversal: original !== undefined ? reversal : undefined, reversalId: deps.ids.hex32(), inDoubt: false, status: 'reversing', refusals: 0,
        nextTryAt: now, lastResult: undefined, foundAt: now, updatedAt: now,
      });
      if (recorded) {
        logger.error({ paymentId: payment.id, attemptId: attempt.id, accountId: attempt.accountId, reason: attempt.reason, pspReference: outcome.pspReference, reversal },
          'a PSP approved an attempt the gateway had ended as failed: the gateway reverses it');
      }
      return recorded;
    },

    async reverseDue() {
      let reversed = 0;
      await eachIsolated(await store.due(clock.now(), 100), async (a) => { if (await reverse(a)) reversed++; }, logger, 'reverse-late-approvals', (a) => a.attemptId);
      return reversed;
    },
  };
}
