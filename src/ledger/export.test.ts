import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseInstant } from './export.ts';

// The reading of dates and times itself (zones, spellings, days that do not exist) is runtime/instant.ts's, tested there.
test('an export window\'s bound: epoch milliseconds, or a date or date-time read as UTC unless it names an offset', () => {
  assert.equal(parseInstant('1772323200000'), 1772323200000);
  assert.equal(parseInstant('2026-03-01'), Date.UTC(2026, 2, 1));
  assert.equal(parseInstant('2026-03-01T12:30'), Date.UTC(2026, 2, 1, 12, 30));
  assert.equal(parseInstant('2026-03-01T12:30+01:00'), Date.UTC(2026, 2, 1, 11, 30));
  assert.equal(parseInstant('20260301'), Date.UTC(2026, 2, 1), 'the ISO basic date, as date +%Y%m%d prints it');
  for (const bad of ['2026-02-30', 'May 5', '', undefined, 12, '20260230', '202603', '1']) assert.equal(parseInstant(bad), undefined, String(bad));
});
