import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { resultCodesMarkdown } from './result-codes-doc.ts';
import { paymentErrorCodes, notFoundCodes } from './result-map.ts';
import { isKnownResultCode, classifyResultCode } from '../../processors/result-codes.ts';

test('docs/result-codes.md matches the catalogue the server serves', () => {
  const doc = readFileSync(new URL('../../../docs/result-codes.md', import.meta.url), 'utf8');
  assert.equal(doc, resultCodesMarkdown(), 'regenerate with: node scripts/result-codes-doc.ts > docs/result-codes.md');
});

test('every code the dialect maps to is in the catalogue', () => {
  for (const code of [...Object.values(paymentErrorCodes), ...Object.values(notFoundCodes)]) {
    assert.ok(isKnownResultCode(code), code);
  }
});

test('classification follows the platform patterns', () => {
  assert.equal(classifyResultCode('000.000.000'), 'success');
  assert.equal(classifyResultCode('000.100.110'), 'success');
  assert.equal(classifyResultCode('000.400.110'), 'success');
  assert.equal(classifyResultCode('000.400.020'), 'review');
  assert.equal(classifyResultCode('000.200.000'), 'pending');
  assert.equal(classifyResultCode('800.400.500'), 'pending');
  assert.equal(classifyResultCode('800.100.151'), 'rejected');
  assert.equal(classifyResultCode('900.100.300'), 'rejected');
});
