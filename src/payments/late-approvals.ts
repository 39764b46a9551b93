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
export type LateApprovalStatus = 'reversing' | 'reversed' | 'operator';

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
  /** The reversal's idempotency key at the PSP: every try sends the same one. */
  readonly reversalId: string;
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
    change: Pick<LateApproval, 'status' | 'refusals' | 'nextTryAt' | 'lastResult' | 'updatedAt'>): Promise<boolean>;
  /** Late approvals not reversed yet, waiting for a try or for an operator. */
  unsettled(): Promise<number>;
}

/** A PSP that refused the reversal this many times will not take it: an operator must act. */
export const maxRefusals = 5;

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
    const move = (status: LateApprovalStatus, lastResult: string, refusals = a.refusals, nextTryAt = a.nextTryAt) =>
      store.update(a.attemptId, a, { status, refusals, nextTryAt, lastResult, updatedAt: Math.max(now, a.updatedAt + 1) });
    const context = { paymentId: a.paymentId, attemptId: a.attemptId, accountId: a.accountId, pspReference: a.pspReference };
    if (!a.reversal || !connector || !connector.operations.includes(a.reversal)) {
      const why = !a.reversal ? `a ${a.operation} cannot be undone by the gateway`
        : !connector ? 'the PSP account is gone' : `the PSP account cannot ${a.reversal}`;
      await move('operator', why);
      logger.error({ ...context, why }, 'a late approval cannot be reversed by the gateway: reverse the charge at the PSP');
      return false;
    }
    const outcome = await send(connector, a, a.reversal);
    switch (outcome.kind) {
      case 'approved': case 'pending': {
        // A pending reversal is the PSP's acceptance of it (Adyen answers every cancel and refund so).
        const moved = await move('reversed', `${a.reversal} ${outcome.kind}${outcome.acquirerCode ? ` (${outcome.acquirerCode})` : ''}`);
        if (moved) logger.warn({ ...context, reversal: a.reversal, reversalId: a.reversalId, answer: outcome.kind }, 'a late approval was reversed at the PSP');
        return moved;
      }
      case 'declined': {
        const refusals = a.refusals + 1;
        const answer = `${a.reversal} refused: ${outcome.reason}${outcome.acquirerCode ? ` (${outcome.acquirerCode})` : ''}`;
        if (refusals >= maxRefusals) {
          await move('operator', answer, refusals);
          logger.error({ ...context, answer, refusals }, 'the PSP refused a late approval\'s reversal every time: reverse the charge at the PSP');
        } else {
          await move('reversing', answer, refusals, now + backoffMs(refusals));
        }
        return false;
      }
      default:
        // Unknown: the same reversal id is sent again later, so the PSP makes it at most once.
        await move('reversing', `${a.reversal} unanswered`, a.refusals, now + 2 * (connector.timeoutMs ?? deps.pspTimeoutMs));
        return false;
    }
  }

  return {
    async found(attempt, outcome) {
      const op = await payments.operation(attempt.operationId);
      const payment = await payments.payment(attempt.paymentId);
      if (!op || !payment) {
        logger.error({ paymentId: attempt.paymentId, attemptId: attempt.id, pspReference: outcome.pspReference },
          'a PSP approved an attempt the gateway had ended as failed: reverse the charge at the PSP');
        return false;
      }
      const operation = op.kind;
      const reversal = reversalOf(operation);
      // A capture is refunded through the payment it captured; anything else through itself.
      const original = op.seq > 0 ? (await payments.operationsOf(payment.id)).find((o) => o.seq === 0)?.pspReference : outcome.pspReference;
      const now = clock.now();
      const recorded = await store.record({
        attemptId: attempt.id, paymentId: payment.id, merchantId: payment.merchantId, accountId: attempt.accountId, operation,
        pspReference: outcome.pspReference, originalReference: original, amount: op.amount, live: payment.live,
        reversal: original !== undefined ? reversal : undefined, reversalId: deps.ids.hex32(), status: 'reversing', refusals: 0,
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
