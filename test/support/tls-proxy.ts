import { createServer as createHttps, type Server } from 'node:https';
import { request } from 'node:http';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';

/**
 * A self-signed certificate for this machine, made now, naming both `localhost` and `127.0.0.1`
 * (a browser told to accept it, or a client given `certFile` as its trusted authority).
 */
export function selfSignedCertificate(): { key: Buffer; cert: Buffer; certFile: string } {
  const dir = mkdtempSync(join(tmpdir(), 'switchyard-tls-'));
  const keyFile = join(dir, 'key.pem');
  const certFile = join(dir, 'cert.pem');
  execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', keyFile, '-out', certFile, '-days', '2',
    '-subj', '/CN=localhost', '-addext', 'subjectAltName=DNS:localhost,IP:127.0.0.1'], { stdio: 'ignore' });
  return { key: readFileSync(keyFile), cert: readFileSync(certFile), certFile };
}

/** A TLS-terminating reverse proxy as deployed before the gateway. `hostMode`: 'pass' keeps the browser's Host (Caddy, Traefik, nginx with proxy_set_header Host $host); 'upstream' sends the upstream's (nginx's default). */
export interface Proxy { url: string; port: number; seen: { method: string; url: string; status: number; location?: string }[]; setTarget(t: string): void; close(): Promise<void> }
/** `prefix`: the gateway is published under this path (`/pay`), stripped before forwarding; anything else is the proxy's own 404. */
export async function startProxy(hostMode: 'pass' | 'upstream' = 'pass', prefix = ''): Promise<Proxy> {
  let target = '';
  const seen: Proxy['seen'] = [];
  const { key, cert } = selfSignedCertificate();
  const server: Server = createHttps({ key, cert }, (req, res) => {
    const t = new URL(target);
    if (prefix && !(req.url === prefix || req.url!.startsWith(prefix + '/') || req.url!.startsWith(prefix + '?'))) {
      seen.push({ method: req.method!, url: req.url!, status: 404 });
      res.writeHead(404, { 'content-type': 'text/plain' }); res.end('not the gateway'); return;
    }
    const path = prefix ? req.url!.slice(prefix.length) || '/' : req.url!;
    const headers = { ...req.headers };
    const prior = headers['x-forwarded-for'];
    headers['x-forwarded-for'] = prior ? `${prior}, ${req.socket.remoteAddress}` : req.socket.remoteAddress!;
    headers['x-forwarded-proto'] = 'https';
    headers['x-forwarded-host'] = req.headers.host!;
    if (hostMode === 'upstream') headers.host = t.host;
    const up = request({ host: t.hostname, port: t.port, method: req.method, path, headers }, (r) => {
      const entry: Proxy['seen'][number] = { method: req.method!, url: req.url!, status: r.statusCode! };
      if (r.headers.location) entry.location = r.headers.location;
      seen.push(entry);
      res.writeHead(r.statusCode!, r.headers);
      r.pipe(res);
    });
    up.on('error', (e) => { res.writeHead(502); res.end(String(e)); });
    req.pipe(up);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `https://localhost:${port}${prefix}`, port, seen, setTarget: (t) => { target = t; },
    close: () => new Promise<void>((r) => { server.closeAllConnections(); server.close(() => r()); }),
  };
}
