/**
 * A CVV sent in the query string under a bracketed form name (`card[cvv]`, `card[cvc]`,
 * `card[security_code]`, as PHP's and Stripe's form encoders write nested fields) reached the
 * "incoming request" log line in the clear, while `card.cvv=` and `cvv=` were redacted.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { startGateway, type Gateway } from './support/harness.ts';

let gw: Gateway;
before(async () => { gw = await startGateway(); });
after(async () => { await gw?.close(); });

test('a CVV in the query string under a bracketed name is never written to a log line', async () => {
  const from = gw.logs.length;
  await fetch(`${gw.url}/v1/payments?card[cvv]=987&card%5Bcvc%5D=876&card[security_code]=765&card.cvv=543`, { method: 'POST' });
  await fetch(`${gw.url}/merchant/workflows/x/executions?card[cvc]=654`);
  await new Promise((r) => setTimeout(r, 200));
  const lines = gw.logs.slice(from);
  assert.ok(lines.some((l) => l.includes('incoming request') && l.includes('/v1/payments?')), 'the request is logged');
  assert.ok(lines.some((l) => l.includes('card.cvv=[REDACTED]')), 'the dotted name is redacted');
  const leaking = lines.filter((l) => /987|876|765|654/.test(l.replace(/"time":"[^"]*"|"requestId":"[^"]*"|"traceId":"[^"]*"|"remotePort":\d+|"host":"[^"]*"/g, '')));
  assert.deepEqual(leaking.map((l) => l.slice(0, 300)), [], 'CVVs under bracketed query names are written to the log');
});
