import { test } from 'node:test';
import assert from 'node:assert/strict';
import { withoutControlCharacters } from './outcome.ts';

test('control characters leave everything a PSP wrote in its outcome: identifiers get U+FFFD, free text a space', () => {
  const declined = withoutControlCharacters({
    kind: 'declined', reason: 'soft', acquirerCode: '05\u0000', message: 'refused\r\n\u001b[31mby issuer', pspReference: 'PSP\u0000REF', details: { 'k\u0007': 'v\u0085x' },
  });
  assert.deepEqual(declined, { kind: 'declined', reason: 'soft', acquirerCode: '05\uFFFD', message: 'refused   [31mby issuer', pspReference: 'PSP\uFFFDREF', details: { 'k ': 'v x' } });
  const approved = withoutControlCharacters({ kind: 'approved', pspReference: 'ABC123', acquirerCode: undefined, details: { eci: '05' } });
  assert.deepEqual(approved, { kind: 'approved', pspReference: 'ABC123', acquirerCode: undefined, details: { eci: '05' } });
  assert.deepEqual(withoutControlCharacters({ kind: 'unknown' }), { kind: 'unknown' });
});
