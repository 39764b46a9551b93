/**
 * The five backlog gauges are read from the store on each scrape; a scrape whose read fails leaves
 * them out (docs/metrics.md). Written with their last value, or 0 on a node that never read the
 * store, a backlog alert (`max(switchyard_unknown_outcomes_waiting) > 0`) would be fed a frozen or
 * invented reading for the whole outage instead of the series going absent.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { pay, startGateway } from './support/harness.ts';

const backlog = /^switchyard_(unknown_outcomes_waiting|outbox_lag_seconds|webhook_deliveries_pending|webhook_oldest_pending_seconds|late_approvals_unreversed)(\{.*\})? /m;

async function scrape(url: string): Promise<string> {
  const r = await fetch(`${url}/metrics`, { signal: AbortSignal.timeout(8000) });
  assert.equal(r.status, 200);
  return r.text();
}

/** The backlog lines of a scrape made once the store is closed, after a scrape that read it or none. */
async function backlogLinesWithStoreClosed(readFirst: boolean): Promise<string[]> {
  const gw = await startGateway();
  try {
    if (readFirst) {
      assert.equal((await pay(gw)).status, 200);
      assert.match(await scrape(gw.url), backlog, 'read while the store answers');
    }
    await gw.app.storage.close();
    const text = await scrape(gw.url);
    assert.match(text, /switchyard_http_requests_total/, 'the rest is answered');
    return text.split('\n').filter((l) => backlog.test(l));
  } finally {
    await gw.app.server.close();
    rmSync(gw.dataDir, { recursive: true, force: true });
  }
}

test('store down after a good scrape: the backlog gauges are left out, not repeated from the last scrape', async () => {
  assert.deepEqual(await backlogLinesWithStoreClosed(true), [], 'no backlog figure the store did not give in this scrape');
});

test('store down on the first scrape: no backlog gauge reads 0 (a figure nobody measured)', async () => {
  assert.deepEqual(await backlogLinesWithStoreClosed(false), [], 'no backlog figure when the store was never read');
});
