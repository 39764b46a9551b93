import type { MerchantService } from '../../merchants/service.ts';
import type { PaymentService } from '../../payments/service.ts';
import type { OppNotificationRenderer } from '../../webhooks/service.ts';
import { oppTimestamp, resultOf } from './envelope.ts';
import { renderTransaction } from './render.ts';

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
      if (route.notificationType === 'REGISTRATION') {
        const action = e.type.slice(e.type.indexOf('.') + 1).toUpperCase();
        return { type: 'REGISTRATION', action, payload: e.payload.registration ?? {} };
      }
      const merchant = await merchants.byId(e.merchantId);
      const entity = merchant && route.entityId ? await merchants.entityOf(merchant, route.entityId) : undefined;
      const transactionId = e.payload.transactionId;
      if (!merchant || !entity || typeof transactionId !== 'string') return undefined;
      const view = await payments.find(merchant, entity, transactionId);
      if (!view) return undefined;
      const payload = renderTransaction(view, entity.channelName);
      if (typeof e.payload.resultCode === 'string') payload.result = resultOf(e.payload.resultCode);
      return { type: 'PAYMENT', payload: { ...payload, buildNumber, timestamp: oppTimestamp(e.createdAt), ndc: `${entity.id}_${e.id}` } };
    },
    activation(merchant) {
      return { type: 'test', action: 'webhook activation', payload: { result: resultOf(merchant.live ? '000.000.000' : '000.100.110') } };
    },
  };
}
