/**
 * An executions instrument stored with its `futureUsage` is kept for later charges; its first
 * approved authorization is the one that sets the stored credential up, and its PSP is told so (as a
 * /v1 payment that registers its card is): Adyen `Ecommerce` with the recurring model of that use.
 * It went to the PSP as a one-off, the instrument's `futureUsage` stored and echoed but never used.
 * A later authorization the cardholder makes with it is a use of the kept card (`CardOnFile`), as the
 * schemes want it flagged; it too went as a one-off.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { gatewayAtPspFakes, type GatewayAtPspFakes } from './support/captured-execution.ts';
import { authorizeBody, call, execution, poll, wf } from './support/executions.ts';

let f: GatewayAtPspFakes;
before(async () => { f = await gatewayAtPspFakes(); });
after(() => f?.close());

type AdyenPayment = { shopperInteraction?: string; recurringProcessingModel?: string };
const lastAdyenPayment = () => f.adyen.requests.filter((r) => r.path === '/payments').at(-1)!.body as AdyenPayment;

async function storedInstrument(holder: string, futureUsage: string | undefined, storeInstrument = true): Promise<string> {
  const inst = await call(f.gw, 'POST', '/payment/instruments', {
    token: f.token, body: {
      holderReference: holder, paymentMethod: 'card', storeInstrument, ...(futureUsage ? { futureUsage } : {}),
      data: { cardNumber: '4111111111111111', expiryMonth: '03', expiryYear: '30', securityCode: '737', holderName: 'John Doe' },
    },
  });
  assert.equal(inst.status, 201, JSON.stringify(inst.body));
  return inst.body.id;
}

async function authorize(holder: string, instrumentId: string): Promise<AdyenPayment> {
  const id = await execution(f.gw, f.token, holder);
  assert.equal((await call(f.gw, 'POST', `${wf}/${id}/authorize`, { token: f.token, body: authorizeBody(instrumentId, '20.00') })).status, 200);
  const e = await poll(f.gw, f.token, id, ['created', 'authorizeRequested']);
  assert.equal(e.status, 'authorized', JSON.stringify(e.statusHistory?.at(-1)));
  return lastAdyenPayment();
}

for (const [futureUsage, model] of [['Subscription', 'Subscription'], ['UnscheduledCardOnFile', 'UnscheduledCardOnFile'], ['CardOnFile', 'CardOnFile'], [undefined, 'CardOnFile']] as const) {
  test(`the first authorization of an instrument stored for ${futureUsage ?? 'no stated use'} is sent as the one that stores it (${model}); the next as the cardholder's use of it`, async () => {
    const holder = `keep-${futureUsage ?? 'none'}`;
    const inst = await storedInstrument(holder, futureUsage);
    const first = await authorize(holder, inst);
    assert.deepEqual([first.shopperInteraction, first.recurringProcessingModel], ['Ecommerce', model]);
    // Stored already: the cardholder's later payment with the kept card, whatever it was kept for.
    const second = await authorize(holder, inst);
    assert.deepEqual([second.shopperInteraction, second.recurringProcessingModel], ['Ecommerce', 'CardOnFile'], 'a later cardholder payment with the kept card is flagged as its use');
  });
}

test('a one-time instrument (not stored) is sent as a one-off', async () => {
  const inst = await storedInstrument('once', 'Subscription', false);
  const sent = await authorize('once', inst);
  assert.deepEqual([sent.shopperInteraction, sent.recurringProcessingModel], ['Ecommerce', undefined]);
});
