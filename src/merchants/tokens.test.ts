import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { SignJWT } from 'jose';
import { createAccessTokens } from './tokens.ts';
import { manualClock, systemClock } from '../runtime/clock.ts';

test('a client token carries its merchant\'s generation; one made before tokens carried it counts as generation 1', async () => {
  const key = randomBytes(32);
  const tokens = createAccessTokens({ key, clock: systemClock });
  const made = await tokens.issueClient({ merchantId: 'm1', holderReference: 'h', keyId: 'k', generation: 3 });
  const checked = await tokens.verifyClient(made.token);
  assert.ok(checked.ok && checked.scope.generation === 3);
  // As an earlier version issued them: no `gen` claim (a browser session open across the upgrade).
  const now = Math.floor(Date.now() / 1000);
  const older = await new SignJWT({ scope: 'client', holderReference: 'h', kid: 'k' }).setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    .setIssuer('switchyard').setAudience('switchyard-browser').setSubject('m1').setIssuedAt(now).setExpirationTime(now + 900).sign(key);
  const old = await tokens.verifyClient(older);
  assert.ok(old.ok && old.scope.generation === 1, JSON.stringify(old));
  const bad = await new SignJWT({ scope: 'client', holderReference: 'h', kid: 'k', gen: 'x' }).setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    .setIssuer('switchyard').setAudience('switchyard-browser').setSubject('m1').setIssuedAt(now).setExpirationTime(now + 900).sign(key);
  assert.deepEqual(await tokens.verifyClient(bad), { ok: false, reason: 'invalid' });
});

test('an access token is good for the whole expires_in it was issued with, even issued late in a second', async () => {
  const clock = manualClock(Date.parse('2026-01-01T00:00:00.900Z'));
  const tokens = createAccessTokens({ key: randomBytes(32), clock });
  const issued = await tokens.issue('m1', 1);
  // A client keeps the token for expires_in seconds, as the dialect tells it to.
  clock.advance(issued.expires_in * 1000 - 1);
  assert.deepEqual(await tokens.verify(issued.access_token), { ok: true, merchantId: 'm1', generation: 1 });
  clock.advance(1000);
  assert.deepEqual(await tokens.verify(issued.access_token), { ok: false, reason: 'expired' }, 'and not much longer');
});
