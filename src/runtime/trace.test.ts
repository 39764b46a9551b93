import { test } from 'node:test';
import assert from 'node:assert/strict';
import { childTraceparent, newTrace, traceFrom, traceparentOf } from './trace.ts';
import { scrubJsonLine, scrubPans } from './scrub.ts';

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

test('a trace id the gateway starts never reads as a card number in its own log lines', () => {
  let masked = 0;
  let example = '';
  for (let i = 0; i < 100_000; i++) {
    const t = newTrace();
    const line = JSON.stringify({ level: 30, msg: 'request completed', traceId: t.traceId });
    if (scrubJsonLine(line) !== line) { masked++; example ||= `${t.traceId} -> ${scrubJsonLine(line)}`; }
  }
  assert.equal(masked, 0, `${masked} of 100,000 trace ids were masked as card numbers in a log line, e.g. ${example}`);
});

test('an outgoing traceparent (trace id, span id, dashes) never reads as a card number', () => {
  let masked = 0;
  let example = '';
  for (let i = 0; i < 100_000; i++) {
    const t = newTrace();
    for (const tp of [traceparentOf(t), childTraceparent(t)]) {
      if (scrubPans(tp) !== tp) { masked++; example ||= `${tp} -> ${scrubPans(tp)}`; }
    }
  }
  assert.equal(masked, 0, `${masked} traceparents were masked, e.g. ${example}`);
});

test('a caller\'s trace id holding a card number is not joined: the request starts a trace of its own (it would be stored with its events and sent on)', () => {
  for (const traceId of ['abcdefabcdefabcd4111111111111111', '4111111111111111aaaaaaaaaaaaaaaa']) {
    const t = traceFrom(`00-${traceId}-00f067aa0ba902b7-01`);
    assert.notEqual(t.traceId, traceId);
    assert.equal(scrubPans(traceparentOf(t)), traceparentOf(t));
  }
  // Digits that are no card number (not a valid one by its check digit) are joined as they are.
  assert.equal(traceFrom('00-4111111111111112aaaaaaaaaaaaaaaa-00f067aa0ba902b7-01').traceId, '4111111111111112aaaaaaaaaaaaaaaa');
});
