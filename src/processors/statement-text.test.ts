import { test } from 'node:test';
import assert from 'node:assert/strict';
import { statementTextFor } from './statement-text.ts';

const adyen = { allowed: /^[A-Za-z0-9 .,'_\-?+*/]$/, max: 22 };

test('statement text keeps what the PSP prints: accents off, refused characters out, spaces made one, cut to the line', () => {
  assert.equal(statementTextFor('Café Müller  #1042', adyen), 'Cafe Muller 1042');
  assert.equal(statementTextFor('ACME SHOES ORDER 1042 EXTRA WORDS', adyen), 'ACME SHOES ORDER 1042');
  assert.equal(statementTextFor('  <b>Shop</b> ', adyen), 'bShop/b');
  assert.equal(statementTextFor('東京', adyen), undefined, 'nothing printable left');
  assert.equal(statementTextFor('1042 ', { ...adyen, needsLetter: true }), undefined, 'a PSP that wants a letter gets none rather than a refusal');
  assert.equal(statementTextFor('A'.repeat(21) + ' B', adyen), 'A'.repeat(21), 'no space is left at the end of a cut');
});
