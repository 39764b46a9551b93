/**
 * Concurrent payments committed together by group commit each keep their own request id and trace:
 * in the business log line and in the traceparent their webhook deliveries carry. A batch runs from
 * whichever caller started it; each unit runs in its own caller's context.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomBytes } from 'node:crypto';
import { startGateway, testCard } from './support/harness.ts';

test('concurrent payments each keep their own request id and trace, in logs and webhooks', async () => {
  const received: { headers: IncomingHttpHeaders; body: string }[] = [];
  const receiver = createServer((req, res) => {
    let body = '';
    req.on('data', (c) => { body += c; });
    req.on('end', () => { received.push({ headers: req.headers, body }); res.end('OK'); });
  });
  await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r));
  const gw = await startGateway({ env: { SWITCHYARD_WEBHOOK_ALLOW: '127.0.0.0/8,::1/128' } });
  try {
    const added = await gw.app.webhooks.addEndpoint({ merchantId: gw.merchant.merchantId, dialect: 'opp', url: `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/` });
    assert.ok(added.ok);
    const n = 12;
    // Trace ids without a long run of digits: one that reads as a card number is masked in the log
    // lines like any other (by design), and would not be found there as sent.
    const traceId = (): string => { for (;;) { const t = randomBytes(16).toString('hex'); if (!/[0-9]{12}/.test(t)) return t; } };
    const sent = Array.from({ length: n }, (_, i) => ({ requestId: `req-${i}`, traceId: traceId() }));
    const answers = await Promise.all(sent.map(async (s) => {
      const body = new URLSearchParams({ entityId: gw.merchant.entityId, amount: '12.34', currency: 'EUR', paymentType: 'DB', ...testCard });
      const res = await fetch(`${gw.url}/v1/payments`, {
        method: 'POST', body,
        headers: { authorization: `Bearer ${gw.merchant.accessToken}`, 'x-request-id': s.requestId, traceparent: `00-${s.traceId}-00f067aa0ba902b7-01` },
      });
      return { ...s, paymentId: (await res.json() as any).id as string };
    }));
    // The business lines are written as each payment's outcome commits: on a loaded machine, wait for all of them.
    const businessLines = () => gw.logs.map((l) => JSON.parse(l) as Record<string, any>).filter((l) => l.event === 'payment.operation');
    for (let i = 0; i < 100 && !answers.every((a) => businessLines().some((x) => x.paymentId === a.paymentId)); i++) await new Promise((r) => setTimeout(r, 50));
    const lines = businessLines();
    const wrongLogs = answers.filter((a) => {
      const l = lines.find((x) => x.paymentId === a.paymentId);
      return !l || l.requestId !== a.requestId || l.traceId !== a.traceId;
    }).map((a) => {
      const l = lines.find((x) => x.paymentId === a.paymentId);
      return l ? `${a.requestId} logged as ${l.requestId}` : `${a.requestId}: no business line`;
    });
    await gw.app.webhooks.runOnce();
    await new Promise((r) => setTimeout(r, 300));
    // OPP notifications are encrypted: compare the traces the deliveries carry with the traces sent.
    const sentTraces = new Set(answers.map((a) => a.traceId));
    const hookTraces = received.map((d) => /^00-([0-9a-f]{32})-/.exec(String(d.headers.traceparent))?.[1]).filter((t) => t && sentTraces.has(t));
    assert.equal(hookTraces.length, n, 'one delivery per payment in a client trace');
    const wrongHooks = [...sentTraces].filter((t) => !hookTraces.includes(t)).map((t) => answers.find((a) => a.traceId === t)!.requestId);
    assert.deepEqual({ wrongLogs, wrongHooks }, { wrongLogs: [], wrongHooks: [] });
  } finally {
    await gw.close();
    receiver.close();
  }
});
