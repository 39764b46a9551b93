/**
 * A fake acquirer of the Open Payment Platform family, written from the family's `/v1`
 * server-to-server contract: bearer token and entity id, `PA`/`DB` with card data, `CP`/`RV`/`RF`
 * against a payment id, 3-D Secure by a redirect (`redirect.url`, `method`, `parameters`) that
 * returns to the `shopperResultUrl`, the status of a payment by id, and the query API by
 * `merchantTransactionId`. Its entity keeps merchant transaction ids unique (`800.130.100`).
 */
import assert from 'node:assert/strict';
import { createBank, serveFake, suiteCards, withQuery, type FakeAnswer, type FakePayment, type FakeRequest } from './bank.ts';

export const oppFakeCredentials = { accessToken: 'OGE4fakeOppBearerToken0123', entityId: '8a8294174b7ecb28014b9699220015ca' };

const codes = { approved: '000.100.110', pending: '000.200.000', soft: '800.100.152', hard: '800.100.157', authFailed: '100.380.401', notFound: '700.400.580', duplicate: '800.130.100', refused: '700.400.100', refundNeedsCapture: '700.400.520' };

type Transaction = { id: string; paymentType: string; amount: string; currency: string; merchantTransactionId: string; referencedId?: string; code: string; payment?: FakePayment };

/** An acquirer's refusal of a back-office request (`700.400.100`), as a proxy in front of the fake answers it in its place. */
export const oppRefusal = (paymentType: string, amount: string, description = 'cannot be processed') => ({
  status: 200,
  json: {
    id: '8ac7a4a1fffffffffffffffffffffffe', paymentType, amount, currency: 'EUR', result: { code: '700.400.100', description },
    timestamp: new Date().toISOString().replace('T', ' ').slice(0, 23) + '+0000',
  },
});

/**
 * A /v1 PA's parameters with the suite's challenge card and a shopperResultUrl: at an OPP-family
 * acquirer (the fake) the acquirer runs the 3-D Secure challenge and the payment awaits its shopper.
 */
export const challengedPa = (amount: string) => ({
  amount, currency: 'EUR', paymentType: 'PA', paymentBrand: 'VISA', 'card.number': suiteCards.challenge,
  'card.holder': 'Jane Jones', 'card.expiryMonth': '05', 'card.expiryYear': '2034', 'card.cvv': '123', shopperResultUrl: 'https://shop.example/back',
});

export async function startOppFake() {
  const bank = createBank('8ac7a4a1');
  const transactions: Transaction[] = [];
  let seq = 0;

  const minor = (amount: string) => Math.round(Number(amount) * 100);
  const resultOf = (t: Transaction) => ({
    id: t.id, paymentType: t.paymentType, amount: t.amount, currency: t.currency, merchantTransactionId: t.merchantTransactionId,
    ...(t.referencedId ? { referencedId: t.referencedId } : {}),
    result: { code: t.code, description: t.code === codes.approved ? 'Request successfully processed in \'Merchant in Integrator Test Mode\'' : 'transaction declined' },
    resultDetails: { ConnectorTxID1: t.id, AcquirerResponse: t.code === codes.approved ? '00' : '05' },
    ...(t.payment?.status === 'challenge' ? { redirect: { url: `${fake.url}/3ds/${t.id}`, method: 'POST', parameters: [{ name: 'MD', value: t.id }, { name: 'PaReq', value: 'fake' }] } } : {}),
    timestamp: new Date().toISOString().replace('T', ' ').slice(0, 23) + '+0000', ndc: `${oppFakeCredentials.entityId}_fake`,
  });

  function handle(req: FakeRequest): FakeAnswer {
    if (req.path.startsWith('/3ds/')) {
      const t = transactions.find((x) => x.id === req.path.split('/')[2]);
      const p = t?.payment;
      if (!t || !p || p.status !== 'challenge' || !p.returnUrl) return { status: 404, json: { result: { code: '200.300.404', description: 'no challenge' } } };
      const returnUrl = p.returnUrl;
      const passed = req.query.get('outcome') !== 'failed';
      bank.finishChallenge(p, passed);
      p.returnUrl = undefined;
      t.code = passed ? codes.approved : codes.authFailed;
      return { redirect: withQuery(returnUrl, { id: t.id, resourcePath: `/v1/payments/${t.id}` }) };
    }
    if (req.headers.authorization !== `Bearer ${oppFakeCredentials.accessToken}`) return { status: 401, json: { result: { code: '800.900.300', description: 'invalid authentication information' } } };
    const form = req.method === 'POST' ? new URLSearchParams(req.body) : req.query;
    if (form.get('entityId') !== oppFakeCredentials.entityId) return { status: 403, json: { result: { code: '800.900.301', description: 'user is not authorized to perform this action' } } };
    if (req.method === 'GET' && req.path === '/v1/query') {
      const found = transactions.filter((t) => t.merchantTransactionId === req.query.get('merchantTransactionId'));
      if (found.length === 0) return { status: 200, json: { result: { code: codes.notFound, description: 'No payment session found for the requested id' } } };
      return { status: 200, json: { result: { code: '000.000.100', description: 'successful request' }, payments: found.map(resultOf) } };
    }
    const byId = /^\/v1\/payments\/([A-Za-z0-9]+)$/.exec(req.path);
    if (req.method === 'GET' && byId) {
      const t = transactions.find((x) => x.id === byId[1]);
      return t ? { status: 200, json: resultOf(t) } : { status: 404, json: { result: { code: codes.notFound, description: 'not found' } } };
    }
    if (req.method !== 'POST' || (req.path !== '/v1/payments' && !byId)) return { status: 404, json: { result: { code: '200.300.404', description: 'invalid or missing parameter' } } };
    const mtx = form.get('merchantTransactionId') ?? '';
    const amount = form.get('amount') ?? '0';
    const currency = form.get('currency') ?? '';
    const paymentType = form.get('paymentType') ?? '';
    const t: Transaction = { id: `8ac7a4a1${String(++seq).padStart(24, '0')}`, paymentType, amount, currency, merchantTransactionId: mtx, code: codes.approved };
    if (transactions.some((x) => x.merchantTransactionId === mtx)) {
      t.code = codes.duplicate;
      return { status: 200, json: resultOf(t) };
    }
    transactions.push(t);
    if (!byId) {
      const pan = form.get('card.number') ?? undefined;
      const p = bank.open(mtx, pan, minor(amount), currency, paymentType === 'DB', form.get('shopperResultUrl') ?? undefined);
      t.payment = p;
      t.code = p.status === 'challenge' ? codes.pending : p.status === 'declined' ? (pan === suiteCards.hard ? codes.hard : codes.soft) : codes.approved;
      return { status: 200, json: resultOf(t) };
    }
    // CP and RV name the PA; RF names money that moved (a DB or a CP), as the platform's
    // "refund needs at least one successful transaction of type CP, DB, RB or RC" says.
    const named = transactions.find((x) => x.id === byId[1] && x.payment && x.code === codes.approved);
    t.referencedId = byId[1];
    if (paymentType === 'RF' && named?.paymentType === 'PA') {
      t.code = codes.refundNeedsCapture;
      return { status: 200, json: resultOf(t) };
    }
    const original = paymentType === 'RF' ? named : named?.paymentType === 'CP' ? undefined : named;
    const done = !original?.payment ? 'not_found'
      : paymentType === 'CP' ? bank.capture(original.payment.id, minor(amount))
        : paymentType === 'RF' ? bank.refund(original.payment.id, minor(amount))
          : paymentType === 'RV' ? bank.void(original.payment.id) : 'not_found';
    if (typeof done === 'string') t.code = codes.refused;
    // A capture carries its payment: the refund of its money names it.
    else if (paymentType === 'CP') t.payment = original!.payment;
    // The silent card's follow-ups are answered; only its authorization is lost.
    return { status: 200, json: resultOf(t) };
  }

  async function handleWithSilence(req: FakeRequest): Promise<FakeAnswer> {
    const answer = handle(req);
    const silent = req.method === 'POST' && req.path === '/v1/payments' && new URLSearchParams(req.body).get('card.number') === suiteCards.silent;
    return silent ? 'hang' : answer;
  }

  const server = await serveFake(handleWithSilence);
  const fake = { url: server.url, bank, transactions, close: () => server.close() };
  return fake;
}
export type OppFake = Awaited<ReturnType<typeof startOppFake>>;

/**
 * The shopper passes the fake acquirer's challenge of its latest payment: the acquirer authorizes
 * and sends them back; where to (the gateway's PSP return page), and the acquirer's transaction.
 */
export async function passAcquirerChallenge(fake: OppFake) {
  const transaction = fake.transactions.at(-1)!;
  const challenge = await fetch(`${fake.url}/3ds/${transaction.id}`, { redirect: 'manual' });
  const returnUrl = challenge.headers.get('location')!;
  assert.match(returnUrl, /\/hosted\/psp-return\//);
  return { transaction, returnUrl };
}
