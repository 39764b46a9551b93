import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createDecipheriv, createHmac } from 'node:crypto';
import { encryptNotification, signExecutionsWebhook } from './signing.ts';

test('encryption reproduces the reference test vector (§8.1)', () => {
  const out = encryptNotification('000102030405060708090a0b0c0d0e0f000102030405060708090a0b0c0d0e0f', '{"type":"PAYMENT"}', Buffer.alloc(12));
  assert.deepEqual(out, { body: '0A3471C72D9BE49A8520F79C66BBD9A12FF9', iv: '000000000000000000000000', tag: 'CE573FB7A41AB78E743180DC83FF09BD' });
});

test('a fresh IV per call, decryptable with the key', () => {
  const key = 'ab'.repeat(32);
  const a = encryptNotification(key, 'hello');
  const b = encryptNotification(key, 'hello');
  assert.notEqual(a.iv, b.iv);
  const d = createDecipheriv('aes-256-gcm', Buffer.from(key, 'hex'), Buffer.from(a.iv, 'hex'));
  d.setAuthTag(Buffer.from(a.tag, 'hex'));
  assert.equal(Buffer.concat([d.update(Buffer.from(a.body, 'hex')), d.final()]).toString(), 'hello');
});

test('executions signatures: X-Signature over the body, Standard Webhooks over id.timestamp.body, both secrets while rotating', () => {
  const body = '{"event":"executionCreated"}';
  const h = signExecutionsWebhook(['NEW'], 'evt1', 1700000000, body);
  assert.equal(h['x-signature'], createHmac('sha256', 'NEW').update(body).digest('base64'));
  assert.equal(h['webhook-signature'], 'v1,' + createHmac('sha256', 'NEW').update(`evt1.1700000000.${body}`).digest('base64'));
  assert.equal(h['x-signature-previous'], undefined);
  const r = signExecutionsWebhook(['NEW', 'OLD'], 'evt1', 1700000000, body);
  assert.equal(r['x-signature-previous'], createHmac('sha256', 'OLD').update(body).digest('base64'));
  assert.equal(r['webhook-signature']!.split(' ').length, 2);
  assert.ok(r['webhook-signature']!.endsWith(createHmac('sha256', 'OLD').update(`evt1.1700000000.${body}`).digest('base64')));
});
