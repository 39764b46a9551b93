import { createCipheriv, createHmac, randomBytes } from 'node:crypto';

/**
 * /v1 notification encryption (reference §8.1): AES-256-GCM under the listener's 64-hex key, no
 * AAD, a fresh 12-byte IV per attempt; body, IV and tag as upper-case hex, as the platform sends them.
 */
export function encryptNotification(keyHex: string, plaintext: string, iv: Buffer = randomBytes(12)): { body: string; iv: string; tag: string } {
  const cipher = createCipheriv('aes-256-gcm', Buffer.from(keyHex, 'hex'), iv);
  const body = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
  return { body: body.toString('hex').toUpperCase(), iv: iv.toString('hex').toUpperCase(), tag: cipher.getAuthTag().toString('hex').toUpperCase() };
}

const hmac = (secret: string, data: string) => createHmac('sha256', Buffer.from(secret, 'utf8')).update(data, 'utf8').digest('base64');

/**
 * Executions signatures (decision 7). `secrets` is the current secret first, then the previous one
 * while a rotation's overlap window lasts. `X-Signature` is the standard base64 HMAC-SHA256 of the
 * raw body keyed with the current secret's UTF-8 bytes (`X-Signature-Previous` the same with the old
 * one); `webhook-signature` lists `v1,<base64 HMAC of "id.timestamp.body">` for each secret,
 * space-separated, as Standard Webhooks does during a rotation.
 */
export function signExecutionsWebhook(secrets: readonly string[], eventId: string, timestampSeconds: number, body: string): Record<string, string> {
  const [current, previous] = secrets;
  if (current === undefined) throw new Error('an executions endpoint needs a secret');
  const signed = `${eventId}.${timestampSeconds}.${body}`;
  return {
    'x-signature': hmac(current, body),
    ...(previous !== undefined ? { 'x-signature-previous': hmac(previous, body) } : {}),
    'webhook-id': eventId,
    'webhook-timestamp': String(timestampSeconds),
    'webhook-signature': secrets.map((s) => `v1,${hmac(s, signed)}`).join(' '),
  };
}
