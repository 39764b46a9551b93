/**
 * A webhook endpoint's page lists its deliveries a hundred at a time, newest first, with a link to
 * the older ones: a delivery that failed before the last hundred can still be seen and redelivered
 * from the dashboard, as the admin API pages the same log with `next`. Every delivery is shown once.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { startGateway, type Gateway } from './support/harness.ts';
import { signIn } from './support/dashboard.ts';

const password = 'a long test password';
let gw: Gateway;
before(async () => {
  gw = await startGateway({ env: { SWITCHYARD_WEBHOOK_ALLOW: '127.0.0.0/8' } });
  assert.ok((await gw.app.dashboard.addUser({ email: 'admin@example.com', role: 'admin', merchantId: undefined, password })).ok);
});
after(async () => { await gw?.close(); });

test('an endpoint\'s delivery log on the dashboard reaches its oldest delivery', async () => {
  const ep = await gw.app.webhooks.addEndpoint({ merchantId: gw.merchant.merchantId, dialect: 'opp', url: 'http://127.0.0.1:9/hook' });
  assert.ok(ep.ok);
  for (let i = 0; i < 105; i++) assert.ok((await gw.app.webhooks.sendTest(ep.value.endpointId)).ok);
  const all = await gw.app.webhooks.deliveries({ endpointId: ep.value.endpointId, limit: 1000 });
  const oldest = all.at(-1)!;
  const s = await signIn(gw.url, 'admin@example.com', password);
  const seen: string[] = [];
  let path: string | undefined = `/dashboard/webhooks/${ep.value.endpointId}`;
  for (let pages = 0; path && pages < 10; pages++) {
    const t = await (await fetch(`${gw.url}${path}`, { headers: { cookie: s.cookie } })).text();
    for (const m of t.matchAll(/name="event" value="([^"]+)"/g)) seen.push(m[1]!);
    const next = /<a[^>]*href="([^"]*\/dashboard\/webhooks\/[^"]*[?&][^"]*)"[^>]*>[^<]*(Older|older|Next|next)/.exec(t);
    path = next?.[1]?.replaceAll('&amp;', '&');
  }
  assert.equal(all.length, 106, 'the activation notice and 105 tests');
  assert.ok(seen.includes(oldest.eventId), `the dashboard shows ${seen.length} of the endpoint's ${all.length} deliveries: the oldest (${oldest.eventType}) cannot be seen or redelivered there`);
  assert.deepEqual(seen, all.map((d) => d.eventId), 'each delivery once, newest first, across the pages');
});
