/**
 * Two operators (or a double-submitted form, or two nodes' admin APIs) rotate one merchant's
 * credentials at the same moment on a shared PostgreSQL database. Whatever the interleaving, the
 * merchant must be left with exactly one working secret of each kind: the docs promise that a
 * rotated-away secret "stops working at once, on every node".
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Storage } from '../src/storage/database.ts';
import { createMerchantStore } from '../src/merchants/kysely-store.ts';
import { createMerchantService } from '../src/merchants/service.ts';
import { randomIds } from '../src/runtime/ids.ts';
import { systemClock } from '../src/runtime/clock.ts';
import { postgresAvailable } from './support/harness.ts';
import { twoNodesOnOneSchema } from './support/stores.ts';

const skip = (await postgresAvailable()) ? undefined : 'no PostgreSQL';

describe('concurrent credential rotations on two nodes (PostgreSQL)', { skip }, () => {
  let a: Storage;
  let b: Storage;
  let nodes: Awaited<ReturnType<typeof twoNodesOnOneSchema>> | undefined;
  before(async () => { nodes = await twoNodesOnOneSchema('sy_credrace'); ({ a, b } = nodes); });
  after(async () => { await nodes?.close(); });

  test('two rotations at once leave one working API key and one working /v1 token, not two', async () => {
    const nodeA = createMerchantService({ store: createMerchantStore(a.uow), clock: systemClock, ids: randomIds });
    const nodeB = createMerchantService({ store: createMerchantStore(b.uow), clock: systemClock, ids: randomIds });
    const problems: string[] = [];
    for (let round = 0; round < 10; round++) {
      const m = await nodeA.create({ name: `Race ${round}` });
      const [ra, rb] = await Promise.all([nodeA.rotate(m.merchantId), nodeB.rotate(m.merchantId)]);
      const keysWorking = [ra!, rb!].filter((r) => r.apiKey !== undefined);
      const apiOk = await Promise.all(keysWorking.map(async (r) => (await nodeA.byClientCredentials(m.clientId, r.apiKey!)) !== undefined));
      const bearerOk = await Promise.all([ra!, rb!].map(async (r) => (await nodeA.byAccessToken(r.accessToken!)) !== undefined));
      if (apiOk.filter(Boolean).length !== 1) problems.push(`round ${round}: ${apiOk.filter(Boolean).length} API keys work`);
      if (bearerOk.filter(Boolean).length !== 1) problems.push(`round ${round}: ${bearerOk.filter(Boolean).length} /v1 tokens work`);
    }
    assert.deepEqual(problems, []);
  });
});
