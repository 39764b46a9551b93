/** Card numbers in any grouping (two-digit groups, several spaces, plus signs, dots, tabs) are scrubbed from logs and error strings. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { scrubPans, scrubJsonLine } from '../src/runtime/scrub.ts';

const missed = [
  'card 4111 11 11 1111 1111 12 28',   // the card followed by its expiry
  'ref 05 4111 11 11 1111 1111',       // beside another digit group (286a040's own example)
  'card 4111  11 11 1111 1111',        // several spaces (286a040)
  'card 4111+11+11+1111+1111',         // form-encoded (286a040)
  'card 4111.11.11.1111.1111',         // dots (286a040)
  'card 4111\t11\t11\t1111\t1111',     // tabs (what  says it now reads)
];
for (const text of missed) {
  test(`scrubPans redacts ${JSON.stringify(text)}`, () => {
    assert.ok(!scrubPans(text).includes('1111'), scrubPans(text));
  });
  test(`scrubJsonLine redacts ${JSON.stringify(text)} in a log line`, () => {
    const line = JSON.stringify({ level: 50, msg: 'psp said', detail: text });
    assert.ok(!scrubJsonLine(line).includes('1111'), scrubJsonLine(line));
  });
}

