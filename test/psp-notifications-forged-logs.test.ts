/**
 * Anyone who knows a PSP account's notification URL (a merchant id and an account name) can post
 * forged notifications to it; each one wrote a `warn` line "PSP notification refused: bad
 * signature", without bound. An operator alerting on that line (the sign of a wrong HMAC key, when
 * real notifications stop settling payments) was paged by any stranger, and a real misconfiguration
 * drowned in the noise. Now a few lines per account and source address in ten minutes, then one
 * saying the rest are counted, and later their count, as strangers' refusals in the audit log are.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { adyenFakeCredentials } from './support/fake-psps/adyen.ts';
import { gatewayAtPspFakes, type GatewayAtPspFakes } from './support/captured-execution.ts';

let fakes: GatewayAtPspFakes;
before(async () => { fakes = await gatewayAtPspFakes(); });
after(() => fakes?.close());

test('200 forged notifications from one address do not write 200 warn lines', async () => {
  const forged = JSON.stringify({ live: 'false', notificationItems: [{ NotificationRequestItem: {
    pspReference: 'X', merchantAccountCode: adyenFakeCredentials.merchantAccount, merchantReference: 'x', amount: { value: 100, currency: 'EUR' },
    eventCode: 'AUTHORISATION', success: 'true', additionalData: { hmacSignature: 'Zm9yZ2Vk' },
  } }] });
  const { gw } = fakes;
  const before = gw.logs.length;
  for (let i = 0; i < 200; i++) assert.equal((await fakes.post('adyen', forged)).status, 401);
  await new Promise((r) => setTimeout(r, 200));
  const warns = gw.logs.slice(before).filter((l) => (JSON.parse(l) as { level: number }).level >= 40);
  assert.ok(warns.length <= 30, `${warns.length} warn lines for 200 forged notifications from one address`);
  assert.ok(warns.some((l) => l.includes('the rest are counted')), 'the operator is told the rest are counted');
});
