// An executions webhook receiver: verifies X-Signature and the Standard Webhooks signature, refuses
// replays, handles the event, answers 200.
// Run it:  WEBHOOK_SECRET=<the secret from `webhooks add`> PORT=4001 node examples/webhooks/executions-receiver.ts
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import { createHmac, timingSafeEqual } from 'node:crypto';

export interface ExecutionsEvent {
  event: string;
  time: string;
  workspaceId: string;
  eventTrigger: string;
  details: Record<string, any>;
}

const hmac = (secret: string, data: string) => createHmac('sha256', Buffer.from(secret, 'utf8')).update(data, 'utf8').digest();
const matches = (expected: Buffer, base64: string | undefined) => {
  const given = Buffer.from(base64 ?? '', 'base64');
  return given.length === expected.length && timingSafeEqual(given, expected);
};

/**
 * True when the raw body was signed with `secret`. X-Signature is base64 HMAC-SHA256 of the body;
 * while the sender rotates secrets, X-Signature-Previous carries the old secret's. webhook-signature
 * lists `v1,<base64 HMAC of "id.timestamp.body">` entries; a timestamp more than `toleranceSeconds`
 * away from now is refused, so a captured request cannot be replayed later.
 */
export function verifySignature(secret: string, rawBody: string, headers: IncomingHttpHeaders,
  nowSeconds = Date.now() / 1000, toleranceSeconds = 300): boolean {
  const bodySignature = hmac(secret, rawBody);
  const header = (name: string) => (typeof headers[name] === 'string' ? headers[name] as string : undefined);
  if (!matches(bodySignature, header('x-signature')) && !matches(bodySignature, header('x-signature-previous'))) return false;
  const id = header('webhook-id');
  const timestamp = Number(header('webhook-timestamp'));
  if (!id || !Number.isFinite(timestamp) || Math.abs(nowSeconds - timestamp) > toleranceSeconds) return false;
  const signed = hmac(secret, `${id}.${header('webhook-timestamp')}.${rawBody}`);
  return (header('webhook-signature') ?? '').split(' ').some((s) => s.startsWith('v1,') && matches(signed, s.slice(3)));
}

/**
 * Answers 200 only after `handle` succeeded: anything else is retried for days, so an event is never
 * lost, and may arrive twice (the same webhook-id): make `handle` idempotent.
 */
export function createReceiver(secret: string, handle: (e: ExecutionsEvent, eventId: string) => Promise<void> | void,
  now: () => number = Date.now): Server {
  return createServer((req, res) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > 1_000_000) req.destroy();
      else chunks.push(chunk);
    });
    req.on('end', async () => {
      const rawBody = Buffer.concat(chunks).toString('utf8');
      if (!verifySignature(secret, rawBody, req.headers, now() / 1000)) {
        res.writeHead(401).end('bad signature');
        return;
      }
      try {
        await handle(JSON.parse(rawBody), String(req.headers['webhook-id']));
        res.writeHead(200).end('OK');
      } catch {
        res.writeHead(500).end('try again later');
      }
    });
  });
}

if (import.meta.main) {
  const secret = process.env.WEBHOOK_SECRET ?? '';
  if (!secret) throw new Error('set WEBHOOK_SECRET to the secret printed by `webhooks add`');
  const port = Number(process.env.PORT ?? 4001);
  createReceiver(secret, (e, id) => {
    console.log(`verified ${e.event} ${id}: ${e.details.action ?? ''} ${e.details.execution?.id ?? ''} ${e.details.success ?? ''}`);
  }).listen(port, '127.0.0.1', () => console.log(`receiving executions webhooks on http://127.0.0.1:${port}/`));
}
