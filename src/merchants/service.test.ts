import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { SignJWT } from 'jose';
import { openStorage, type Storage } from '../storage/database.ts';
import { manualClock } from '../runtime/clock.ts';
import { randomIds } from '../runtime/ids.ts';
import { createMerchantStore } from './kysely-store.ts';
import { createMerchantService, type MerchantService } from './service.ts';
import { createAccessTokens } from './tokens.ts';

const clock = manualClock();
let dir: string;
let storage: Storage;
let merchants: MerchantService;
before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'switchyard-merchants-'));
  storage = await openStorage({ kind: 'sqlite', dataDir: dir });
  merchants = createMerchantService({ store: createMerchantStore(storage.uow), clock, ids: randomIds });
});
after(async () => {
  await storage.close();
  rmSync(dir, { recursive: true, force: true });
});

test('rotating both dialects: new secrets work, the old ones are refused at once, ids stay', async () => {
  const c = await merchants.create({ name: 'Rotating Shop' });
  const other = await merchants.create({ name: 'Bystander' });
  const r = await merchants.rotate(c.merchantId);
  assert.ok(r);
  assert.deepEqual(r.rotated, ['opp', 'executions']);
  assert.equal(r.clientId, c.clientId, 'the client id is not a secret and stays');
  assert.notEqual(r.accessToken, c.accessToken);
  assert.notEqual(r.apiKey, c.apiKey);
  assert.equal(await merchants.byAccessToken(c.accessToken), undefined);
  assert.equal(await merchants.byUserPassword(c.userId, c.password), undefined);
  assert.equal(await merchants.byClientCredentials(c.clientId, c.apiKey), undefined);
  assert.equal((await merchants.byAccessToken(r.accessToken!))?.id, c.merchantId);
  assert.equal((await merchants.byUserPassword(r.userId!, r.password!))?.id, c.merchantId);
  const m = await merchants.byClientCredentials(c.clientId, r.apiKey!);
  assert.equal(m?.id, c.merchantId);
  assert.equal(m?.tokenGeneration, 2);
  // The entity, the workspace and other merchants are untouched.
  const listed = (await merchants.list()).find((x) => x.merchant.id === c.merchantId)!;
  assert.deepEqual(listed.entities.map((e) => e.id), [c.entityId]);
  assert.equal(listed.merchant.workspaceId, c.workspaceId);
  assert.equal((await merchants.byAccessToken(other.accessToken))?.id, other.merchantId);
  assert.equal((await merchants.byClientCredentials(other.clientId, other.apiKey))?.tokenGeneration, 1);
});

test('rotating one dialect leaves the other\'s secret working and the token generation alone for /v1', async () => {
  const c = await merchants.create({ name: 'One At A Time' });
  const opp = await merchants.rotate(c.merchantId, ['opp']);
  assert.deepEqual(Object.keys(opp!).sort(), ['accessToken', 'merchantId', 'password', 'rotated', 'userId']);
  assert.equal(await merchants.byAccessToken(c.accessToken), undefined);
  assert.equal((await merchants.byClientCredentials(c.clientId, c.apiKey))?.tokenGeneration, 1);
  const exec = await merchants.rotate(c.merchantId, ['executions']);
  assert.deepEqual(Object.keys(exec!).sort(), ['apiKey', 'clientId', 'merchantId', 'rotated']);
  assert.equal((await merchants.byAccessToken(opp!.accessToken!))?.id, c.merchantId);
  assert.equal(await merchants.byClientCredentials(c.clientId, c.apiKey), undefined);
  assert.equal((await merchants.byClientCredentials(c.clientId, exec!.apiKey!))?.tokenGeneration, 2);
});

test('an unknown merchant or no dialect rotates nothing', async () => {
  assert.equal(await merchants.rotate('0'.repeat(32)), undefined);
  const c = await merchants.create({ name: 'Nothing Asked' });
  assert.equal(await merchants.rotate(c.merchantId, []), undefined);
  assert.equal((await merchants.byAccessToken(c.accessToken))?.id, c.merchantId);
});

test('only digests are stored: neither the new token nor the new API key is in the database', async () => {
  const c = await merchants.create({ name: 'Digest Only' });
  const r = (await merchants.rotate(c.merchantId))!;
  const rows = await storage.db.selectFrom('credentials').selectAll().where('merchant_id', '=', c.merchantId).execute();
  assert.equal(rows.length, 2);
  for (const row of rows) {
    assert.match(row.secret_hash, /^[0-9a-f]{64}$/);
    assert.ok(![r.accessToken, r.apiKey, r.password].includes(row.secret_hash));
  }
});

test('access tokens carry the token generation; one without it counts as generation 1', async () => {
  const key = randomBytes(32);
  const tokens = createAccessTokens({ key, clock });
  const t = await tokens.issue('m1', 3);
  assert.deepEqual(await tokens.verify(t.access_token), { ok: true, merchantId: 'm1', generation: 3 });
  const now = Math.floor(clock.now() / 1000);
  const legacy = await new SignJWT({ scope: 'merchant' }).setProtectedHeader({ alg: 'HS256' }).setIssuer('switchyard').setAudience('switchyard-merchant')
    .setSubject('m1').setIssuedAt(now).setExpirationTime(now + 60).sign(key);
  assert.deepEqual(await tokens.verify(legacy), { ok: true, merchantId: 'm1', generation: 1 });
  const odd = await new SignJWT({ scope: 'merchant', gen: 'two' }).setProtectedHeader({ alg: 'HS256' }).setIssuer('switchyard').setAudience('switchyard-merchant')
    .setSubject('m1').setIssuedAt(now).setExpirationTime(now + 60).sign(key);
  assert.deepEqual(await tokens.verify(odd), { ok: false, reason: 'invalid' });
});
