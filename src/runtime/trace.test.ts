import { test } from 'node:test';
import assert from 'node:assert/strict';
import { childTraceparent, traceFrom, traceparentOf } from './trace.ts';

const sample = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';

test('a valid traceparent is joined: same trace id and flags, a new span of ours', () => {
  const t = traceFrom(sample);
  assert.equal(t.traceId, '4bf92f3577b34da6a3ce929d0e0e4736');
  assert.equal(t.flags, '01');
  assert.match(t.spanId, /^[0-9a-f]{16}$/);
  assert.notEqual(t.spanId, '00f067aa0ba902b7');
  assert.match(traceparentOf(t), /^00-4bf92f3577b34da6a3ce929d0e0e4736-[0-9a-f]{16}-01$/);
});

test('an outgoing call gets a child: the same trace, a fresh span each time', () => {
  const t = traceFrom(sample);
  const a = childTraceparent(t);
  const b = childTraceparent(t);
  assert.match(a, /^00-4bf92f3577b34da6a3ce929d0e0e4736-[0-9a-f]{16}-01$/);
  assert.notEqual(a, b);
  assert.deepEqual(traceFrom(a).traceId, t.traceId);
});

test('absent, malformed, forbidden or all-zero headers start a new trace', () => {
  for (const bad of [undefined, '', 'garbage', 'ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01',
    '00-00000000000000000000000000000000-00f067aa0ba902b7-01', '00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01',
    '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-extra', ['a', 'b']]) {
    const t = traceFrom(bad as never);
    assert.match(t.traceId, /^[0-9a-f]{32}$/);
    assert.notEqual(t.traceId, '4bf92f3577b34da6a3ce929d0e0e4736', String(bad));
  }
  // A later version may carry more fields; its first four are still understood.
  assert.equal(traceFrom('01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00-more').traceId, '4bf92f3577b34da6a3ce929d0e0e4736');
});
