import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createLogger } from './logger.ts';

/** The lines a logger writes, each parsed. */
function capture() {
  const lines: Record<string, unknown>[] = [];
  const logger = createLogger({ level: 'info', destination: { write: (line: string) => { lines.push(JSON.parse(line) as Record<string, unknown>); } } });
  return { logger, lines };
}

test('a fraction is written to three decimals, so a latency is never read as a grouped card number and redacted', () => {
  const { logger, lines } = capture();
  // Each of these, in full, is 16 digits around a dot that pass the Luhn check.
  for (const responseTime of [2.924160680820884, 16.9729287299395, 3.3729434698009797]) logger.info({ responseTime }, 'request completed');
  assert.deepEqual(lines.map((l) => l.responseTime), [2.924, 16.973, 3.373]);
});

test('whole numbers are written as they are, and a card number logged by mistake is still redacted', () => {
  const { logger, lines } = capture();
  logger.info({ statusCode: 200, amount: 9200, pan: 4111111111111111 }, 'x');
  assert.equal(lines[0]!.statusCode, 200);
  assert.equal(lines[0]!.amount, 9200);
  assert.equal(lines[0]!.pan, '[PAN REDACTED]');
});
