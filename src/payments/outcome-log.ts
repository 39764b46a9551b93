import type { Logger } from '../runtime/logger.ts';
import { attemptsOfOperation } from './model.ts';
import type { UnitOfWork } from '../storage/unit-of-work.ts';
import type { PaymentObserver } from './change.ts';

/** The outcomes an operation ends (or stops) in; recording, resuming and waiting are not outcomes. */
const outcomes = new Set(['succeeded', 'failed', 'unknown']);

/**
 * One business log line per operation outcome, written once its unit of work commits (a rolled-back
 * change never happened): what an operator greps for when a merchant asks about a payment. The
 * request id and trace id come from the request the work was done for (the logger's mixin); an
 * outcome the reconciler learns later is logged again, under its final status, without them.
 *
 * @example {"level":30,"msg":"payment operation failed","event":"payment.operation","paymentId":"…",
 *   "merchantId":"…","dialect":"opp","kind":"authorize","outcome":"failed","reason":"soft",
 *   "resultCode":"800.100.155","pspAccount":"psp-a","attempts":2,"durationMs":41,"requestId":"…","traceId":"…"}
 */
export function outcomeLogger(uow: UnitOfWork, logger: Logger): PaymentObserver {
  return {
    async paymentChanged(tx, change) {
      const o = change.operation;
      if (!outcomes.has(o.status)) return;
      const attempts = attemptsOfOperation(change.attempts, o.id);
      const last = attempts.at(-1);
      const line = {
        event: 'payment.operation', paymentId: change.payment.id, operationId: o.id, merchantId: change.payment.merchantId,
        dialect: change.payment.channel, kind: o.kind, outcome: o.status, reason: o.reason ?? null, resultCode: o.resultCode ?? null,
        amount: o.amount.amount, currency: o.amount.currency, paymentStatus: change.payment.status,
        pspAccount: last?.accountName ?? null, attempts: attempts.length, durationMs: Math.max(0, o.updatedAt - o.createdAt),
      };
      uow.afterCommit(tx, () => logger.info(line, `payment operation ${o.status}`));
    },
  };
}
