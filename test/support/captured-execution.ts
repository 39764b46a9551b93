/**
 * A gateway whose cascade holds an Adyen and a Stripe account, each at the project's fake of that
 * PSP (Adyen first), with helpers to deliver what each fake notifies; and an execution authorized
 * for 50.00 EUR and captured in full at one of them, as tests of what a PSP reports later
 * (chargebacks, actions taken in its portal) start from.
 */
import assert from 'node:assert/strict';
import { startGateway, type Gateway } from './harness.ts';
import { authorizeBody, call, configureCascade, execution, instrument, poll, tokenOf, wf } from './executions.ts';
import { suiteCards } from './fake-psps/bank.ts';
import { startAdyenFake, adyenFakeCredentials, type AdyenFake } from './fake-psps/adyen.ts';
import { startStripeFake, stripeFakeCredentials, type StripeFake } from './fake-psps/stripe.ts';
import { postPspNotification } from './psp-notifications.ts';

export interface GatewayAtPspFakes {
  readonly adyen: AdyenFake;
  readonly stripe: StripeFake;
  readonly gw: Gateway;
  readonly token: string;
  post(account: 'adyen' | 'stripe', body: string, headers?: Record<string, string>): ReturnType<typeof postPspNotification>;
  /** Posts every notification the Adyen fake has made since, each acknowledged `[accepted]`. */
  deliverAdyen(): Promise<void>;
  /** Posts every event the Stripe fake has made since, each acknowledged 200. */
  deliverStripe(): Promise<void>;
  close(): Promise<void>;
}

export async function gatewayAtPspFakes(env: Record<string, string> = {}): Promise<GatewayAtPspFakes> {
  const [adyen, stripe, gw] = await Promise.all([startAdyenFake(), startStripeFake(), startGateway({ env })]);
  const token = await tokenOf(gw);
  await configureCascade(gw, {
    adyen: { connector: 'adyen', settings: { baseUrl: adyen.url, ...adyenFakeCredentials } },
    stripe: { connector: 'stripe', settings: { baseUrl: stripe.url, ...stripeFakeCredentials } },
  }, ['adyen']);
  const post = (account: 'adyen' | 'stripe', body: string, headers: Record<string, string> = {}) => postPspNotification(gw, account, body, headers);
  return {
    adyen, stripe, gw, token, post,
    async deliverAdyen() { for (const body of adyen.takeNotifications()) assert.deepEqual(await post('adyen', body), { status: 200, text: '[accepted]' }); },
    async deliverStripe() { for (const e of stripe.takeEvents()) assert.equal((await post('stripe', e.body, { 'stripe-signature': e.signature })).status, 200); },
    async close() { await Promise.all([gw.close(), adyen.close(), stripe.close()]); },
  };
}

export async function capturedExecution(gw: Gateway, token: string, holder: string, deliver: () => Promise<void>) {
  const id = await execution(gw, token, holder);
  const ack = await call(gw, 'POST', `${wf}/${id}/authorize`, { token, body: authorizeBody(await instrument(gw, token, suiteCards.approved, holder), '50.00') });
  assert.equal(ack.status, 200, JSON.stringify(ack.body));
  const e = await poll(gw, token, id, ['created', 'authorizeRequested']);
  assert.equal(e.status, 'authorized', JSON.stringify(e.statusHistory?.at(-1)));
  await deliver();
  assert.equal((await call(gw, 'POST', `${wf}/${id}/capture`, { token, body: { amount: { value: '50.00', currency: 'EUR' }, final: true } })).status, 202);
  await deliver();
  assert.equal((await call(gw, 'GET', `${wf}/${id}`, { token })).body.status, 'captured');
  const paymentId: string = e.paymentComposition[0].paymentId;
  const opening = await gw.app.storage.db.selectFrom('transactions').select('psp_reference').where('payment_id', '=', paymentId).where('seq', '=', 0).executeTakeFirstOrThrow();
  const attempt = await gw.app.storage.db.selectFrom('attempts').select('id').where('payment_id', '=', paymentId).orderBy('created_at').executeTakeFirstOrThrow();
  return { id, paymentId, pspReference: opening.psp_reference!, authorizeAttemptId: attempt.id };
}
