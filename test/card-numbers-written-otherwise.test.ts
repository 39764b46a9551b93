/**
 * Card numbers written in ways the scrubber and the free-text screen must still find (tabs, line
 * breaks and no-break spaces between groups, JSON escapes around them in a log line, percent-encoded
 * separators in a URL, full-width digits), and human text that must not be taken for one (dates and
 * times in dotted groups).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { createLogger } from '../src/runtime/logger.ts';
import { scrubPans } from '../src/runtime/scrub.ts';
import { createCardDataScreen } from '../src/vault/free-text.ts';
import { newCanary } from './support/canary.ts';
import { opp, startGateway } from './support/harness.ts';

function logged(msg: string): string {
  let out = '';
  const dest = new Writable({ write(c, _e, cb) { out += String(c); cb(); } });
  const log = createLogger({ destination: dest as never });
  log.info({ pspMessage: msg }, 'psp declined');
  log.info(msg);
  return out;
}

test('a card number split by tabs or line breaks is scrubbed from the JSON log line too (where the escapes split its groups)', () => {
  const { pan } = newCanary();
  const g = pan.match(/.{1,4}/g)!;
  for (const sep of ['\t', '\n', '\r\n', ' \t']) {
    const msg = `card ${g.join(sep)} refused`;
    assert.notEqual(scrubPans(msg), msg, 'the text scrubber itself finds it');
    const line = logged(msg);
    const digitsInLine = line.replace(/\\[tnr]/g, '').replace(/[^0-9]/g, '');
    assert.ok(!digitsInLine.includes(pan), `PAN in log with separator ${JSON.stringify(sep)}: ${line}`);
  }
});

test('a card number after a control character is scrubbed from the log line (the escape \\u0001 glues digits to it)', () => {
  const { pan } = newCanary();
  const line = logged(`\u0001${pan}`);
  assert.ok(!line.includes(pan), line);
});

test('percent-encoded tabs, line breaks and no-break spaces between groups in a URL are read as separators', () => {
  const { pan } = newCanary();
  const g = pan.match(/.{1,4}/g)!;
  for (const sep of ['%09', '%0A', '%C2%A0']) {
    const url = `/v1/nope/${g.join(sep)}`;
    assert.notEqual(scrubPans(url), url, `encoded ${sep}`);
  }
});

test('human text with dotted dates and time slots is not taken for a card number', () => {
  const screen = createCardDataScreen(Buffer.alloc(32, 1));
  // cart.items[n].description / shipping.* / reasonDescription are "refused" fields.
  const refused = ['Delivery 09.01.2026 10.00 - 12.00', 'Order placed 2026-12-03 00.02.15'].filter((t) => screen.holdsPan(t));
  assert.deepEqual(refused, []);
});

test('a card number typed in full-width digits (a Japanese input method) is refused in human text and scrubbed', () => {
  const { pan } = newCanary();
  const wide = [...pan].map((d) => String.fromCharCode(0xff10 + Number(d))).join('');
  const screen = createCardDataScreen(Buffer.alloc(32, 1));
  assert.equal(screen.holdsPan(`Taro ${wide}`), true);
  assert.notEqual(scrubPans(`card ${wide}`), `card ${wide}`);
});

test('a card number typed in another script\'s digits (Arabic-Indic, Persian, Devanagari, Thai) is refused in human text and scrubbed', () => {
  const { pan } = newCanary();
  const screen = createCardDataScreen(Buffer.alloc(32, 1));
  for (const zero of [0x0660, 0x06f0, 0x0966, 0x0e50]) {
    const written = [...pan].map((d) => String.fromCharCode(zero + Number(d))).join('');
    assert.equal(screen.holdsPan(`Customer ${written}`), true, zero.toString(16));
    assert.notEqual(scrubPans(`card ${written}`), `card ${written}`, zero.toString(16));
  }
  // A date in Arabic-Indic digits is a date, as in ASCII ones.
  assert.equal(screen.holdsPan('Delivery \u0660\u0669.\u0660\u0661.\u0662\u0660\u0662\u0666'), false);
});

test('a /v1 query URL holding a card number split by %09, %C2%A0 or %0A is logged without it', async () => {
  const { pan } = newCanary();
  const g = pan.match(/.{1,4}/g)!;
  const gw = await startGateway();
  try {
    for (const sep of ['%09', '%C2%A0', '%0A']) await opp(gw, 'GET', `/v1/query?merchantTransactionId=${g.join(sep)}`, {});
    const leaks = gw.logs.filter((l) => decodeURIComponent(l.replace(/%(?![0-9A-Fa-f]{2})/g, '')).replace(/[^0-9]/g, '').includes(pan) || l.replace(/%(09|0A|C2%A0)/g, '').includes(pan));
    assert.deepEqual(leaks.map((l) => l.slice(0, 300)), []);
  } finally { await gw.close(); }
});
