/**
 * An Adyen endpoint that asks every payment for its own 3-D Secure (a redirect) and answers the
 * details call after the shopper's return as the test says: a result, or the connection dropped
 * (an answer lost on the way back).
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface ScriptedAdyenState {
  /** The return URLs the gateway gave, in order. */
  returnUrls: string[];
  /** The last payment's reference (the gateway's attempt id). */
  reference: string | undefined;
  /** Details calls so far. */
  detailsCalls: number;
}

/** `details(n, state)` answers the n-th details call (from 1): a JSON body, or 'drop' to reset the connection. */
export async function startScriptedAdyen(details: (n: number, state: ScriptedAdyenState) => unknown) {
  const state: ScriptedAdyenState = { returnUrls: [], reference: undefined, detailsCalls: 0 };
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = chunks.length ? JSON.parse(Buffer.concat(chunks).toString('utf8')) : {};
      const send = (json: unknown) => { res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(json)); };
      if (req.url === '/payments') {
        state.returnUrls.push(body.returnUrl);
        state.reference = body.reference;
        return send({ merchantReference: body.reference, amount: body.amount, resultCode: 'RedirectShopper', action: { type: 'redirect', paymentMethodType: 'scheme', method: 'GET', url: `${url}/3ds/x` } });
      }
      if (req.url === '/payments/details') {
        const answer = details(++state.detailsCalls, state);
        return answer === 'drop' ? req.socket.destroy() : send(answer);
      }
      res.writeHead(404).end();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return { url, state, close: () => new Promise<void>((r) => { server.closeAllConnections(); server.close(() => r()); }) };
}
