import assert from 'node:assert/strict';
import { opp, testCard, type Gateway } from './harness.ts';
import { suiteCards } from './fake-psps/bank.ts';

/**
 * A /v1 PA + CP of 50.00 EUR at the first account of the gateway's cascade, the PSP's
 * notifications delivered after each: its payment, its capture and the PSP's reference of it.
 */
export async function oppCaptured(gw: Gateway, deliver: () => Promise<void>): Promise<{ paymentId: string; captureId: string; pspReference: string }> {
  const pa = await opp(gw, 'POST', '/v1/payments', { ...testCard, 'card.number': suiteCards.approved, amount: '50.00', currency: 'EUR', paymentType: 'PA' });
  assert.match(pa.body.result.code, /^000\./, JSON.stringify(pa.body.result));
  await deliver();
  const cp = await opp(gw, 'POST', `/v1/payments/${pa.body.id}`, { paymentType: 'CP', amount: '50.00', currency: 'EUR' });
  assert.match(cp.body.result.code, /^000\./, JSON.stringify(cp.body.result));
  await deliver();
  const paymentId = pa.body.id as string;
  const opening = await gw.app.storage.db.selectFrom('transactions').select(['psp_reference']).where('payment_id', '=', paymentId).where('seq', '=', 0).executeTakeFirstOrThrow();
  return { paymentId, captureId: cp.body.id as string, pspReference: opening.psp_reference! };
}
