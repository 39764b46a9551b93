import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readInstant } from './instant.ts';

test('a day, or a date and time, UTC unless an offset is named', () => {
  assert.equal(readInstant('2026-03-01'), Date.UTC(2026, 2, 1));
  assert.equal(readInstant('2026-03-01', { end: true }), Date.UTC(2026, 2, 2), 'the end of a range holds the whole day');
  assert.equal(readInstant('2026-03-01T12:30'), Date.UTC(2026, 2, 1, 12, 30));
  assert.equal(readInstant('2026-03-01T12:30:15.250Z'), Date.UTC(2026, 2, 1, 12, 30, 15, 250));
  assert.equal(readInstant('2026-03-01T12:30:00+02:00'), Date.UTC(2026, 2, 1, 10, 30));
  assert.equal(readInstant('2024-02-29'), Date.UTC(2024, 1, 29), 'a leap day');
  // RFC 3339's other spellings, and the dashboard's own.
  assert.equal(readInstant('2026-03-02 14:05:11 UTC'), Date.UTC(2026, 2, 2, 14, 5, 11));
  assert.equal(readInstant('2026-03-02 14:05:11Z'), Date.UTC(2026, 2, 2, 14, 5, 11));
  assert.equal(readInstant('2026-03-02t14:05:11z'), Date.UTC(2026, 2, 2, 14, 5, 11));
  assert.equal(readInstant('2026-03-02T14:05:11+0100'), Date.UTC(2026, 2, 2, 13, 5, 11));
  assert.equal(readInstant('2026-03-02T14:05:11-05:30'), Date.UTC(2026, 2, 2, 19, 35, 11));
});

test('a day that does not exist, or what is not an ISO date, is refused rather than moved', () => {
  for (const text of ['2026-02-30', '2025-02-29', '2026-04-31T10:00:00Z', '2026-13-01', '2026-00-10', '2026-01-01T25:00:00Z',
    '1', 'May 5', '2026-1-5', '2026-01-01T10', ' 2026-01-01', '2026-01-01T10:00 CET', '2026-01-01T10:00+1', '']) {
    assert.equal(readInstant(text), undefined, text);
  }
});

test('the server\'s time zone changes nothing', () => {
  const script = `import { readInstant } from ${JSON.stringify(new URL('./instant.ts', import.meta.url).href)};
    console.log(JSON.stringify([readInstant('2026-03-01'), readInstant('2026-03-01T00:00:00'), readInstant('2026-07-01T12:30')]));`;
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { env: { ...process.env, TZ: 'America/New_York' }, encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  assert.deepEqual(JSON.parse(r.stdout), [Date.UTC(2026, 2, 1), Date.UTC(2026, 2, 1), Date.UTC(2026, 6, 1, 12, 30)]);
});
