/**
 * The money side every fake PSP shares: which card does what (the conformance suite's cards), and
 * what each payment authorized, captured, refunded or released, so a fake refuses what its real
 * PSP would (capturing more than is open, refunding more than was captured, acting on a voided
 * payment) and a test can count charges. Each vendor's fake (adyen.ts, stripe.ts, opp.ts) puts its
 * own wire format around it.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** Cards the fakes know; any other number is approved. */
export const suiteCards = {
  approved: '4111111111111111',
  soft: '4000000000000002',
  hard: '4000000000000069',
  /** The PSP runs a 3-D Secure challenge (the shopper passes or fails it on the fake's page). */
  challenge: '4000000000003220',
  /** Processed, but the answer never comes back (the caller's timeout makes it unknown). */
  silent: '4000000000003006',
} as const;

export type Behaviour = 'approve' | 'soft' | 'hard' | 'challenge' | 'silent';

export function behaviourOf(pan: string | undefined): Behaviour {
  switch (pan) {
    case suiteCards.soft: return 'soft';
    case suiteCards.hard: return 'hard';
    case suiteCards.challenge: return 'challenge';
    case suiteCards.silent: return 'silent';
    default: return 'approve';
  }
}

export interface FakePayment {
  readonly id: string;
  /** Our attempt id as the PSP received it (reference, metadata, merchantTransactionId). */
  readonly attemptId: string;
  readonly amount: number;
  readonly currency: string;
  /** A sale is captured as it is authorized. */
  readonly autoCapture: boolean;
  status: 'challenge' | 'authorized' | 'declined' | 'voided';
  captured: number;
  refunded: number;
  /** Set while the shopper is at the 3-D Secure page. */
  returnUrl: string | undefined;
}

export type Refusal = 'not_found' | 'not_authorized' | 'amount';

export function createBank(prefix: string) {
  const payments = new Map<string, FakePayment>();
  let seq = 0;
  const bank = {
    payments,
    nextId: () => `${prefix}${String(++seq).padStart(14, '0')}`,
    /** Authorizations the PSP approved (a duplicate that charged twice shows as two). */
    charges: () => [...payments.values()].filter((p) => p.status !== 'declined' && p.status !== 'challenge').length,
    /** A new payment decided by its card: approved, declined, or waiting for its challenge. */
    open(attemptId: string, pan: string | undefined, amount: number, currency: string, autoCapture: boolean, returnUrl: string | undefined): FakePayment {
      const b = behaviourOf(pan);
      const status = b === 'soft' || b === 'hard' ? 'declined' : b === 'challenge' && returnUrl ? 'challenge' : 'authorized';
      const p: FakePayment = { id: bank.nextId(), attemptId, amount, currency, autoCapture, status, captured: status === 'authorized' && autoCapture ? amount : 0, refunded: 0, returnUrl: status === 'challenge' ? returnUrl : undefined };
      payments.set(p.id, p);
      return p;
    },
    /** The shopper finished the challenge: passed authorizes, failed declines. */
    finishChallenge(p: FakePayment, passed: boolean) {
      p.status = passed ? 'authorized' : 'declined';
      if (passed && p.autoCapture) p.captured = p.amount;
    },
    capture(id: string, amount: number): Refusal | FakePayment {
      const p = payments.get(id);
      if (!p) return 'not_found';
      if (p.status !== 'authorized') return 'not_authorized';
      if (amount <= 0 || p.captured + amount > p.amount) return 'amount';
      p.captured += amount;
      return p;
    },
    refund(id: string, amount: number): Refusal | FakePayment {
      const p = payments.get(id);
      if (!p) return 'not_found';
      if (amount <= 0 || p.refunded + amount > p.captured) return 'amount';
      p.refunded += amount;
      return p;
    },
    void(id: string): Refusal | FakePayment {
      const p = payments.get(id);
      if (!p) return 'not_found';
      if (p.status !== 'authorized' || p.captured > 0) return 'not_authorized';
      p.status = 'voided';
      return p;
    },
  };
  return bank;
}
export type Bank = ReturnType<typeof createBank>;

/** A request as a fake's handler sees it. */
export interface FakeRequest {
  readonly method: string;
  readonly path: string;
  readonly query: URLSearchParams;
  readonly headers: IncomingMessage['headers'];
  readonly body: string;
}

/** What a handler answers: JSON, a redirect (the shopper's browser), or nothing ever (a lost answer). */
export type FakeAnswer = { status: number; json: unknown } | { redirect: string } | 'hang';

/** A small real HTTP server around a fake's handler, on a free loopback port. */
export async function serveFake(handler: (req: FakeRequest) => FakeAnswer | Promise<FakeAnswer>) {
  const hanging = new Set<ServerResponse>();
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', async () => {
      const url = new URL(req.url ?? '/', 'http://fake');
      try {
        const answer = await handler({ method: req.method ?? 'GET', path: url.pathname, query: url.searchParams, headers: req.headers, body: Buffer.concat(chunks).toString('utf8') });
        if (answer === 'hang') { hanging.add(res); return; }
        if ('redirect' in answer) { res.writeHead(302, { location: answer.redirect }).end(); return; }
        res.writeHead(answer.status, { 'content-type': 'application/json' }).end(JSON.stringify(answer.json));
      } catch (err) {
        res.writeHead(500, { 'content-type': 'text/plain' }).end(String(err));
      }
    });
  });
  // Longer than any pause in a test (a schema compiling), so a kept-alive socket is never closed under a client.
  server.keepAliveTimeout = 120_000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url,
    async close() {
      for (const res of hanging) res.destroy();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** Appends query parameters to a URL that may already carry some. */
export function withQuery(url: string, params: Record<string, string>): string {
  const u = new URL(url);
  for (const [k, v] of Object.entries(params)) u.searchParams.set(k, v);
  return u.href;
}
