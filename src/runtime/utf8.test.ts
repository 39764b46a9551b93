import { test } from 'node:test';
import assert from 'node:assert/strict';
import { clipText, utf8Text } from './utf8.ts';

test('clipText never leaves half a character', () => {
  assert.equal(clipText('abc', 5), 'abc');
  assert.equal(clipText('abcdef', 3), 'abc');
  assert.equal(clipText('a😀😀', 2), 'a', 'a cut between the halves of the emoji drops the half');
  assert.equal(clipText('a😀😀', 3), 'a😀');
  assert.equal(clipText('a😀😀', 4), 'a😀');
  assert.ok(clipText('a' + '😀'.repeat(300), 256).isWellFormed());
  assert.equal(clipText('x\ud800y', 10), 'x\uFFFDy', 'a lone half already in the text is replaced');
});

test('utf8Text refuses bytes that are not UTF-8', () => {
  assert.equal(utf8Text(Buffer.from('café')), 'café');
  assert.equal(utf8Text(Buffer.from([0x63, 0x61, 0x66, 0xe9])), undefined);
});
