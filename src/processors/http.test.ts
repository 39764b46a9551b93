import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { pspFetch } from './http.ts';
import { runForRequest } from '../runtime/request-context.ts';
import { traceFrom } from '../runtime/trace.ts';

test('pspFetch carries the caller\'s trace to the PSP as a child traceparent, and the caller\'s own headers', async (t) => {
  const seen: IncomingHttpHeaders[] = [];
  const server = createServer((req, res) => { seen.push(req.headers); res.setHeader('content-type', 'application/json'); res.end('{"ok":true}'); });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  t.after(() => server.close());
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1/payments`;

  const trace = traceFrom('00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01');
  const answer = await runForRequest('req-1', () => pspFetch(url, { method: 'POST', headers: { 'x-api-key': 'k' }, body: '{}', timeoutMs: 2000 }), trace);
  assert.deepEqual(answer, { status: 200, json: { ok: true } });
  assert.equal(seen[0]!['x-api-key'], 'k');
  assert.match(String(seen[0]!.traceparent), /^00-4bf92f3577b34da6a3ce929d0e0e4736-[0-9a-f]{16}-01$/);
  assert.notEqual(String(seen[0]!.traceparent).split('-')[2], '00f067aa0ba902b7', 'a span of our own, not the caller\'s');

  // Outside any request a call starts a trace of its own.
  await pspFetch(url, { method: 'GET', headers: {}, timeoutMs: 2000 });
  assert.match(String(seen[1]!.traceparent), /^00-[0-9a-f]{32}-[0-9a-f]{16}-0[01]$/);
  assert.notEqual(String(seen[1]!.traceparent).split('-')[1], '4bf92f3577b34da6a3ce929d0e0e4736');
});

test('a PSP\'s 3-D Secure page reaches the shopper only as an http(s) URL', async () => {
  const { shopperPageUrl } = await import('./http.ts');
  const { redirectOfAction } = await import('./adyen/outcomes.ts');
  const { outcomeOfIntent } = await import('./stripe/outcomes.ts');
  const { redirectOf } = await import('./opp/connector.ts');
  assert.equal(shopperPageUrl('https://acs.example/challenge?x=1'), 'https://acs.example/challenge?x=1');
  for (const bad of ['javascript:alert(document.domain)//', 'data:text/html,<script>1</script>', 'not a url', 42, undefined]) {
    assert.equal(shopperPageUrl(bad), undefined, String(bad));
    assert.equal(redirectOfAction({ type: 'redirect', method: 'GET', url: bad }), undefined, `adyen ${String(bad)}`);
    assert.equal(redirectOf({ url: bad, method: 'GET', parameters: [] }), undefined, `opp ${String(bad)}`);
    const o = outcomeOfIntent({ id: 'pi_1', status: 'requires_action', next_action: { type: 'redirect_to_url', redirect_to_url: { url: bad } } });
    assert.ok(o?.kind === 'declined', `stripe ${String(bad)}: ${JSON.stringify(o)}`);
  }
});
