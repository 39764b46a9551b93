/**
 * A pass-through in front of a fake PSP that lets a test step into chosen calls: hold one back,
 * answer it itself (a refusal the fake would not give), or let it reach the PSP and lose its answer
 * (the PSP acted; the gateway hears a 502 from a proxy on the way).
 */
import { createServer, request } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface ProxiedCall {
  readonly method: string;
  /** Path and query, as the gateway sent them. */
  readonly url: string;
  readonly body: string;
}

/** What becomes of a call: sent on (after `delayMs`), answered here, or sent on with its answer lost. */
export type Routing = { delayMs?: number } | { answer: { status: number; json: unknown } } | 'lose-answer';

export interface PspProxy {
  readonly url: string;
  /** The calls seen so far, in order. */
  readonly calls: ProxiedCall[];
  close(): Promise<void>;
}

export async function pspProxy(target: string, route: (call: ProxiedCall) => Routing = () => ({})): Promise<PspProxy> {
  const calls: ProxiedCall[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', async () => {
      const body = Buffer.concat(chunks);
      const call = { method: req.method ?? 'GET', url: req.url ?? '/', body: body.toString() };
      calls.push(call);
      const routing = route(call);
      if (typeof routing === 'object' && 'answer' in routing) {
        res.writeHead(routing.answer.status, { 'content-type': 'application/json' }).end(JSON.stringify(routing.answer.json));
        return;
      }
      if (typeof routing === 'object' && routing.delayMs) await new Promise((r) => setTimeout(r, routing.delayMs));
      const u = new URL(call.url, target);
      const forwarded = request(u, { method: call.method, headers: { ...req.headers, host: u.host } }, (up) => {
        if (routing === 'lose-answer') { up.resume(); res.writeHead(502, { 'content-type': 'text/html' }).end('<html>Bad Gateway</html>'); return; }
        res.writeHead(up.statusCode ?? 502, up.headers);
        up.pipe(res);
      });
      forwarded.end(body);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, calls,
    close: () => new Promise<void>((r) => { server.closeAllConnections(); server.close(() => r()); }),
  };
}
