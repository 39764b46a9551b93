import { formatMajorUnits } from '../../money/money.ts';
import type { PaymentView } from '../../payments/service.ts';
import type { OperationRecord, PaymentRecord } from '../../payments/store.ts';
import type { Registration } from '../../vault/registrations.ts';
import { resultOf } from './envelope.ts';
import { paymentTypeOf } from './payment-types.ts';
import { riskScoreDetail } from '../../processors/outcome.ts';
import { resultCodeOf, type ProcessingMode } from './result-map.ts';

/** Which success code a payment's approvals show: live, or the test system its merchant chose. */
export function modeOf(payment: PaymentRecord, initial: OperationRecord): ProcessingMode {
  if (payment.live) return 'LIVE';
  return initial.context.testMode === 'EXTERNAL' ? 'EXTERNAL' : 'INTERNAL';
}

/** The /v1 result code of an operation of a payment. */
export const codeOfView = (v: Pick<PaymentView, 'operation' | 'initial' | 'payment'>) => resultCodeOf(v.operation, modeOf(v.payment, v.initial));

/**
 * The JSON the platform returns for one transaction (reference §4.2): initial payments carry the
 * card and the echoed groups; back-office transactions carry `referencedId`.
 */
export function renderTransaction(v: PaymentView, channelName: string): Record<string, unknown> {
  const t = v.operation;
  const initial = t.seq === 0;
  const echo = t.context as Record<string, unknown>;
  const body: Record<string, unknown> = { id: t.id };
  if (initial && typeof echo.registrationId === 'string') body.registrationId = echo.registrationId;
  if (!initial && t.referencedId) body.referencedId = t.referencedId;
  body.paymentType = paymentTypeOf(t.kind, echo);
  if (initial) {
    const brand = v.card?.brand ?? echo.paymentBrand;
    if (typeof brand === 'string') body.paymentBrand = brand;
  }
  body.amount = formatMajorUnits(t.amount);
  body.currency = t.amount.currency;
  body.descriptor = typeof echo.descriptor === 'string' ? echo.descriptor : `${t.shortId} ${channelName}`;
  if (t.merchantTransactionId !== undefined) body.merchantTransactionId = t.merchantTransactionId;
  if (typeof echo.merchantInvoiceId === 'string') body.merchantInvoiceId = echo.merchantInvoiceId;
  body.result = resultOf(codeOfView(v));
  const { [riskScoreDetail]: riskScore, ...shownDetails } = t.details;
  if (Object.keys(shownDetails).length > 0) body.resultDetails = shownDetails;
  if (initial && v.card) {
    body.card = {
      bin: v.card.bin, last4Digits: v.card.last4,
      ...(v.card.holder !== undefined ? { holder: v.card.holder } : {}),
      expiryMonth: v.card.expiryMonth, expiryYear: v.card.expiryYear,
    };
  }
  for (const group of ['bankAccount', 'customer', 'billing', 'shipping', 'cart', 'merchant', 'threeDSecure', 'customParameters', 'standingInstruction']) {
    if (echo[group] !== undefined) body[group] = echo[group];
  }
  // The first charge of a standing instruction, once it succeeded, says which transaction later
  // charges refer to (they send it back as `standingInstruction.initialTransactionId`): the
  // scheme's id of it where the PSP gave one, else the acquirer's reference, else its own id.
  const standing = echo.standingInstruction as Record<string, unknown> | undefined;
  if (initial && standing?.mode === 'INITIAL' && t.status === 'succeeded' && standing.initialTransactionId === undefined) {
    body.standingInstruction = { ...standing, initialTransactionId: t.details.networkTransactionId ?? t.pspReference ?? t.id };
  }
  // The authentication's ECI, as the platform echoes it beside the merchant's own 3-D Secure fields.
  const eci = t.details['3ds.acsEci'];
  if (initial && eci !== undefined) body.threeDSecure = { ...(echo.threeDSecure as Record<string, unknown> | undefined), eci };
  if (typeof echo.recurringType === 'string') body.recurringType = echo.recurringType;
  // The platform's shape carries a risk score: the acquirer's, where an OPP-family one scored the
  // payment; else empty (one of the platform's own values), never a number nobody computed.
  if (initial) body.risk = { score: riskScore ?? '' };
  return body;
}

/**
 * Where the shopper's browser goes after a hosted page: the merchant's `shopperResultUrl` with
 * `id` and `resourcePath` (the status call to make), keeping the merchant's own query parameters.
 */
export function shopperResultUrlOf(t: OperationRecord): string {
  const url = new URL(String(t.context.shopperResultUrl));
  // A COPYandPAY payment is read through its checkout (reference §7.3).
  const checkoutId = typeof t.context.checkoutId === 'string' ? t.context.checkoutId : undefined;
  url.searchParams.set('id', checkoutId ?? t.id);
  url.searchParams.set('resourcePath', checkoutId ? `/v1/checkouts/${checkoutId}/payment` : `/v1/payments/${t.id}`);
  return url.toString();
}

/** A registration (reference §4.3 G): its id, brand and masked card, with the echoed groups. */
/** The groups a registration's answer echoes of what its call sent. */
export const registrationEchoGroups = ['customer', 'billing', 'customParameters'] as const;

/** Of what a registration call sent, what its answer (and its notification) echoes. */
export const registrationEcho = (echo: Readonly<Record<string, unknown>>): Record<string, unknown> =>
  Object.fromEntries(registrationEchoGroups.filter((g) => echo[g] !== undefined).map((g) => [g, echo[g]]));

export function renderRegistration(r: Registration, code: string, echo: Readonly<Record<string, unknown>> = {}): Record<string, unknown> {
  return {
    id: r.id,
    paymentBrand: r.card.brand,
    result: resultOf(code),
    card: {
      bin: r.card.bin, last4Digits: r.card.last4,
      ...(r.card.holder !== undefined ? { holder: r.card.holder } : {}),
      expiryMonth: r.card.expiryMonth, expiryYear: r.card.expiryYear,
    },
    ...registrationEcho(echo),
  };
}
