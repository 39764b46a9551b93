/**
 * The shopper's pages the gateway hosts (a PSP's return address, the executions' consumerWait page)
 * answer a database that cannot be reached as every surface does: 503 with Retry-After, in their
 * own shape, and never with the error's message, which named the database's address and port
 * (Fastify's own answer for a route without a handler of its own).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { postgresAvailable, startGateway } from './support/harness.ts';
import { postgresProxy } from './support/postgres-proxy.ts';

const skip = (await postgresAvailable()) ? undefined : 'PostgreSQL unreachable';

test('hosted pages answer 503 without the error\'s message while PostgreSQL cannot be reached', { skip }, async () => {
  const proxy = await postgresProxy();
  const gw = await startGateway({ store: 'postgres', env: { DATABASE_URL: proxy.url } });
  try {
    await proxy.stop();
    const id = 'a'.repeat(32);
    for (const path of [`/hosted/psp-return/${id}/${id}`, `/hosted/executions/${'0'.repeat(8)}-0000-4000-8000-${'0'.repeat(12)}/wait`]) {
      const r = await fetch(`${gw.url}${path}`, { redirect: 'manual' });
      const body = await r.text();
      assert.equal(r.status, 503, `${path}: ${r.status} ${body.slice(0, 300)}`);
      assert.equal(r.headers.get('retry-after'), '1', path);
      assert.doesNotMatch(body, /ECONNREFUSED|127\.0\.0\.1|5432/, path);
    }
  } finally {
    await gw.close();
  }
});
