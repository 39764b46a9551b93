import type { MerchantService } from '../../merchants/service.ts';
import type { PaymentService } from '../../payments/service.ts';
import type { OppNotificationRenderer } from '../../webhooks/service.ts';
import { oppTimestamp, resultOf } from './envelope.ts';
import { modeOf, registrationEcho, renderTransaction } from './render.ts';
import { resultCodeOf } from './result-map.ts';
import { successCodeByMode } from '../../processors/result-codes.ts';
import type { DeclineReason, OperationStatus } from '../../payments/model.ts';

/**
 * /v1 notification bodies (reference §8.2): `{type, action?, payload}` where a PAYMENT payload is
 * the same JSON the API returns for the transaction, with the result the event recorded (a pending
 * notification stays pending even when rendered after the final answer), the event's time, and an
 * `ndc` fixed per event so every retry carries the same one.
 */
export function createOppNotificationRenderer(deps: { merchants: MerchantService; payments: PaymentService; buildNumber: string }): OppNotificationRenderer {
  const { merchants, payments, buildNumber } = deps;
  return {
    async event(e, route) {
      const merchant = await merchants.byId(e.merchantId);
      if (route.notificationType === 'REGISTRATION') {
        // As the registration call answered: its result (by mode), the envelope, a fixed ndc.
        const action = e.type.slice(e.type.indexOf('.') + 1).toUpperCase();
        const code = successCodeByMode[merchant?.live ? 'LIVE' : e.payload.testMode === 'EXTERNAL' ? 'EXTERNAL' : 'INTERNAL'];
        const registration = { ...(e.payload.registration ?? {}) as Record<string, unknown>, ...registrationEcho((e.payload.echo ?? {}) as Record<string, unknown>) };
        const entityId = route.entityId ?? e.payload.entityId;
        return {
          type: 'REGISTRATION', action,
          payload: { ...registration, result: resultOf(code), buildNumber, timestamp: oppTimestamp(e.createdAt), ndc: `${entityId}_${e.id}` },
        };
      }
      const entity = merchant && route.entityId ? await merchants.entityOf(merchant, route.entityId) : undefined;
      const operationId = e.payload.operationId;
      if (!merchant || !entity || typeof operationId !== 'string') return undefined;
      const found = await payments.find(merchant, { channel: 'opp', entityId: entity.id }, operationId);
      if (!found) return undefined;
      // The result as the event recorded it, not as the operation stands when this is rendered.
      const recorded = {
        status: e.payload.status as OperationStatus, reason: (e.payload.reason ?? undefined) as DeclineReason | undefined,
        resultCode: typeof e.payload.resultCode === 'string' ? e.payload.resultCode : undefined,
      };
      // A pending outcome is told as it stood then: its details, and its status, from which the
      // rest of the body follows (a later success's standingInstruction.initialTransactionId is not
      // told beside a pending result).
      const then = e.payload.details;
      const operation = {
        ...found.operation, ...(typeof recorded.status === 'string' ? { status: recorded.status } : {}),
        ...(then !== null && typeof then === 'object' ? { details: then as Record<string, string> } : {}),
      };
      const view = { ...found, operation, initial: found.initial.id === operation.id ? operation : found.initial };
      const payload = renderTransaction(view, entity.channelName);
      payload.result = resultOf(resultCodeOf(recorded, modeOf(view.payment, view.initial)));
      // As the platform's own notifications: the presentation amount beside the amount (the same,
      // no conversion here) and the entity the payment was made for.
      const presented = typeof payload.amount === 'string' ? { presentationAmount: payload.amount, presentationCurrency: payload.currency } : {};
      return {
        type: 'PAYMENT',
        payload: { ...payload, ...presented, authentication: { entityId: entity.id }, buildNumber, timestamp: oppTimestamp(e.createdAt), ndc: `${entity.id}_${e.id}` },
      };
    },
    activation(merchant) {
      return { type: 'test', action: 'webhook activation', payload: { result: resultOf(merchant.live ? '000.000.000' : '000.100.110') } };
    },
  };
}
