/**
 * Adyen's CAPTURE_FAILED: the card scheme rejected a capture Adyen had made, and the money will not
 * come. Adyen sends it for an automatically captured payment (a sale) as for a manual capture. The
 * engine undoes only a capture or a refund; for a sale the item was acknowledged and dropped with
 * an info line, the books keeping 50.00 captured that never arrives and no operator told. It is
 * logged at error level, naming the payment and the PSP's reference.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { opp, testCard } from './support/harness.ts';
import { configureCascade } from './support/executions.ts';
import { gatewayAtPspFakes, type GatewayAtPspFakes } from './support/captured-execution.ts';
import { adyenFakeCredentials } from './support/fake-psps/adyen.ts';
import { suiteCards } from './support/fake-psps/bank.ts';
import { signItem } from '../src/processors/adyen/webhook.ts';
import { ledgerTotalsOf } from '../src/ledger/model.ts';

let fakes: GatewayAtPspFakes;
before(async () => { fakes = await gatewayAtPspFakes(); });
after(() => fakes?.close());

function adyenItem(item: { pspReference: string; originalReference: string; merchantReference: string; eventCode: string; value: number; reason: string }) {
  const n = { ...item, merchantAccountCode: adyenFakeCredentials.merchantAccount, currency: 'EUR', success: 'true' };
  const signed = { pspReference: n.pspReference, originalReference: n.originalReference, merchantAccountCode: n.merchantAccountCode, merchantReference: n.merchantReference, value: n.value, currency: n.currency, eventCode: n.eventCode, success: n.success };
  return JSON.stringify({ live: 'false', notificationItems: [{ NotificationRequestItem: {
    pspReference: n.pspReference, originalReference: n.originalReference, merchantAccountCode: n.merchantAccountCode, merchantReference: n.merchantReference,
    amount: { value: n.value, currency: n.currency }, eventCode: n.eventCode, success: n.success, eventDate: new Date().toISOString(), reason: n.reason,
    additionalData: { hmacSignature: signItem(signed, adyenFakeCredentials.hmacKey) },
  } }] });
}

test('Adyen: CAPTURE_FAILED of a sale\'s own capture is undone in the books or told to an operator, never dropped silently', async () => {
  const { gw } = fakes;
  await configureCascade(gw, {}, ['adyen']);
  const r = await opp(gw, 'POST', '/v1/payments', { amount: '50.00', currency: 'EUR', paymentType: 'DB', ...testCard, 'card.number': suiteCards.approved, shopperResultUrl: 'https://shop.example/back' });
  assert.match(r.body.result.code, /^000\.[01]00\./, JSON.stringify(r.body.result));
  await fakes.deliverAdyen();
  await gw.app.payments.idle();
  const paymentId: string = r.body.id;
  const d = (await gw.app.payments.details(paymentId))!;
  const sale = d.operations[0]!;
  assert.equal(sale.kind, 'sale');
  const attempt = d.attempts.find((a) => a.status === 'succeeded')!;
  assert.equal(ledgerTotalsOf(await gw.app.ledger.paymentPostings(paymentId)).captured, 5000);

  // The scheme rejects the sale's capture: Adyen notifies CAPTURE_FAILED naming the payment.
  const body = adyenItem({ pspReference: 'CAPFAILSALE00001', originalReference: sale.pspReference!, merchantReference: attempt.id, eventCode: 'CAPTURE_FAILED', value: 5000, reason: 'Capture Failed' });
  assert.deepEqual(await fakes.post('adyen', body), { status: 200, text: '[accepted]' });
  await gw.app.payments.idle();

  const told = gw.logs.filter((l) => l.includes('"level":50') && l.includes(paymentId) && l.includes('CAPFAILSALE00001'));
  assert.equal(told.length, 1, 'an operator is told, once, naming the payment and the PSP\'s reference');
  // Sent again (Adyen does until acknowledged, and sometimes twice): told again, nothing else changes.
  assert.deepEqual(await fakes.post('adyen', body), { status: 200, text: '[accepted]' });
  await gw.app.payments.idle();
  assert.equal(ledgerTotalsOf(await gw.app.ledger.paymentPostings(paymentId)).captured, 5000, 'a sale has no capture of its own to undo');
  assert.equal(await gw.app.ledger.verify(), undefined);
});
