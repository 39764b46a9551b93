import { test } from 'node:test';
import assert from 'node:assert/strict';
import { dashboardAddress, safeNext } from './next-page.ts';

test('a dashboard page (with its query) is kept; anything else is the overview', () => {
  for (const ok of ['/dashboard', '/dashboard/payments', '/dashboard/payments?status=failed&q=a%20b', '/dashboard?x=1']) assert.equal(safeNext(ok), ok);
  for (const bad of [undefined, 7, 'https://evil.example/dashboard', '//evil.example/', '/dashboardx', '/dashboard/a b', '/dashboard\\x', '/dashboard/payments?q=4111111111111111', `/dashboard/${'a'.repeat(1100)}`]) {
    assert.equal(safeNext(bad), '/dashboard', String(bad).slice(0, 40));
  }
});

test('a character beyond ASCII is kept, percent-encoded as a browser sends it (raw, no Location header may carry it)', () => {
  assert.equal(safeNext('/dashboard/payments?q=\u0100'), '/dashboard/payments?q=%C4%80');
  assert.equal(safeNext('/dashboard/payments?q=M\u00fcller&c=\u{1F600}'), '/dashboard/payments?q=M%C3%BCller&c=%F0%9F%98%80');
  assert.equal(safeNext('/dashboard/payments?q=a%20b'), '/dashboard/payments?q=a%20b', 'what is encoded already stays');
});

// A pattern whose parts could both take the "?"s backtracks quadratically on such a run: the old one
// took about 9 s on this string (half a second on one that fits a request's 16 KiB); a linear one
// takes well under a millisecond, so the bound below is a thousand times the expected time.
test('a crafted run of "?" is matched in linear time', () => {
  const crafted = `/dashboard/${'?'.repeat(60_000)} `;
  const started = performance.now();
  assert.equal(dashboardAddress.test(crafted), false);
  const ms = performance.now() - started;
  assert.ok(ms < 1000, `${ms.toFixed(0)} ms to refuse ${crafted.length} characters: the pattern backtracks`);
  assert.equal(safeNext(crafted), '/dashboard', 'and a next that long is refused before the pattern runs');
});
