/**
 * A fake of Adyen's Checkout API v71 and its standard webhooks, written from Adyen's published
 * contract: `/payments` (manual capture, 3-D Secure by redirect), `/payments/details`, the
 * modifications (`captures`, `cancels`, `refunds`, answered `received` and confirmed by webhook),
 * `X-API-Key`, `Idempotency-Key` replays, and HMAC-signed notification items.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { signItem } from '../../../src/processors/adyen/webhook.ts';
import { createBank, serveFake, withQuery, type FakeAnswer, type FakePayment, type FakeRequest } from './bank.ts';

export const adyenFakeCredentials = { apiKey: 'AQE-fake-api-key-0123456789', merchantAccount: 'SwitchyardECOM', hmacKey: '44782DEF547AAA06C910C43932B1EB0C71FC68D9D0C057550C48EC2ACF6BA056' };

type AdyenPayment = FakePayment & { declineReason?: string; declineCode?: string };

interface Item {
  pspReference: string; originalReference?: string; merchantReference: string; eventCode: string; success: 'true' | 'false';
  amount: { value: number; currency: string }; reason?: string;
}

/**
 * A /v1 PA of EUR 50.00 with a shopperResultUrl: at a PSP that runs its own 3-D Secure (the fake
 * Adyens) it waits for the shopper at the PSP's redirect.
 */
export const redirectedPa = {
  amount: '50.00', currency: 'EUR', paymentType: 'PA', paymentBrand: 'VISA', 'card.number': '4111111111111111',
  'card.holder': 'Jane Jones', 'card.expiryMonth': '05', 'card.expiryYear': '2034', 'card.cvv': '123', shopperResultUrl: 'https://shop.example/back',
};

/**
 * `multiplePartialCaptures` stands for an account Adyen enabled them on. Without them (Adyen's
 * default) a capture cancels what it leaves of the authorization: a later capture or cancel of the
 * payment fails. With them the rest stays authorized: captured in more parts, or cancelled (a
 * cancel after partial captures cancels what they left).
 */
export async function startAdyenFake(options: { hmacKey?: string; multiplePartialCaptures?: boolean } = {}) {
  const multiplePartialCaptures = options.multiplePartialCaptures === true;
  /** Payments whose rest Adyen cancelled with a capture (no multiple partial captures). */
  const released = new Set<string>();
  const bank = createBank('FAKEPSP');
  const hmacKey = options.hmacKey ?? adyenFakeCredentials.hmacKey;
  const idempotent = new Map<string, FakeAnswer>();
  /** Every API request received, as (path, parsed JSON body): what the validation test checks. */
  const requests: { path: string; body: unknown }[] = [];
  /** Signed webhook bodies not yet delivered, oldest first. */
  const outbox: string[] = [];
  let modifications = 0;
  /** Captures Adyen confirmed, by their own pspReference: what a later CAPTURE_FAILED names. */
  const captures = new Map<string, { original: string; reference: string; amount: { value: number; currency: string } }>();

  let events = 0;
  function notify(item: Item) {
    // Each event its own date, as Adyen's are (two events of one dispute share code and reference).
    const n = { ...item, merchantAccountCode: adyenFakeCredentials.merchantAccount, eventDate: new Date(Date.now() + ++events).toISOString() };
    const signed = { pspReference: n.pspReference, originalReference: n.originalReference, merchantAccountCode: n.merchantAccountCode, merchantReference: n.merchantReference, value: n.amount.value, currency: n.amount.currency, eventCode: n.eventCode, success: n.success };
    const body = { live: 'false', notificationItems: [{ NotificationRequestItem: { ...n, additionalData: { hmacSignature: signItem(signed, hmacKey) } } }] };
    outbox.push(JSON.stringify(body));
  }

  const paymentResponse = (p: AdyenPayment) => {
    const base = { pspReference: p.id, merchantReference: p.attemptId, amount: { value: p.amount, currency: p.currency } };
    switch (p.status) {
      case 'authorized': return { ...base, resultCode: 'Authorised' };
      // As Adyen documents it: an answer asking for a redirect has no pspReference yet (the details answer brings it).
      case 'challenge': return { merchantReference: p.attemptId, amount: base.amount, resultCode: 'RedirectShopper', action: { type: 'redirect', paymentMethodType: 'scheme', method: 'GET', url: `${fake.url}/3ds/${p.id}` } };
      default: return { ...base, resultCode: 'Refused', refusalReason: p.declineReason, refusalReasonCode: p.declineCode };
    }
  };

  function handle(req: FakeRequest): FakeAnswer {
    if (req.method === 'GET' && req.path.startsWith('/3ds/')) {
      // The shopper's browser at the issuer's challenge: passed or failed, then back to the merchant.
      const p = bank.payments.get(req.path.split('/')[2] ?? '') as AdyenPayment | undefined;
      if (!p || p.status !== 'challenge' || !p.returnUrl) return { status: 404, json: { message: 'no challenge' } };
      const returnUrl = p.returnUrl;
      const passed = req.query.get('outcome') !== 'failed';
      bank.finishChallenge(p, passed);
      if (!passed) Object.assign(p, { declineReason: '3D Not Authenticated', declineCode: '11' });
      p.returnUrl = undefined;
      return { redirect: withQuery(returnUrl, { redirectResult: Buffer.from(JSON.stringify({ psp: p.id })).toString('base64url') }) };
    }
    if (req.headers['x-api-key'] !== adyenFakeCredentials.apiKey) return { status: 401, json: { status: 401, errorCode: '000', message: 'HTTP Status Response - Unauthorized', errorType: 'security' } };
    let body: any;
    try { body = JSON.parse(req.body); } catch { return { status: 400, json: { status: 400, errorCode: '702', message: 'Unexpected input', errorType: 'validation' } }; }
    requests.push({ path: req.path, body });
    const key = req.headers['idempotency-key'];
    if (typeof key === 'string' && idempotent.has(key)) return idempotent.get(key)!;
    const answer = route(req.path, body);
    if (typeof key === 'string') idempotent.set(key, answer.answer);
    return answer.hang ? 'hang' : answer.answer;
  }

  function route(path: string, body: any): { answer: FakeAnswer; hang?: boolean } {
    if (body?.merchantAccount !== undefined && body.merchantAccount !== adyenFakeCredentials.merchantAccount) {
      return { answer: { status: 403, json: { status: 403, errorCode: '901', message: 'Invalid Merchant Account', errorType: 'security' } } };
    }
    if (path === '/payments') {
      const pm = body.paymentMethod ?? {};
      const wantsRedirect = body.authenticationData?.attemptAuthentication !== 'never';
      const p = bank.open(body.reference, pm.number, body.amount.value, body.amount.currency, body.additionalData?.manualCapture !== 'true', wantsRedirect ? body.returnUrl : undefined) as AdyenPayment;
      if (p.status === 'declined') {
        const hard = pm.number === '4000000000000069';
        Object.assign(p, hard ? { declineReason: 'Expired Card', declineCode: '6' } : { declineReason: 'Refused', declineCode: '2' });
      }
      if (p.status !== 'challenge') notify({ pspReference: p.id, merchantReference: p.attemptId, eventCode: 'AUTHORISATION', success: p.status === 'authorized' ? 'true' : 'false', amount: { value: p.amount, currency: p.currency }, ...(p.status === 'declined' ? { reason: p.declineReason! } : {}) });
      return { answer: { status: 200, json: paymentResponse(p) }, hang: pm.number === '4000000000003006' };
    }
    if (path === '/payments/details') {
      let psp: string | undefined;
      try { psp = JSON.parse(Buffer.from(String(body.details?.redirectResult), 'base64url').toString('utf8')).psp; } catch { psp = undefined; }
      const p = psp ? bank.payments.get(psp) : undefined;
      if (!p || p.status === 'challenge') return { answer: { status: 422, json: { status: 422, errorCode: '14_006', message: 'Invalid redirectResult', errorType: 'validation' } } };
      notify({ pspReference: p.id, merchantReference: p.attemptId, eventCode: 'AUTHORISATION', success: p.status === 'authorized' ? 'true' : 'false', amount: { value: p.amount, currency: p.currency } });
      return { answer: { status: 200, json: paymentResponse(p) } };
    }
    const m = /^\/payments\/([A-Za-z0-9]+)\/(captures|cancels|refunds)$/.exec(path);
    if (m) {
      const [, original, kind] = m as unknown as [string, string, 'captures' | 'cancels' | 'refunds'];
      if (!bank.payments.has(original)) return { answer: { status: 422, json: { status: 422, errorCode: '167', message: 'Original pspReference required for this operation', errorType: 'validation' } } };
      const amount = body.amount ?? { value: bank.payments.get(original)!.amount, currency: bank.payments.get(original)!.currency };
      const done = kind === 'refunds' ? bank.refund(original, amount.value)
        : released.has(original) ? 'not_authorized' as const
          : kind === 'captures' ? bank.capture(original, amount.value) : cancel(original);
      if (kind === 'captures' && typeof done !== 'string' && !multiplePartialCaptures) released.add(original);
      const pspReference = `FAKEMOD${String(++modifications).padStart(9, '0')}`;
      if (kind === 'captures' && typeof done !== 'string') captures.set(pspReference, { original, reference: body.reference, amount });
      // Adyen accepts the modification now and says later, by webhook, whether it happened.
      notify({
        pspReference, originalReference: original, merchantReference: body.reference, amount,
        eventCode: kind === 'captures' ? 'CAPTURE' : kind === 'refunds' ? 'REFUND' : 'CANCELLATION',
        success: typeof done === 'string' ? 'false' : 'true', ...(typeof done === 'string' ? { reason: done } : {}),
      });
      return { answer: { status: 201, json: { merchantAccount: body.merchantAccount, paymentPspReference: original, pspReference, reference: body.reference, status: 'received', ...(kind === 'cancels' ? {} : { amount }) } } };
    }
    return { answer: { status: 404, json: { status: 404, errorCode: '000', message: 'Not found', errorType: 'validation' } } };
  }

  /** A cancel: of an uncaptured authorization, or (multiple partial captures) of what partial captures left. */
  function cancel(original: string) {
    const p = bank.payments.get(original)!;
    if (!multiplePartialCaptures || p.status !== 'authorized' || p.captured === 0) return bank.void(original);
    if (p.captured >= p.amount) return 'not_authorized' as const;
    p.status = 'voided';
    return p;
  }

  const server = await serveFake(handle);
  const fake = {
    url: server.url, bank, requests,
    /** Takes the webhook bodies Adyen would have sent since the last call. */
    takeNotifications: () => outbox.splice(0),
    /** Queues a webhook body again (one taken and held back, as a delayed delivery). */
    outboxPush: (body: string) => { outbox.push(body); },
    /**
     * The card scheme rejects a capture Adyen had confirmed: the money is not captured after all,
     * and a CAPTURE_FAILED item follows (shaped as Adyen's own example: success "true").
     */
    failCapture(capturePspReference: string) {
      const c = captures.get(capturePspReference);
      if (!c) throw new Error(`no confirmed capture ${capturePspReference}`);
      captures.delete(capturePspReference);
      bank.payments.get(c.original)!.captured -= c.amount.value;
      notify({ pspReference: capturePspReference, originalReference: c.original, merchantReference: c.reference, amount: c.amount, eventCode: 'CAPTURE_FAILED', success: 'true', reason: 'Capture Failed' });
    },
    /**
     * The card scheme moves a dispute's money on a payment (`CHARGEBACK`, `SECOND_CHARGEBACK`,
     * `CHARGEBACK_REVERSED`, or an event that moves none): an item shaped as Adyen's own examples,
     * naming the payment by `originalReference` and the dispute by its own `pspReference`.
     */
    dispute(original: string, eventCode: string, amount: { value: number; currency: string }, disputeReference: string) {
      notify({ pspReference: disputeReference, originalReference: original, merchantReference: bank.payments.get(original)?.attemptId ?? 'unknown', amount, eventCode, success: 'true', reason: 'Payment.TxId=300000000524534724 dispute' });
    },
    /** The pspReferences of the captures Adyen confirmed (and the scheme has not rejected). */
    confirmedCaptures: () => [...captures.keys()],
    close: () => server.close(),
  };
  return fake;
}
export type AdyenFake = Awaited<ReturnType<typeof startAdyenFake>>;

/** Where the fake's webhooks go: a gateway's notification endpoint for one of its merchant's Adyen accounts. */
interface NotifiedGateway {
  readonly url: string;
  readonly merchant: { readonly merchantId: string };
  readonly app: { readonly payments: { idle(): Promise<void> } };
}

/**
 * Posts what the fake queued to the gateway's endpoint for the account, as Adyen would, each
 * acknowledged with `[accepted]`, then waits until the engine has done what they started.
 */
export async function deliverAdyenNotifications(gw: NotifiedGateway, adyen: AdyenFake, account = 'adyen'): Promise<void> {
  for (const body of adyen.takeNotifications()) {
    const r = await fetch(`${gw.url}/psp-notifications/${gw.merchant.merchantId}/${account}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
    if (r.status !== 200 || (await r.text()) !== '[accepted]') throw new Error(`the gateway answered Adyen's notification with HTTP ${r.status}`);
  }
  await gw.app.payments.idle();
}

/**
 * An Adyen scripted per test, recording every body: each /payments is answered as `state.mode`
 * says (`challenge`: Adyen's own 3-D Secure, where a return URL allows it; `approve`: Authorised;
 * `soft`: Refused, code 2), and each /payments/details (the shopper back) as `details` says:
 * Refused softly (code 2, the default), Authorised, or Refused as an expired card (code 6, hard).
 */
export async function startScriptedAdyen(mode: 'soft' | 'challenge' | 'approve', details: 'soft' | 'approve' | 'hard' = 'soft') {
  const state = { mode, details, returnUrls: [] as string[], bodies: [] as { path: string | undefined; body: any }[] };
  const refused = () => ({ pspReference: `ADY${Date.now()}`, resultCode: 'Refused', refusalReason: 'Refused', refusalReasonCode: '2' });
  const detailsAnswer = () => (state.details === 'approve' ? { pspReference: `ADYOK${Date.now()}`, resultCode: 'Authorised', amount: { value: 5000, currency: 'EUR' } }
    : state.details === 'hard' ? { pspReference: `ADYNO${Date.now()}`, resultCode: 'Refused', refusalReason: 'Expired Card', refusalReasonCode: '6' } : refused());
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = chunks.length ? JSON.parse(Buffer.concat(chunks).toString('utf8')) : {};
      state.bodies.push({ path: req.url, body });
      const send = (json: unknown) => { res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(json)); };
      if (req.url === '/payments') {
        if (state.mode === 'challenge' && body.returnUrl && body.authenticationData?.attemptAuthentication !== 'never') {
          state.returnUrls.push(body.returnUrl);
          return send({ merchantReference: body.reference, amount: body.amount, resultCode: 'RedirectShopper', action: { type: 'redirect', paymentMethodType: 'scheme', method: 'GET', url: `${url}/3ds/x` } });
        }
        if (state.mode === 'approve') return send({ pspReference: `ADYOK${Date.now()}`, merchantReference: body.reference, amount: body.amount, resultCode: 'Authorised' });
        return send({ ...refused(), merchantReference: body.reference, amount: body.amount });
      }
      if (req.url === '/payments/details') return send(detailsAnswer());
      res.writeHead(404).end();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return { url, state, close: () => new Promise<void>((r) => { server.closeAllConnections(); server.close(() => r()); }) };
}
