/**
 * How OPP-family result codes are read, for the cascade and the reconciler. Descriptions quoted are
 * the platform's published strings (its /v1/resultcodes list):
 * - a card lost, blocked or restricted, or an account blocked, was read as a soft decline, so the
 *   default cascade sent the card to the next PSP; suspected manipulation is the issuer's fraud screen;
 * - 900.100.500, a timeout on the acquirer's side like 900.100.400, was declined, so the cascade
 *   could charge the card again while the first charge might stand; it stays unknown now;
 * - 100.390.112 reads back as the reason whose code it is;
 * - 800.900.101 (an e-mail address) and 800.900.401 (an IP) are the shopper's data, not the account
 *   refusing the gateway.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { accountRefusedCode, codeOfReason, declineReasonOf } from './result-codes.ts';
import { cascadeCategoryOf } from '../payments/cascade.ts';
import { createOppConnector, outcomeOfPayment } from './opp/connector.ts';
import { Cvv, Pan } from '../vault/card.ts';
import { money, type Currency } from '../money/money.ts';
import type { DeclineReason } from './outcome.ts';

// Issuer declines about the card or the cardholder's account itself: like 800.100.159 "stolen
// card" and 800.100.171 "pick up card" (read hard), no other acquirer may be asked to charge it.
const cardItselfRefused: readonly [string, string][] = [
  ['800.100.160', 'transaction declined (card blocked)'],
  ['800.100.165', 'transaction declined (card lost)'],
  ['800.100.168', 'transaction declined (restricted card)'],
  ['800.100.172', 'transaction declined (account blocked)'],
  ['800.100.158', 'transaction declined (suspecting manipulation)'],
];

for (const [code, description] of cardItselfRefused) {
  test(`${code} "${description}" stops the cascade (a hard or fraud decline, not soft)`, () => {
    const o = outcomeOfPayment({ id: 'p1', result: { code, description } });
    assert.equal(o?.kind, 'declined');
    const reason = o?.kind === 'declined' ? o.reason : undefined;
    assert.equal(cascadeCategoryOf(reason), 'hard', `${code} read as ${String(reason)}`);
  });
}

test('900.100.500 "timeout at connectors/acquirer side (try later)" leaves the attempt unknown, as 900.100.400 does', async (t) => {
  let code = '900.100.400';
  const server = createServer((_req: IncomingMessage, res: ServerResponse) => {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ id: 'p1', result: { code, description: code === '900.100.400' ? 'timeout at connectors/acquirer side' : 'timeout at connectors/acquirer side (try later)' } }));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  t.after(() => server.close());
  const c = createOppConnector({ baseUrl: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, accessToken: 'secret-token-1234', entityId: 'entity1' }, 5000);
  const req = {
    operation: 'authorize' as const, attemptId: 'a'.repeat(32), amount: money(9200, 'EUR' as Currency), live: false, testParameters: {},
    card: { pan: new Pan('4200000000000000'), cvv: new Cvv('123'), brand: 'VISA' as const, holder: 'Jane Jones', expiryMonth: '05', expiryYear: '34' },
  };
  // The acquirer timed out on its side: it may have charged. Thrown, the engine records it unknown.
  await assert.rejects(c.execute(req), '900.100.400 is uncertain');
  code = '900.100.500';
  const answer = await c.execute(req).then((o) => o, (e: unknown) => e);
  assert.ok(answer instanceof Error, `900.100.500 answered ${JSON.stringify(answer)}`);
});

// The family's own code for a neutral reason, read back by the same module, gives that reason.
const threeDsCodes: readonly [DeclineReason, string, string][] = [
  ['authentication_error', '100.390.112', 'Technical Error in 3D system'],
];
for (const [reason, code, description] of threeDsCodes) {
  test(`${code} "${description}" reads back as ${reason}, the reason codeOfReason gives it`, () => {
    assert.equal(codeOfReason[reason], code);
    const read = declineReasonOf(code);
    assert.equal(read, reason);
    assert.equal(cascadeCategoryOf(read), cascadeCategoryOf(reason));
  });
}

// 800.900.101 and 800.900.401 are in the platform's format-validation group with 800.900.200
// (phone) and 800.900.450 (birthdate): the shopper's data, not the gateway's account. Read as the
// account refusing the gateway, they would count against the account's circuit, and /v1 would
// answer 900.100.100 "unexpected communication error" in their place.
for (const [code, description] of [['800.900.101', 'invalid email address (probably invalid syntax)'], ['800.900.401', 'Invalid IP number']] as const) {
  test(`${code} "${description}" is the shopper's data, not the account refused`, () => {
    assert.equal(accountRefusedCode.test(code), false);
    assert.notEqual(declineReasonOf(code), 'provider_error');
  });
}

test('the account refusal codes are the gateway\'s own credentials, channel and rights, and throttling: not the shopper\'s data, not a risk limit', () => {
  for (const code of ['800.900.100', '800.900.201', '800.900.300', '800.900.301', '800.900.302', '800.120.100']) {
    assert.ok(accountRefusedCode.test(code), code);
    assert.equal(declineReasonOf(code), 'provider_error', code);
  }
  // An e-mail address, a phone number, a birth date, an IP; a token not created; risk limits per card or e-mail.
  for (const code of ['800.900.101', '800.900.200', '800.900.450', '800.900.401', '800.900.303', '800.120.101', '800.120.300']) {
    assert.equal(accountRefusedCode.test(code), false, code);
  }
});

test('the rest of 800.900 is the shopper\'s data, refused alike by any PSP; a registration the acquirer could not make is its own trouble', () => {
  for (const code of ['800.900.101', '800.900.200', '800.900.401', '800.900.450']) assert.equal(declineReasonOf(code), 'invalid_request', code);
  for (const code of ['800.900.303', '800.900.399']) assert.equal(declineReasonOf(code), 'provider_error', code);
});
