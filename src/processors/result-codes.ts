import type { DeclineReason } from './outcome.ts';
/**
 * The acquirer network's result codes, in the Open Payment Platform numbering that the simulated
 * acquirer speaks natively and the /v1 dialect serves from GET /v1/resultcodes. Descriptions are
 * the platform's strings, verbatim, because clients match on them.
 */
export const resultCodes: Readonly<Record<string, string>> = {
  '000.000.000': 'Transaction succeeded',
  '000.000.100': 'successful request',
  '000.100.110': "Request successfully processed in 'Merchant in Integrator Test Mode'",
  '000.100.111': "Request successfully processed in 'Merchant in Validator Test Mode'",
  '000.100.112': "Request successfully processed in 'Merchant in Connector Test Mode'",
  '000.300.000': 'Two-step transaction succeeded',
  '000.400.000': 'Transaction succeeded (please review manually due to fraud suspicion)',
  '000.400.010': 'Transaction succeeded (please review manually due to AVS return code)',
  '000.400.020': 'Transaction succeeded (please review manually due to CVV return code)',
  '000.400.040': 'Transaction succeeded (please review manually due to amount mismatch)',
  '000.400.050': 'Transaction succeeded (please review manually because transaction is pending)',
  '000.400.060': "Transaction succeeded (approved at merchant's risk)",
  '000.400.070': 'Transaction succeeded (waiting for external risk review)',
  '000.400.080': 'Transaction succeeded (please review manually because the service was unavailable)',
  '000.400.081': 'Transaction succeeded (please review manually, as the Risk status is pending)',
  '000.400.082': 'Transaction succeeded (please review manually, as payment status is pending)',
  '000.400.090': 'Transaction succeeded (please review manually due to external risk check)',
  '000.400.100': 'Transaction succeeded, risk after payment rejected',
  '000.400.110': 'Authentication successful (frictionless flow)',
  '000.200.000': 'transaction pending',
  '000.200.100': 'successfully created checkout',
  '000.200.103': 'checkout is pending',
  '100.400.500': 'waiting for external risk',
  '800.400.500': 'Waiting for confirmation of non-instant payment. Denied for now.',
  '800.400.501': 'Waiting for confirmation of non-instant debit. Denied for now.',
  '800.400.502': 'Waiting for confirmation of non-instant refund. Denied for now.',
  '000.400.101': 'card not participating/authentication unavailable',
  '000.400.109': 'Card is not enrolled for 3DS version 2',
  '100.380.401': 'User Authentication Failed',
  '100.390.112': 'Technical Error in 3D system',
  '100.390.114': 'Not authenticated because the issuer is rejecting authentication',
  '800.400.200': 'Invalid Payer Authentication in 3DSecure transaction',
  '100.396.101': 'Cancelled by user',
  '100.396.103': 'Previously pending transaction timed out',
  '100.396.104': 'Uncertain status - probably cancelled by user',
  '300.100.100': 'Transaction declined (additional customer authentication required)',
  '800.100.100': 'transaction declined for unknown reason',
  '800.100.151': 'transaction declined (invalid card)',
  '800.100.152': 'transaction declined by authorization system',
  '800.100.153': 'transaction declined (invalid CVV)',
  '800.100.155': 'transaction declined (amount exceeds credit)',
  '800.100.157': 'transaction declined (wrong expiry date)',
  '800.100.158': 'transaction declined (suspecting manipulation)',
  '800.100.159': 'transaction declined (stolen card)',
  '800.100.160': 'transaction declined (card blocked)',
  '800.100.161': 'transaction declined (too many invalid tries)',
  '800.100.162': 'transaction declined (limit exceeded)',
  '800.100.165': 'transaction declined (card lost)',
  '800.100.168': 'transaction declined (restricted card)',
  '800.100.171': 'transaction declined (pick up card)',
  '800.100.172': 'transaction declined (account blocked)',
  '800.100.178': 'transaction declined (PIN entered incorrectly too often)',
  '100.100.101': 'invalid creditcard, bank account number or bank name',
  '100.100.100': 'request contains no creditcard, bank account number or bank name',
  '100.100.200': 'request contains no month',
  '100.100.201': 'invalid month',
  '100.100.300': 'request contains no year',
  '100.100.301': 'invalid year',
  '100.100.400': 'request contains no cc/bank account holder',
  '100.100.401': 'cc/bank account holder too short or too long',
  '100.100.402': 'cc/bank account holder not valid',
  '100.100.500': 'request contains no credit card brand',
  '100.100.501': 'invalid credit card brand',
  '100.100.601': 'invalid CVV/brand combination',
  '100.700.100': 'customer.surname may not be null',
  '100.700.101': 'customer.surname length must be between 0 and 50',
  '100.700.201': 'customer.givenName length must be between 0 and 50',
  '100.700.500': 'company name too long',
  '100.800.101': 'The combination of street1 and street2 must not exceed 201 characters.',
  '100.800.201': 'zip too long',
  '100.800.301': 'city too long',
  '100.800.401': 'state too long',
  '100.800.501': 'invalid country',
  '100.900.101': 'invalid email address (probably invalid syntax)',
  '100.900.105': 'email address too long (max 50 chars)',
  '100.900.200': "invalid phone number (has to start with a digit or a '+', at least 7 and max 25 chars long)",
  '100.900.300': "invalid mobile phone number (has to start with a digit or a '+', at least 7 and max 25 chars long)",
  '100.900.401': 'invalid ip number',
  '100.900.450': 'invalid birthdate',
  '100.300.200': 'transaction id too long',
  '100.370.101': 'responseUrl not set in Transaction/Frontend',
  '100.370.102': 'malformed responseUrl in Transaction/Frontend',
  '100.100.303': 'card expired',
  '100.100.304': 'card not yet valid',
  '100.100.600': 'empty CVV for VISA,MASTER, AMEX not allowed',
  '100.100.700': 'invalid cc number/brand combination',
  '100.400.121': 'account blacklisted',
  '100.400.319': 'transaction declined by risk system',
  '800.300.101': 'account or user is blacklisted',
  '800.110.100': 'duplicate transaction',
  '800.120.100': 'Rejected by Throttling.',
  '800.130.100': 'Transaction with same TransactionId already exists',
  '200.200.106': 'duplicate transaction. Please verify that the UUID is unique',
  '800.700.100': 'transaction for the same session is currently being processed, please try again later.',
  '800.400.100': 'AVS Check Failed',
  '100.550.300': 'request contains no amount or too low amount',
  '100.550.301': 'amount too large',
  '100.550.303': 'amount format invalid (only two decimals allowed).',
  '100.550.400': 'request contains no currency',
  '100.550.401': 'invalid currency',
  '200.300.403': 'Invalid HTTP method',
  '200.300.404': 'invalid or missing parameter',
  '200.300.405': 'Duplicate entity',
  '200.300.406': 'Entity not found',
  '800.900.300': 'invalid authentication information',
  '800.900.301': 'user authorization failed, user has no sufficient rights to process transaction',
  '800.900.302': 'Authorization failed',
  '100.300.400': 'missing or invalid channel id',
  '600.300.101': 'Merchant key not found',
  '100.300.101': 'invalid test mode (please use LIVE or INTEGRATOR_TEST or CONNECTOR_TEST)',
  '600.200.100': 'invalid Payment Method',
  '600.200.500': 'Invalid payment data. You are not configured for this currency or sub type (country or brand)',
  '600.300.200': 'merchant source IP address not whitelisted',
  '600.300.211': 'shopperResultUrl not whitelisted',
  '100.150.200': 'registration does not exist',
  '100.150.201': 'registration is not confirmed yet',
  '100.150.202': 'registration is already deregistered',
  '700.100.100': 'reference id not existing',
  '700.100.200': 'non matching reference amount',
  '700.100.500': 'referenced payment currency does not match with requested payment currency',
  '700.100.700': 'referenced transaction is of inappropriate type',
  '700.300.300': 'referenced tx can not be refunded, captured or reversed (already refunded, captured or reversed)',
  '700.300.500': 'chargeback error (multiple chargebacks)',
  '700.300.600': 'referenced tx can not be refunded or reversed (was chargebacked)',
  '700.300.700': 'referenced tx can not be reversed (reversal not possible anymore)',
  '700.400.100': 'cannot capture (PA value exceeded, PA reverted or invalid workflow?)',
  '700.400.200': 'cannot refund (refund volume exceeded or tx reversed or invalid workflow?)',
  '700.400.300': 'cannot reverse (already refunded|reversed, invalid workflow or amount exceeded)',
  '700.400.400': 'cannot chargeback (already chargebacked or invalid workflow?)',
  '700.400.410': 'cannot reversal chargeback (chargeback is already reversaled or invalid workflow?)',
  '700.400.420': 'cannot reversal chargeback (no chargeback existing or invalid workflow?)',
  '700.400.510': 'capture needs at least one successful transaction of type (PA)',
  '700.400.520': 'refund needs at least one successful transaction of type (CP or DB or RB or RC)',
  '700.400.530': 'reversal needs at least one successful transaction of type (CP or DB or RB or PA)',
  '700.400.550': 'chargeback needs at least one successful transaction of type (CP or DB or RB)',
  '700.400.560': 'receipt needs at least one successful transaction of type (PA or CP or DB or RB)',
  '700.400.570': 'cannot reference a waiting/pending transaction',
  '700.400.580': 'cannot find transaction',
  '700.400.700': 'initial and referencing channel-ids do not match',
  '700.500.003': 'test accounts not allowed in production',
  '900.100.100': 'unexpected communication error with connector/acquirer',
  '900.100.300': 'timeout, uncertain result',
  '900.100.400': 'timeout at connectors/acquirer side',
  '900.100.600': 'connector/acquirer currently down',
  '999.999.999': 'UNDEFINED CONNECTOR/ACQUIRER ERROR',
};

/** Success code per processing mode: integrator test, connector test, live. */
export const successCodeByMode = { INTERNAL: '000.100.110', EXTERNAL: '000.100.112', LIVE: '000.000.000' } as const;

/**
 * The OPP family's code for each neutral decline reason, for outcomes no acquirer coded: refusals
 * before any PSP (3-D Secure, the shopper, the pending timeout), a PSP that never received the
 * request, and declines of connectors outside the family.
 */
export const codeOfReason: Readonly<Record<DeclineReason, string>> = {
  soft: '800.100.152',
  hard: '800.100.151',
  fraud: '100.400.319',
  invalid_request: '200.300.404',
  provider_error: '900.100.100',
  not_supported: '600.200.500',
  authentication_failed: '100.380.401',
  authentication_error: '100.390.112',
  not_enrolled: '000.400.109',
  not_participating: '000.400.101',
  cancelled_by_shopper: '100.396.101',
  expired: '100.396.103',
  not_received: '900.100.400',
  instrument_removed: '100.150.202',
};

export function isKnownResultCode(code: string): boolean {
  return Object.hasOwn(resultCodes, code);
}

export function describeResultCode(code: string): string {
  return resultCodes[code] ?? 'UNDEFINED CONNECTOR/ACQUIRER ERROR';
}

export const resultClasses = ['success', 'review', 'pending', 'rejected'] as const;
export type ResultClass = (typeof resultClasses)[number];

/** The platform's published patterns, applied in its order: success, review, pending, else rejected. */
export function classifyResultCode(code: string): ResultClass {
  if (/^(000\.000\.|000\.100\.1|000\.[36]|000\.400\.[1][12]0)/.test(code)) return 'success';
  if (/^(000\.400\.0[^3]|000\.400\.100)/.test(code)) return 'review';
  if (/^(000\.200)/.test(code) || /^(800\.400\.5|100\.400\.500)/.test(code)) return 'pending';
  return 'rejected';
}

/**
 * Refusals of the card or the cardholder's account itself (invalid, expired, stolen, lost, blocked,
 * restricted, picked up, the PIN tried too often): no other acquirer may be asked to charge it, and
 * the schemes forbid retrying them.
 */
const hardCodes = new Set([
  '800.100.151', '800.100.153', '800.100.157', '800.100.159', '800.100.171', '100.100.101', '100.100.303', '100.100.304',
  '100.400.121', '800.300.101', '800.100.160', '800.100.161', '800.100.165', '800.100.168', '800.100.172', '800.100.178',
]);

/** 3-D Secure that the cardholder failed, or whose result the issuer refused. */
const authenticationFailedCodes = new Set(['100.380.401', '800.400.200']);

/**
 * An OPP-family acquirer refusing the gateway's own credentials or rights for the account (sender
 * authorization 100, an unknown channel 201, the access token 300, the user's rights 301, 302), or
 * throttling the account: the account fails every payment, whatever the card. Not the 800.900 codes
 * about the shopper's data (an e-mail address, an IP, a phone number, a birth date).
 */
export const accountRefusedCode = /^800\.900\.(100|201|30[012])$|^800\.120\.100$/;

/**
 * The neutral reason of a rejecting result code of the OPP family: communication and system
 * errors, and the acquirer refusing the account itself, are the provider's; a currency, brand or
 * payment method the account is not set up for is not supported (the cascade moves on, and the
 * account keeps serving the rest); risk and blacklist codes are fraud; bad card data hard; format
 * errors an invalid request; the rest soft (this acquirer refused this time). Pure.
 */
export function declineReasonOf(code: string): DeclineReason {
  // Read as a failure of the account, one currency it does not take would open its circuit for all.
  if (code.startsWith('600.200.')) return 'not_supported';
  if (code.startsWith('900.') || code === '999.999.999' || code.startsWith('600.') || accountRefusedCode.test(code)) return 'provider_error';
  if (hardCodes.has(code)) return 'hard';
  if (authenticationFailedCodes.has(code)) return 'authentication_failed';
  // The acquirer's 3-D Secure system failing, as the engine's own would say it.
  if (code === '100.390.112') return 'authentication_error';
  // The suspicion of manipulation is the issuer's fraud screen.
  if (code === '800.100.158') return 'fraud';
  // The acquirer failing to create or secure a registration (no token created, a secure
  // registration problem) is its own trouble, not the card's.
  if (code === '800.900.303' || code === '800.900.399') return 'provider_error';
  // The rest of 800.900 is the shopper's data (an e-mail address, an IP, a phone number, a birth
  // date): sent on to the next PSP it would be refused the same way.
  if (code.startsWith('800.900.')) return 'invalid_request';
  // The shopper left the payment page or 3-D Secure (100.396.101, .104), or never finished it (.103).
  if (code === '100.396.103') return 'expired';
  if (/^100\.396\.10[124]$/.test(code)) return 'cancelled_by_shopper';
  // A duplicate transaction is the merchant's request sent again (the acquirer's rule about the
  // request, not a word on the card or its holder): a faulty request, stopping a cascade as fraud
  // does (another account would charge it again), and no reason to take back a card saved with it.
  if (code.startsWith('800.110.')) return 'invalid_request';
  if (/^(100\.400\.[0-3]|100\.380\.[15]|800\.(150|160|200|300)\.)/.test(code)) return 'fraud';
  if (/^(100\.[123]|200\.|100\.350|100\.390)/.test(code)) return 'invalid_request';
  return 'soft';
}

/**
 * What an operator must be told of an approval its acquirer flagged for manual review (the
 * platform's "success, review manually" codes): the code's words and the code, else undefined.
 * The merchant's own answer carries the code; the operator's views say it in words.
 */
export function reviewNoticeOf(code: string | undefined): string | undefined {
  if (code === undefined || !/^[0-9]{3}\.[0-9]{3}\.[0-9]{3}$/.test(code) || classifyResultCode(code) !== 'review') return undefined;
  return `approved by the acquirer for manual review: ${resultCodes[code] ?? 'review manually'} (${code})`;
}
