// A /v1 notification receiver: decrypts each notification (AES-256-GCM), handles it, answers 200.
// Run it:  WEBHOOK_KEY=<the 64-hex secret from `webhooks add`> PORT=4000 node examples/webhooks/opp-receiver.ts
import { createServer, type Server } from 'node:http';
import { createDecipheriv } from 'node:crypto';

export interface Notification {
  type: string;
  action?: string;
  payload: Record<string, any>;
}

/** Decrypts one notification: the key is the listener's 64-hex secret; IV, tag and body arrive as hex. */
export function decryptNotification(keyHex: string, ivHex: string, tagHex: string, bodyHex: string): Notification {
  // The tag's length is fixed: without it Node checks a tag cut to 4 bytes, which a forger can guess.
  const decipher = createDecipheriv('aes-256-gcm', Buffer.from(keyHex, 'hex'), Buffer.from(ivHex, 'hex'), { authTagLength: 16 });
  decipher.setAuthTag(Buffer.from(tagHex, 'hex'));
  const plaintext = Buffer.concat([decipher.update(Buffer.from(bodyHex, 'hex')), decipher.final()]);
  return JSON.parse(plaintext.toString('utf8'));
}

/**
 * Answers 200 only after `handle` succeeded: Switchyard retries anything else, so a notification is
 * never lost, and may arrive twice (the same X-Notification-Id): make `handle` idempotent.
 */
export function createReceiver(keyHex: string, handle: (n: Notification, notificationId: string) => Promise<void> | void): Server {
  return createServer((req, res) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > 1_000_000) req.destroy();
      else chunks.push(chunk);
    });
    req.on('end', async () => {
      let notification: Notification;
      try {
        notification = decryptNotification(keyHex, String(req.headers['x-initialization-vector']),
          String(req.headers['x-authentication-tag']), Buffer.concat(chunks).toString('utf8').trim());
      } catch {
        res.writeHead(400).end('cannot decrypt');
        return;
      }
      try {
        await handle(notification, String(req.headers['x-notification-id'] ?? ''));
        res.writeHead(200).end('OK');
      } catch {
        res.writeHead(500).end('try again later');
      }
    });
  });
}

if (import.meta.main) {
  const key = process.env.WEBHOOK_KEY ?? '';
  if (!/^[0-9a-fA-F]{64}$/.test(key)) throw new Error('set WEBHOOK_KEY to the 64-hex secret printed by `webhooks add`');
  const port = Number(process.env.PORT ?? 4000);
  createReceiver(key, (n, id) => {
    console.log(`verified ${n.type} notification ${id}: ${n.payload.paymentType ?? n.action ?? ''} ${n.payload.id ?? ''} ${n.payload.result?.code ?? ''}`);
  }).listen(port, '127.0.0.1', () => console.log(`receiving /v1 notifications on http://127.0.0.1:${port}/`));
}
