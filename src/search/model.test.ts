import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeCursor, encodeCursor, filterQuery, parseFilter } from './model.ts';

test('a filter reads from query parameters; amounts in the currency\'s units; dates as whole UTC days', () => {
  const r = parseFilter({ q: ' order-1 ', status: 'captured', currency: 'jpy', min: '100', max: '2500', from: '2026-05-01', to: '2026-05-01', limit: '10', channel: 'executions' });
  assert.ok(r.ok);
  assert.equal(r.value.q, 'order-1');
  assert.equal(r.value.currency, 'JPY');
  assert.equal(r.value.minAmount, 100);
  assert.equal(r.value.maxAmount, 2500);
  assert.equal(r.value.from, Date.parse('2026-05-01T00:00:00Z'));
  assert.equal(r.value.to, Date.parse('2026-05-02T00:00:00Z'));
  assert.equal(r.value.limit, 10);
  const eur = parseFilter({ currency: 'EUR', min: '10.5' });
  assert.ok(eur.ok && eur.value.minAmount === 1050);
  assert.equal(parseFilter({}).ok, true);
});

test('what does not read is named, field by field', () => {
  const problem = (q: Record<string, string>) => { const r = parseFilter(q); return r.ok ? undefined : r.error.field; };
  assert.equal(problem({ status: 'paid' }), 'status');
  assert.equal(problem({ currency: 'EURO' }), 'currency');
  assert.equal(problem({ min: '10' }), 'min');
  assert.equal(problem({ currency: 'EUR', max: '10.123' }), 'max');
  assert.equal(problem({ from: 'yesterday' }), 'from');
  assert.equal(problem({ merchant: 'x' }), 'merchant');
  assert.equal(problem({ cursor: 'garbage!' }), 'cursor');
  assert.equal(problem({ limit: '0' }), 'limit');
  assert.equal(problem({ limit: '201' }), 'limit');
  assert.equal(problem({ channel: 'soap' }), 'channel');
});

test('cursors round-trip, and a filter prints back to the same filter', () => {
  const c = { createdAt: 1_767_225_600_123, id: 'a'.repeat(32) };
  assert.deepEqual(decodeCursor(encodeCursor(c)), c);
  const r = parseFilter({ q: 'x', currency: 'EUR', min: '1.00', max: '2.50', status: 'authorized', from: '2026-01-01T10:00:00Z' });
  assert.ok(r.ok);
  const again = parseFilter(Object.fromEntries(filterQuery(r.value)));
  assert.deepEqual(again, r);
});

test('the next page\'s link prints min and max exactly, large three-decimal amounts too', () => {
  const f = parseFilter({ currency: 'KWD', min: '9007199254740.981', max: '9007199254740.991' });
  assert.ok(f.ok);
  assert.equal(filterQuery(f.value).get('min'), '9007199254740.981');
  assert.equal(filterQuery(f.value).get('max'), '9007199254740.991');
});

test('only the blanks a form or a paste adds are trimmed (space, tab, CR, LF), at both ends; a run of them inside stays', () => {
  const q = (text: string) => { const r = parseFilter({ q: text }); return r.ok ? r.value.q : 'refused'; };
  assert.equal(q(' \t order-7 \r\n'), 'order-7');
  assert.equal(q('order  7'), 'order  7');
  assert.equal(q('注文-7\u3000'), '注文-7\u3000', 'an ideographic space is the reference\'s own');
  assert.equal(q(' \t\r\n'), undefined, 'blanks alone are no filter');
  // A long run of blanks inside a value is read in one pass (the bench prints the cost's growth).
  const r = parseFilter({ status: `a${' '.repeat(16_000)}a` });
  assert.equal(r.ok, false);
});

test('a limit is a whole decimal number: 0x10, 1e1, 1.0, 0b11 and +5 are refused naming it (Number() read them as 16, 10, 1, 3 and 5)', () => {
  for (const limit of ['0x10', '1e1', '1.0', '0b11', '+5']) {
    const r = parseFilter({ limit });
    assert.equal(r.ok, false, `limit=${limit} was read as ${r.ok ? r.value.limit : ''}`);
    if (!r.ok) assert.equal(r.error.field, 'limit');
  }
  const r = parseFilter({ limit: '25' });
  assert.equal(r.ok && r.value.limit, 25);
});
