import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createCipheriv, randomBytes } from 'node:crypto';
import { decryptNotification } from '../examples/webhooks/opp-receiver.ts';

test('the example receiver decrypts a notification, and refuses one whose tag was cut short', () => {
  const key = randomBytes(32);
  const iv = randomBytes(12);
  const c = createCipheriv('aes-256-gcm', key, iv);
  const body = Buffer.concat([c.update(JSON.stringify({ type: 'PAYMENT', payload: { id: 'x' } })), c.final()]);
  const tag = c.getAuthTag();
  assert.deepEqual(decryptNotification(key.toString('hex'), iv.toString('hex'), tag.toString('hex'), body.toString('hex')), { type: 'PAYMENT', payload: { id: 'x' } });
  for (const bytes of [12, 8, 4]) {
    assert.throws(() => decryptNotification(key.toString('hex'), iv.toString('hex'), tag.subarray(0, bytes).toString('hex'), body.toString('hex')), Error, `${bytes} bytes`);
  }
});
