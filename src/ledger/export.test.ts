import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';

// The export window is documented as UTC (a bare date is a UTC day); a date-time without an offset
// must not be read in the server's local time zone, or the window moves with the host's TZ.
test('ledger export bounds without an offset are read as UTC whatever the server\'s time zone', () => {
  const script = `import { parseInstant } from ${JSON.stringify(new URL('./export.ts', import.meta.url).href)};
    console.log(JSON.stringify([parseInstant('2026-03-01'), parseInstant('2026-03-01T00:00:00'), parseInstant('2026-03-01T12:30')]));`;
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { env: { ...process.env, TZ: 'America/New_York' }, encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  const [day, midnight, noon] = JSON.parse(r.stdout) as number[];
  assert.equal(day, Date.UTC(2026, 2, 1));
  assert.equal(midnight, Date.UTC(2026, 2, 1), 'a date-time without offset moved by the host time zone');
  assert.equal(noon, Date.UTC(2026, 2, 1, 12, 30));
});
