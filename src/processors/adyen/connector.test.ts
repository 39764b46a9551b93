import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Cvv, Pan } from '../../vault/card.ts';
import { money, type Currency } from '../../money/money.ts';
import { outcomeOfPaymentResponse, refusalReasonOf } from './outcomes.ts';
import { createAdyenConnector, requestOf, settlementOfItem } from './connector.ts';
import { parseSettings } from './settings.ts';
import { itemsOf, signItem, verifyItem } from './webhook.ts';

const settings = { baseUrl: 'https://checkout-test.adyen.com/v71', apiKey: 'AQE-key-123456', merchantAccount: 'ShopECOM', hmacKey: 'ab'.repeat(32) };
const card = { pan: new Pan('4111111111111111'), cvv: new Cvv('737'), brand: 'VISA' as const, holder: 'Jane Jones', expiryMonth: '03', expiryYear: '30' };
const eur = (minor: number) => money(minor, 'EUR' as Currency);

test('resultCode and refusalReasonCode map to neutral outcomes: soft, hard, fraud, 3-D Secure', () => {
  assert.equal(outcomeOfPaymentResponse({ resultCode: 'Authorised', pspReference: 'P1' })?.kind, 'approved');
  assert.equal(outcomeOfPaymentResponse({ resultCode: 'Received' })?.kind, 'pending');
  const cases: [string, string][] = [['2', 'soft'], ['12', 'soft'], ['6', 'hard'], ['5', 'hard'], ['24', 'hard'], ['20', 'fraud'], ['31', 'fraud'], ['11', 'authentication_failed'], ['4', 'provider_error'], ['999', 'soft']];
  for (const [code, reason] of cases) {
    const o = outcomeOfPaymentResponse({ resultCode: 'Refused', refusalReasonCode: code, refusalReason: 'x', pspReference: 'P2' });
    assert.equal(o?.kind === 'declined' && o.reason, reason, code);
    assert.equal(o?.acquirerCode, `Refused:${code}`);
  }
  assert.deepEqual(refusalReasonOf(undefined, 'Expired Card'), { reason: 'hard', code: '6' });
  // A code that names no refusal of the list is soft, whatever its name (a name of Object's own did not read as unknown).
  for (const code of ['constructor', 'toString', '__proto__']) assert.deepEqual(refusalReasonOf(code, undefined), { reason: 'soft', code });
  assert.equal(outcomeOfPaymentResponse({ resultCode: 'Error' })?.kind === 'declined' && true, true);
  assert.equal(outcomeOfPaymentResponse({}), undefined);
});

test('a redirect action is passed through; any other action is not followed', () => {
  const o = outcomeOfPaymentResponse({ resultCode: 'RedirectShopper', pspReference: 'P3', action: { type: 'redirect', method: 'POST', url: 'https://acs.example/x', data: { MD: 'm', PaReq: 'p' } } });
  assert.ok(o?.kind === 'pending' && o.redirect);
  assert.deepEqual(o.redirect, { url: 'https://acs.example/x', method: 'POST', parameters: [{ name: 'MD', value: 'm' }, { name: 'PaReq', value: 'p' }] });
  const native = outcomeOfPaymentResponse({ resultCode: 'IdentifyShopper', action: { type: 'threeDS2', token: 't' } });
  assert.equal(native?.kind === 'declined' && native.reason, 'authentication_error');
});

test('payments carry the card, manual capture and our attempt id; modifications only the reference', () => {
  const auth = requestOf(settings, { operation: 'authorize', attemptId: 'a1', amount: eur(9200), live: false, card, testParameters: {}, returnUrl: 'https://gw.example/r/a1' });
  assert.equal(auth.path, '/payments');
  assert.deepEqual(auth.body.amount, { value: 9200, currency: 'EUR' });
  assert.deepEqual(auth.body.additionalData, { manualCapture: 'true' });
  assert.equal(auth.body.reference, 'a1');
  assert.equal((auth.body.paymentMethod as Record<string, unknown>).expiryYear, '2030');
  assert.equal(auth.body.returnUrl, 'https://gw.example/r/a1');
  const noShopper = requestOf(settings, { operation: 'sale', attemptId: 'a2', amount: eur(100), live: false, card, testParameters: {} });
  assert.equal(auth.body.shopperInteraction, 'Ecommerce');
  // A merchant-initiated charge of a stored card is continuous authority, unscheduled card on file.
  const mit = requestOf(settings, { operation: 'sale', attemptId: 'a3', amount: eur(100), live: false, card, testParameters: {}, merchantInitiated: true });
  assert.deepEqual([mit.body.shopperInteraction, mit.body.recurringProcessingModel], ['ContAuth', 'UnscheduledCardOnFile']);
  assert.deepEqual(noShopper.body.authenticationData, { attemptAuthentication: 'never' });
  assert.equal(noShopper.body.captureDelayHours, 0);
  const capture = requestOf(settings, { operation: 'capture', attemptId: 'c1', amount: eur(500), live: false, originalReference: 'PSP123', testParameters: {} });
  assert.deepEqual(capture, { path: '/payments/PSP123/captures', body: { merchantAccount: 'ShopECOM', reference: 'c1', amount: { value: 500, currency: 'EUR' } } });
  assert.deepEqual(requestOf(settings, { operation: 'void', attemptId: 'v1', amount: eur(500), live: false, originalReference: 'PSP123', testParameters: {} }).body, { merchantAccount: 'ShopECOM', reference: 'v1' });
  assert.throws(() => requestOf(settings, { operation: 'refund', attemptId: 'r1', amount: eur(1), live: false, originalReference: '../x', testParameters: {} }));
});

test('webhook items are verified by their HMAC; a changed field or another key fails', () => {
  const item = { pspReference: 'MOD1', originalReference: 'PSP1', merchantAccountCode: 'ShopECOM', merchantReference: 'c1', value: 500, currency: 'EUR', eventCode: 'CAPTURE', success: 'true' };
  const body = JSON.stringify({ live: 'false', notificationItems: [{ NotificationRequestItem: { ...item, amount: { value: 500, currency: 'EUR' }, eventDate: '2026-01-01T00:00:00+01:00', additionalData: { hmacSignature: signItem(item, settings.hmacKey) } } }] });
  const [parsed] = itemsOf(body)!;
  assert.ok(verifyItem(parsed!, settings.hmacKey));
  assert.equal(verifyItem({ ...parsed!, value: 501 }, settings.hmacKey), false);
  assert.equal(verifyItem(parsed!, 'cd'.repeat(32)), false);
  // The capture it confirms states its amount, for the engine to check against what was asked.
  assert.deepEqual(settlementOfItem(parsed!, { multiplePartialCaptures: true }), { attemptId: 'c1', settles: ['capture', 'sale'], amount: { amount: 500, currency: 'EUR' }, outcome: { kind: 'approved', pspReference: 'MOD1', acquirerCode: 'CAPTURE', details: { eventCode: 'CAPTURE' } } });
  // Without multiple partial captures (Adyen's default) the capture it confirms cancelled the rest.
  assert.equal(settlementOfItem(parsed!)?.outcome.details.RestReleased, 'true');
  assert.equal(settlementOfItem({ ...parsed!, success: 'false' })?.outcome.details.RestReleased, undefined);
  assert.equal(settlementOfItem({ ...parsed!, eventCode: 'REPORT_AVAILABLE' }), undefined);
  assert.equal(itemsOf('not json'), undefined);
});

test('CAPTURE_FAILED and REFUND_FAILED (success "true", as Adyen sends them) decline the modification and take back a confirmed one', () => {
  // Shaped as Adyen's own CAPTURE_FAILED example.
  const item = { pspReference: 'QFQTPCQ8HXSKGK82', originalReference: '9913140798220028', merchantAccountCode: 'ShopECOM', merchantReference: 'c1', value: 1000, currency: 'EUR', eventCode: 'CAPTURE_FAILED', success: 'true', reason: 'Capture Failed', hmacSignature: undefined };
  assert.deepEqual(settlementOfItem(item), {
    attemptId: 'c1', reverses: true, settles: ['capture', 'sale'],
    // Sent only for a capture Adyen accepted: without multiple partial captures, the rest went with it.
    outcome: { kind: 'declined', reason: 'provider_error', acquirerCode: 'CAPTURE_FAILED', message: 'Capture Failed', pspReference: 'QFQTPCQ8HXSKGK82', details: { eventCode: 'CAPTURE_FAILED', RestReleased: 'true' } },
  });
  assert.equal(settlementOfItem(item, { multiplePartialCaptures: true })?.outcome.details.RestReleased, undefined);
  assert.equal(settlementOfItem({ ...item, eventCode: 'REFUND_FAILED' })?.reverses, true);
  assert.equal(settlementOfItem({ ...item, eventCode: 'REFUND_FAILED' })?.outcome.details.RestReleased, undefined);
  // A CAPTURE item, successful or not, only settles a capture still open.
  assert.equal(settlementOfItem({ ...item, eventCode: 'CAPTURE' })?.reverses, undefined);
  assert.equal(settlementOfItem({ ...item, eventCode: 'CAPTURE', success: 'false' })?.reverses, undefined);
  // Each item answers only attempts of its own operation: a CANCELLATION or REFUND made in the
  // Customer Area names the payment's opening attempt, which it does not answer.
  assert.deepEqual(settlementOfItem({ ...item, eventCode: 'CANCELLATION' })?.settles, ['void']);
  assert.deepEqual(settlementOfItem({ ...item, eventCode: 'REFUND' })?.settles, ['refund']);
  assert.deepEqual(settlementOfItem({ ...item, eventCode: 'AUTHORISATION' })?.settles, ['authorize', 'sale', 'rebill']);
});

test('settings: secrets checked by shape and never repeated in an error', () => {
  assert.ok(parseSettings({ apiKey: settings.apiKey, merchantAccount: 'ShopECOM', hmacKey: settings.hmacKey }).ok);
  for (const bad of [{ apiKey: 'short', merchantAccount: 'M', hmacKey: settings.hmacKey }, { apiKey: settings.apiKey, merchantAccount: 'M', hmacKey: 'nothex' }, { apiKey: settings.apiKey, merchantAccount: 'a b', hmacKey: settings.hmacKey }, { ...settings, baseUrl: 'http://adyen.example' }]) {
    const r = parseSettings(bad);
    assert.equal(r.ok, false, JSON.stringify(bad));
    if (!r.ok) assert.ok(!r.error.includes(settings.apiKey) && !r.error.includes(settings.hmacKey));
  }
});

test('amounts go in Adyen\'s own minor units where its table departs from ISO 4217: CLP and ISK in hundredths, CVE and IDR whole', () => {
  const sent = (amount: number, currency: string, operation: 'authorize' | 'capture' = 'authorize') =>
    (requestOf(settings, { operation, attemptId: 'a'.repeat(32), amount: money(amount, currency as Currency), live: false, card, testParameters: {}, originalReference: 'P123' }).body.amount as { value: number }).value;
  assert.equal(sent(5000, 'CLP'), 500_000);
  assert.equal(sent(1500, 'ISK'), 150_000);
  assert.equal(sent(10_000, 'CVE'), 100);
  assert.equal(sent(10_000, 'CVE', 'capture'), 100);
  assert.equal(sent(9200, 'EUR'), 9200);
  assert.equal(sent(1500, 'JPY'), 1500);
  assert.throws(() => sent(10_050, 'CVE'), /cannot be sent/);
  // IDR 150,000.00: Adyen counts rupiah whole (sent as hundredths, it read one hundred times the amount).
  assert.equal(sent(15_000_000, 'IDR'), 150_000);
  assert.equal(sent(15_000_000, 'IDR', 'capture'), 150_000);
  assert.throws(() => sent(15_000_050, 'IDR'), /cannot be sent/);
  // And an Adyen notification's rupiah value reads back as the ISO amount.
  const item = { pspReference: 'P1', originalReference: undefined, merchantAccountCode: 'ShopECOM', merchantReference: 'a1', value: 150_000, currency: 'IDR', eventCode: 'AUTHORISATION', success: 'true', reason: undefined, hmacSignature: undefined };
  assert.deepEqual(settlementOfItem(item as never)?.amount, { amount: 15_000_000, currency: 'IDR' });
});

test('a merchant-initiated authorization keeps both the first transaction\'s scheme id and the manual capture Adyen is asked for', () => {
  const card = { pan: new Pan('4111111111111111'), cvv: undefined, holder: undefined, brand: 'VISA' as const, expiryMonth: '03', expiryYear: '2030' };
  const { body } = requestOf(settings, {
    operation: 'authorize', attemptId: 'a'.repeat(32), amount: money(500, 'EUR' as Currency), live: false, card, testParameters: {}, merchantInitiated: true,
    storedCredential: { use: 'subsequent', initiatedBy: 'merchant', type: 'recurring', initialTransactionId: 'NTI123', schemeTransactionId: 'NTI123' },
  });
  assert.deepEqual(body.additionalData, { networkTxReference: 'NTI123', manualCapture: 'true' });
  assert.equal(body.shopperInteraction, 'ContAuth');
  assert.equal(body.recurringProcessingModel, 'Subscription');
});

test('a merchant-initiated authorization whose first transaction has no known scheme id sends none', () => {
  const card = { pan: new Pan('4111111111111111'), cvv: undefined, holder: undefined, brand: 'VISA' as const, expiryMonth: '03', expiryYear: '2030' };
  const { body } = requestOf(settings, {
    operation: 'authorize', attemptId: 'a'.repeat(32), amount: money(500, 'EUR' as Currency), live: false, card, testParameters: {}, merchantInitiated: true,
    storedCredential: { use: 'subsequent', initiatedBy: 'merchant', type: 'unscheduled', initialTransactionId: 'ADYENREF0001' },
  });
  assert.deepEqual(body.additionalData, { manualCapture: 'true' });
});

// POSTPONED_REFUND ("refund postponed until after payment capture") may answer the gateway's own
// refund of a sale not captured yet, which its later REFUND item settles: no operator is paged.
test('a POSTPONED_REFUND of the gateway\'s own refund attempt is not reported as money the gateway does not record', async () => {
  const parsed = parseSettings({ apiKey: 'AQE1234567890abcdef', merchantAccount: 'ShopECOM', hmacKey: 'ab'.repeat(32) });
  if (!parsed.ok) throw new Error(parsed.error);
  const settings = parsed.value;
  const connector = createAdyenConnector(settings, 1000);
  // Shaped as Adyen's own POSTPONED_REFUND example; merchantReference is the gateway's refund attempt id.
  const item = { pspReference: 'QFQTPCQ8HXSKGK82', originalReference: '9913140798220028', merchantAccountCode: 'ShopECOM', merchantReference: 'f3c1d2e4a5b6978800112233445566aa', value: 1000, currency: 'EUR', eventCode: 'POSTPONED_REFUND', success: 'true' };
  const body = JSON.stringify({ live: 'false', notificationItems: [{ NotificationRequestItem: {
    ...item, amount: { value: item.value, currency: item.currency }, eventDate: '2026-01-01T00:00:00+01:00', reason: '',
    additionalData: { hmacSignature: signItem(item, settings.hmacKey) },
  } }] });
  const r = await connector.inbound!({ headers: {}, body });
  assert.equal(r.authentic, true);
  assert.deepEqual(r.unrecorded ?? [], [], 'a postponed refund (the gateway\'s own, settled later by its REFUND item) is paged to an operator as money moved outside the gateway');
});

test('the shopper goes to Adyen only in objects it takes whole; the statement text fitted to its characters', () => {
  const browser = { acceptHeader: 'text/html', userAgent: 'Mozilla/5.0', language: 'en-GB', screenHeight: '900', screenWidth: '1440', screenColorDepth: '24', timezone: '-60', javaEnabled: 'false' };
  const whole = requestOf(settings, {
    operation: 'authorize', attemptId: 'a1', amount: eur(100), live: false, card, testParameters: {}, statementText: 'Café Müller <1042>',
    shopper: { email: 'jane@example.com', ip: '203.0.113.7', browser, billing: { street1: '12 Baker Street', street2: 'Flat 2', city: 'London', postcode: 'NW1 6XE', country: 'GB' } },
  }).body;
  assert.equal(whole.shopperEmail, 'jane@example.com');
  assert.equal(whole.shopperIP, '203.0.113.7');
  assert.equal(whole.shopperStatement, 'Cafe Muller 1042');
  assert.deepEqual(whole.billingAddress, { street: '12 Baker Street Flat 2', houseNumberOrName: 'NA', city: 'London', postalCode: 'NW1 6XE', country: 'GB' });
  assert.deepEqual(whole.browserInfo, { acceptHeader: 'text/html', userAgent: 'Mozilla/5.0', language: 'en-GB', colorDepth: 24, screenHeight: 900, screenWidth: 1440, timeZoneOffset: -60, javaEnabled: false });
  // An address without its postcode, a browser without its screen: Adyen would refuse the payment (422), so neither goes.
  const partial = requestOf(settings, {
    operation: 'sale', attemptId: 'a2', amount: eur(100), live: false, card, testParameters: {},
    shopper: { browser: { ...browser, screenHeight: 'tall' }, billing: { street1: '12 Baker Street', city: 'London', country: 'GB' } },
  }).body;
  assert.equal(partial.billingAddress, undefined);
  assert.equal(partial.browserInfo, undefined);
});

test('an address Adyen would refuse is not sent: a US or Canadian one without its state, a postcode past ten characters; a ZIP+4 goes as its five digits', () => {
  const billed = (billing: Record<string, string>) => requestOf(settings, {
    operation: 'authorize', attemptId: 'a3', amount: eur(100), live: false, card, testParameters: {}, shopper: { billing },
  }).body.billingAddress as Record<string, string> | undefined;
  const us = { street1: '1 Main St', city: 'Springfield', postcode: '62701-1234', country: 'US' };
  assert.equal(billed(us), undefined);
  assert.equal(billed({ ...us, country: 'CA', postcode: 'K1A 0B1' }), undefined);
  assert.equal(billed({ ...us, state: 'IL' })?.postalCode, '62701');
  assert.equal(billed({ ...us, state: 'IL', postcode: '627' }), undefined, 'not a ZIP');
  assert.equal(billed({ street1: '1 High St', city: 'Dublin', postcode: 'D02 X285 EXTRA', country: 'IE' }), undefined);
  assert.equal(billed({ street1: '1 High St', city: 'Dublin', postcode: 'D02 X285', country: 'IE' })?.postalCode, 'D02 X285');
});
