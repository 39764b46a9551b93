/**
 * A fake of Stripe's PaymentIntents and Refunds API, written from Stripe's public reference: form
 * bodies with bracketed names, `Authorization: Bearer sk_…`, `Idempotency-Key` replays, manual
 * capture with multicapture, `next_action.redirect_to_url` for 3-D Secure, search by metadata,
 * and events signed with `Stripe-Signature`. Its objects carry the fields of Stripe's own
 * fixtures (the fixture test compares their keys).
 */
import { signatureHeader } from '../../../src/processors/stripe/webhook.ts';
import { createBank, serveFake, suiteCards, withQuery, type FakeAnswer, type FakePayment, type FakeRequest } from './bank.ts';

export const stripeFakeCredentials = { secretKey: 'sk_test_fake0123456789abcdef', webhookSecret: 'whsec_fake0123456789abcdef' };

type Intent = FakePayment & { metadata: Record<string, string>; captureMethod: 'manual' | 'automatic'; lastError: { type: string; code: string; decline_code?: string; message: string } | undefined; created: number };

/**
 * `multicapture: false` stands for an account Stripe grants no multicapture (standard pricing):
 * `final_capture=false` is refused, and a capture releases the rest of the hold.
 */
export async function startStripeFake(options: { multicapture?: boolean } = {}) {
  const multicapture = options.multicapture !== false;
  /** PaymentIntents a capture made final (no multicapture): nothing more is capturable. */
  const released = new Set<string>();
  const bank = createBank('pi_FAKE');
  const intents = new Map<string, Intent>();
  const refunds: Record<string, unknown>[] = [];
  const idempotent = new Map<string, FakeAnswer>();
  const events: string[] = [];
  const now = () => Math.floor(Date.now() / 1000);

  const statusOf = (i: Intent) => {
    switch (i.status) {
      case 'challenge': return 'requires_action';
      case 'declined': return 'requires_payment_method';
      case 'voided': return 'canceled';
      default: return i.captureMethod === 'automatic' || i.captured === i.amount || released.has(i.id) ? 'succeeded' : 'requires_capture';
    }
  };

  /**
   * Stripe cancels a PaymentIntent in requires_capture, "the remaining amount_capturable is
   * automatically refunded": after partial multicaptures too, what they captured stays captured.
   */
  const cancel = (i: Intent) => {
    if (i.status !== 'authorized' || i.captured === 0 || i.captured >= i.amount) return bank.void(i.id);
    i.status = 'voided';
    return i;
  };

  const intentObject = (i: Intent) => ({
    id: i.id, object: 'payment_intent', amount: i.amount, amount_capturable: i.status === 'authorized' && !released.has(i.id) ? i.amount - i.captured : 0,
    amount_details: { tip: {} }, amount_received: i.captured, application: null, application_fee_amount: null,
    automatic_payment_methods: null, canceled_at: i.status === 'voided' ? now() : null, cancellation_reason: null,
    capture_method: i.captureMethod, client_secret: `${i.id}_secret_fake`, confirmation_method: 'automatic', created: i.created,
    currency: i.currency.toLowerCase(), customer: null, description: null,
    last_payment_error: i.lastError ?? null, latest_charge: i.status === 'declined' ? null : `ch_${i.id.slice(3)}`, livemode: false, metadata: i.metadata,
    next_action: i.status === 'challenge' ? { type: 'redirect_to_url', redirect_to_url: { url: `${fake.url}/3ds/${i.id}`, return_url: i.returnUrl } } : null,
    on_behalf_of: null, payment_method: `pm_${i.id.slice(3)}`, payment_method_configuration_details: null,
    payment_method_options: { card: { request_multicapture: 'if_available' } }, payment_method_types: ['card'], processing: null,
    receipt_email: null, review: null, setup_future_usage: null, shipping: null, statement_descriptor: null, statement_descriptor_suffix: null,
    status: statusOf(i), transfer_data: null, transfer_group: null, source: null, excluded_payment_method_types: null, customer_account: null, managed_payments: null,
  });

  const error = (status: number, e: Record<string, unknown>): FakeAnswer => ({ status, json: { error: e } });
  const event = (type: string, object: unknown) => {
    const body = JSON.stringify({ id: `evt_fake${events.length + 1}`, object: 'event', api_version: '2024-06-20', created: now(), data: { object }, livemode: false, pending_webhooks: 1, request: { id: null, idempotency_key: null }, type });
    events.push(body);
  };

  function handle(req: FakeRequest): FakeAnswer {
    if (req.method === 'GET' && req.path.startsWith('/3ds/')) {
      const i = intents.get(req.path.split('/')[2] ?? '');
      if (!i || i.status !== 'challenge' || !i.returnUrl) return error(404, { type: 'invalid_request_error', message: 'no challenge' });
      const returnUrl = i.returnUrl;
      const passed = req.query.get('outcome') !== 'failed';
      bank.finishChallenge(i, passed);
      i.returnUrl = undefined;
      if (!passed) i.lastError = { type: 'invalid_request_error', code: 'payment_intent_authentication_failure', message: 'The provided PaymentMethod has failed authentication.' };
      event(passed ? 'payment_intent.amount_capturable_updated' : 'payment_intent.payment_failed', intentObject(i));
      return { redirect: withQuery(returnUrl, { payment_intent: i.id, payment_intent_client_secret: `${i.id}_secret_fake` }) };
    }
    if (req.headers.authorization !== `Bearer ${stripeFakeCredentials.secretKey}`) {
      return error(401, { type: 'invalid_request_error', message: 'Invalid API Key provided' });
    }
    const form = new URLSearchParams(req.body);
    const key = req.headers['idempotency-key'];
    if (req.method === 'POST' && typeof key === 'string' && idempotent.has(key)) return idempotent.get(key)!;
    const { answer, hang } = route(req, form);
    if (req.method === 'POST' && typeof key === 'string') idempotent.set(key, answer);
    return hang ? 'hang' : answer;
  }

  const metadataOf = (form: URLSearchParams) => Object.fromEntries([...form].filter(([k]) => k.startsWith('metadata[')).map(([k, v]) => [k.slice(9, -1), v]));

  function route(req: FakeRequest, form: URLSearchParams): { answer: FakeAnswer; hang?: boolean } {
    if (req.method === 'POST' && req.path === '/v1/payment_intents') {
      const pan = form.get('payment_method_data[card][number]') ?? undefined;
      const manual = form.get('capture_method') === 'manual';
      const noAction = form.get('error_on_requires_action') === 'true';
      const i = bank.open('', pan, Number(form.get('amount')), (form.get('currency') ?? '').toUpperCase(), !manual, noAction ? undefined : form.get('return_url') ?? undefined) as Intent;
      Object.assign(i, { metadata: metadataOf(form), captureMethod: manual ? 'manual' : 'automatic', lastError: undefined, created: now() });
      intents.set(i.id, i);
      if (i.status === 'declined') {
        i.lastError = pan === suiteCards.hard
          ? { type: 'card_error', code: 'expired_card', message: 'Your card has expired.' }
          : { type: 'card_error', code: 'card_declined', decline_code: 'generic_decline', message: 'Your card was declined.' };
        event('payment_intent.payment_failed', intentObject(i));
        return { answer: error(402, { ...i.lastError, payment_intent: intentObject(i) }) };
      }
      if (i.status === 'authorized') event(manual ? 'payment_intent.amount_capturable_updated' : 'payment_intent.succeeded', intentObject(i));
      return { answer: { status: 200, json: intentObject(i) }, hang: pan === suiteCards.silent };
    }
    if (req.method === 'GET' && req.path === '/v1/payment_intents/search') {
      const m = /^metadata\['([a-z_]+)'\]:'([^']*)'$/.exec(req.query.get('query') ?? '');
      if (!m) return { answer: error(400, { type: 'invalid_request_error', message: 'bad query' }) };
      const data = [...intents.values()].filter((i) => i.metadata[m[1]!] === m[2]).map(intentObject);
      return { answer: { status: 200, json: { object: 'search_result', data, has_more: false, next_page: null, url: '/v1/payment_intents/search' } } };
    }
    const pi = /^\/v1\/payment_intents\/(pi_[A-Za-z0-9]+)(\/capture|\/cancel)?$/.exec(req.path);
    if (pi) {
      const i = intents.get(pi[1]!);
      if (!i) return { answer: error(404, { type: 'invalid_request_error', code: 'resource_missing', message: 'No such payment_intent' }) };
      if (req.method === 'GET' && !pi[2]) {
        // The charge expanded, as Stripe does on `expand[]=latest_charge`: this account has multicapture.
        const o = intentObject(i);
        const expanded = req.query.getAll('expand[]').includes('latest_charge') && typeof o.latest_charge === 'string'
          ? { ...o, latest_charge: { id: o.latest_charge, object: 'charge', payment_method_details: { type: 'card', card: { multicapture: { status: multicapture ? 'available' : 'unavailable' } } } } } : o;
        return { answer: { status: 200, json: expanded } };
      }
      if (pi[2] === '/capture' && !multicapture && form.get('final_capture') === 'false') {
        return { answer: error(400, { type: 'invalid_request_error', param: 'final_capture', message: 'final_capture can only be false when multicapture is available for this PaymentIntent.', payment_intent: intentObject(i) }) };
      }
      if (released.has(i.id)) {
        return { answer: error(400, { type: 'invalid_request_error', code: 'payment_intent_unexpected_state', message: `cannot ${pi[2]!.slice(1)}: the PaymentIntent has a status of succeeded`, payment_intent: intentObject(i) }) };
      }
      const done = pi[2] === '/capture' ? bank.capture(i.id, Number(form.get('amount_to_capture') ?? i.amount - i.captured)) : cancel(i);
      if (pi[2] === '/capture' && !multicapture && typeof done !== 'string') released.add(i.id);
      if (typeof done === 'string') {
        return { answer: error(400, { type: 'invalid_request_error', code: done === 'amount' ? 'amount_too_large' : 'payment_intent_unexpected_state', message: `cannot ${pi[2]!.slice(1)}: ${done}`, payment_intent: intentObject(i) }) };
      }
      Object.assign(i.metadata, metadataOf(form));
      event(pi[2] === '/capture' ? 'payment_intent.succeeded' : 'payment_intent.canceled', intentObject(i));
      return { answer: { status: 200, json: intentObject(i) } };
    }
    if (req.path === '/v1/refunds') {
      if (req.method === 'GET') {
        const data = refunds.filter((r) => r.payment_intent === req.query.get('payment_intent'));
        return { answer: { status: 200, json: { object: 'list', data, has_more: false, url: '/v1/refunds' } } };
      }
      const id = form.get('payment_intent') ?? '';
      const done = bank.refund(id, Number(form.get('amount')));
      if (typeof done === 'string') return { answer: error(400, { type: 'invalid_request_error', code: done === 'amount' ? 'amount_too_large' : 'resource_missing', message: `cannot refund: ${done}` }) };
      const refund = {
        id: `re_fake${refunds.length + 1}`, object: 'refund', amount: Number(form.get('amount')), balance_transaction: null, charge: `ch_${id.slice(3)}`,
        created: now(), currency: done.currency.toLowerCase(), destination_details: null, metadata: metadataOf(form), payment_intent: id, reason: null,
        receipt_number: null, source_transfer_reversal: null, status: 'succeeded', transfer_reversal: null, customer: null, customer_account: null, payment_method: null,
      };
      refunds.push(refund);
      event('refund.created', refund);
      return { answer: { status: 200, json: refund } };
    }
    return { answer: error(404, { type: 'invalid_request_error', message: `Unrecognized request URL (${req.method}: ${req.path})` }) };
  }

  const server = await serveFake(handle);
  const fake = {
    url: server.url, bank,
    intent: (id: string) => { const i = intents.get(id); return i && intentObject(i); },
    refunds: () => refunds,
    /** A dispute's event on a PaymentIntent (`charge.dispute.created`, `…funds_withdrawn`, `…funds_reinstated`, `…closed`). */
    dispute(type: string, paymentIntent: string, amount: number, currency: string, id: string) {
      event(type, { id, object: 'dispute', amount, currency, charge: `ch_${paymentIntent.slice(3)}`, payment_intent: paymentIntent, reason: 'fraudulent',
        status: type.endsWith('closed') ? 'lost' : 'needs_response', is_charge_refundable: false, livemode: false, metadata: {}, created: now() });
    },
    /** Takes the events Stripe would have sent since the last call, each with its `Stripe-Signature`. */
    takeEvents: () => events.splice(0).map((body) => ({ body, signature: signatureHeader(body, stripeFakeCredentials.webhookSecret, now()) })),
    close: () => server.close(),
  };
  return fake;
}
export type StripeFake = Awaited<ReturnType<typeof startStripeFake>>;
