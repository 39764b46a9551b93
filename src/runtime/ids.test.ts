import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBuffer, randomHex, randomIds, timeOrderedHex32 } from './ids.ts';

test('randomHex: the asked number of bytes as hex, never repeating, across refills of its pool', () => {
  const seen = new Set<string>();
  for (let i = 0; i < 2000; i++) {
    const h = randomHex(i % 2 ? 16 : 8);
    assert.match(h, i % 2 ? /^[0-9a-f]{32}$/ : /^[0-9a-f]{16}$/);
    seen.add(h);
  }
  assert.equal(seen.size, 2000, '24,000 bytes drawn through six refills of a 4 KiB pool, no id twice');
  assert.match(randomIds.hex32(), /^[0-9a-f]{32}$/);
});

test('hex32: ids made later sort later (the clock first), with 80 random bits after it', () => {
  const early = timeOrderedHex32(Date.UTC(2026, 0, 1));
  const later = timeOrderedHex32(Date.UTC(2026, 0, 1) + 1);
  assert.match(early, /^[0-9a-f]{32}$/);
  assert.equal(early.slice(0, 12), Date.UTC(2026, 0, 1).toString(16).padStart(12, '0'));
  assert.ok(early < later, 'one millisecond later sorts after');
  const sameMs = new Set(Array.from({ length: 1000 }, () => timeOrderedHex32(1_800_000_000_000).slice(12)));
  assert.equal(sameMs.size, 1000, 'ids of one millisecond differ in their random part');
  const made = randomIds.hex32();
  assert.ok(Math.abs(parseInt(made.slice(0, 12), 16) - Date.now()) < 5_000, 'the live source reads the clock');
});

test('randomBuffer: fresh bytes in a Buffer of their own, wiped from the pool they came from', () => {
  const a = randomBuffer(32);
  const b = randomBuffer(32);
  assert.equal(a.length, 32);
  assert.notDeepEqual(a, b);
  assert.notEqual(a.buffer, b.buffer, 'each key has its own memory, not a slice of a shared slab');
  assert.equal(a.byteOffset, 0);
  // Drawn across refills, no two 12-byte values repeat (an IV used twice under one key breaks GCM).
  const seen = new Set<string>();
  for (let i = 0; i < 2000; i++) seen.add(randomBuffer(12).toString('hex'));
  assert.equal(seen.size, 2000);
  assert.throws(() => randomBuffer(5000), /at most 4096/);
});

test('no id reads as a card number: ids with thirteen digits in a row are drawn again (about one in a hundred would be)', async () => {
  const { scrubPans } = await import('./scrub.ts');
  const { referenceHex, uuid } = await import('./ids.ts');
  let hexWithRuns = 0;
  for (let i = 0; i < 100_000; i++) {
    const id = timeOrderedHex32();
    assert.doesNotMatch(id, /[0-9]{13}/);
    assert.equal(scrubPans(id), id);
    // What drawing the random part alone would have given: the rule is not idle.
    if (/[0-9]{13}/.test(`01a242ed52e1${randomHex(10)}`)) hexWithRuns++;
  }
  assert.ok(hexWithRuns > 100, `only ${hexWithRuns} of 100,000 random ids held 13 digits in a row: the test would not see the rule broken`);
  for (let i = 0; i < 50_000; i++) {
    const reference = referenceHex(8);
    assert.doesNotMatch(reference, /[0-9]{13}/);
    const id = uuid();
    assert.doesNotMatch(id.replaceAll('-', ''), /[0-9]{13}/);
    assert.equal(scrubPans(id), id);
  }
});
