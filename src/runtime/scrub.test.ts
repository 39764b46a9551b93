import { test } from 'node:test';
import assert from 'node:assert/strict';
import { holdsCardNumber, luhnValid, scrubJsonLine, scrubPans, scrubQuerySecrets } from './scrub.ts';

test('luhn accepts valid test cards and rejects altered ones', () => {
  assert.equal(luhnValid('4200000000000000'), true);
  assert.equal(luhnValid('377777777777770'), true);
  assert.equal(luhnValid('4200000000000001'), false);
  assert.equal(luhnValid('4444444444444444'), false);
  assert.equal(luhnValid(''), false);
});

test('scrubber removes Luhn-valid digit runs, keeps other numbers', () => {
  assert.equal(scrubPans('card 4200000000000000 ok'), 'card [PAN REDACTED] ok');
  assert.equal(scrubPans('card 4200 0000 0000 0000'), 'card [PAN REDACTED]');
  assert.equal(scrubPans('id 8a82944a5fe82704015fff6cf5e572b4 amount 1234567890123'), 'id 8a82944a5fe82704015fff6cf5e572b4 amount 1234567890123');
});

test('digits beside a card number do not hide it; dots, plus signs and several spaces separate its groups; a URL\'s encoded separators too', () => {
  assert.equal(scrubPans('AcquirerResponse: 05 4200000000000000'), 'AcquirerResponse: 05 [PAN REDACTED]');
  assert.equal(scrubPans('05 4200 0000 0000 0000 22'), '05 [PAN REDACTED] 22');
  assert.equal(scrubPans('ref 4200.0000.0000.0000'), 'ref [PAN REDACTED]');
  assert.equal(scrubPans('/v1/query?merchantTransactionId=4200+0000+0000+0000'), '/v1/query?merchantTransactionId=[PAN REDACTED]');
  assert.equal(scrubPans('4200  0000 - 0000 0000'), '[PAN REDACTED]');
  assert.equal(scrubPans('/v1/nope/4200%200000%200000%200000'), '/v1/nope/[PAN REDACTED]');
  assert.equal(scrubPans('/v1/nope/4200%2D0000%2d0000%2E0000?x=1%20y'), '/v1/nope/[PAN REDACTED]?x=1%20y', 'the rest of the URL as it was written');
  assert.equal(scrubPans('/r?c=x%204200000000000000%20y'), '/r?c=x%20[PAN REDACTED]%20y', 'an escape\'s own digits are not the number\'s');
  assert.equal(scrubPans('/v1/query/8a82944a5fe82704015fff6cf5e572b4?x=%20'), '/v1/query/8a82944a5fe82704015fff6cf5e572b4?x=%20', 'nothing found: the text as it was');
  assert.equal(scrubPans('two 4200000000000000 and 377777777777770'), 'two [PAN REDACTED] and [PAN REDACTED]');
  assert.equal(scrubPans('version 1.2.3 build 20261203 port 8080'), 'version 1.2.3 build 20261203 port 8080');
});

test('a JSON log line stays valid JSON: a PAN-like number becomes a redacted string, strings are scrubbed, clean lines are untouched', () => {
  // 1765213920009 passes Luhn: as an epoch-ms field it used to become `"time":[PAN REDACTED]`, breaking the line.
  assert.equal(luhnValid('1765213920009'), true);
  const line = '{"level":30,"at":1765213920009,"msg":"card 4200 0000 0000 0000 refused","n":[4200000000000000,5]}\n';
  const out = scrubJsonLine(line);
  assert.ok(out.endsWith('\n'));
  assert.deepEqual(JSON.parse(out), { level: 30, at: '[PAN REDACTED]', msg: 'card [PAN REDACTED] refused', n: ['[PAN REDACTED]', 5] });
  const clean = '{"level":30,"time":"2025-12-08T17:12:00.007Z","amount":1234567890123}\n';
  assert.equal(scrubJsonLine(clean), clean);
  assert.equal(scrubJsonLine('not json 4200000000000000\n'), 'not json [PAN REDACTED]\n');
});

test('password parameters are removed from query strings, whatever the spelling of their name; other parameters stay', () => {
  assert.equal(scrubQuerySecrets('/v1/query?entityId=abc&authentication.password=s3cret%21&merchantTransactionId=7'),
    '/v1/query?entityId=abc&authentication.password=[REDACTED]&merchantTransactionId=7');
  assert.equal(scrubQuerySecrets('/v1/payments/x?authentication%2Epassword=a&AUTHENTICATION.PASSWORD=b&authentication.p%61ssword=c'),
    '/v1/payments/x?authentication%2Epassword=[REDACTED]&AUTHENTICATION.PASSWORD=[REDACTED]&authentication.p%61ssword=[REDACTED]');
  assert.equal(scrubQuerySecrets('authentication.password=first&a=b'), 'authentication.password=[REDACTED]&a=b');
  assert.equal(scrubQuerySecrets('/v1/query?passwordHint=1&userId=2'), '/v1/query?passwordHint=1&userId=2');
  // A bearer secret put in the URL (refused there, but the URL is logged).
  assert.equal(scrubQuerySecrets('/admin/api/webhooks/endpoints?access_token=Op3rat0r-t0ken&x=1'), '/admin/api/webhooks/endpoints?access_token=[REDACTED]&x=1');
  assert.equal(scrubQuerySecrets('/metrics?api_key=k1&apiKey=k2&client_secret=k3'), '/metrics?api_key=[REDACTED]&apiKey=[REDACTED]&client_secret=[REDACTED]');
  // The executions API key under its header's name, and other spellings joined by a hyphen.
  assert.equal(scrubQuerySecrets('/p?x-api-key=k1&a=1&api-key=k2&X-Api-Key=k3'), '/p?x-api-key=[REDACTED]&a=1&api-key=[REDACTED]&X-Api-Key=[REDACTED]');
  assert.equal(scrubQuerySecrets('/p?client-secret=k1&secret_key=k2&token=k3&authorization=k4&refresh_token=k5'),
    '/p?client-secret=[REDACTED]&secret_key=[REDACTED]&token=[REDACTED]&authorization=[REDACTED]&refresh_token=[REDACTED]');
  assert.equal(scrubQuerySecrets('/p?tokens=1&keyboard=2&monkey=3'), '/p?tokens=1&keyboard=2&monkey=3', 'names that only contain the words are kept');
  // A raw `;` is part of a value, as the request parsers read it: the whole value goes.
  assert.equal(scrubQuerySecrets('/v1/query?a=1&billing.street1=Flat%202;12%20Baker%20Street&customer.surname=Smith;Jones'),
    '/v1/query?a=1&billing.street1=[REDACTED]&customer.surname=[REDACTED]');
  const logged = scrubJsonLine(JSON.stringify({ msg: 'incoming request', req: { url: '/v1/query?billing.street1=Flat%202;12%20Baker%20Street' } }));
  assert.ok(!logged.includes('Baker'), logged);
  assert.equal(scrubQuerySecrets('/p?q=1;authentication.password=s3cret&x=2'), '/p?q=1;authentication.password=[REDACTED]&x=2', 'a client that separates pairs with ; keeps its password out too');
  assert.equal(scrubQuerySecrets('/p?accessToken=k1&xApiKey=k2&clientSecret=k3&userPassword=k4&tokenized=1&pageToken5=2'),
    '/p?accessToken=[REDACTED]&xApiKey=[REDACTED]&clientSecret=[REDACTED]&userPassword=[REDACTED]&tokenized=1&pageToken5=2', 'camelCase names, by their case');
  assert.equal(scrubQuerySecrets('/v1/query?tokenCount=1&keyHint=2'), '/v1/query?tokenCount=1&keyHint=2');
  // Stripe's return from its 3-D Secure names the PaymentIntent's secret with a prefix; Stripe says never to log it.
  assert.equal(scrubQuerySecrets('/hosted/psp-return/a/b?payment_intent=pi_1&payment_intent_client_secret=pi_1_secret_x'),
    '/hosted/psp-return/a/b?payment_intent=pi_1&payment_intent_client_secret=[REDACTED]');
  assert.equal(scrubQuerySecrets('/x?setup_intent_client_secret=seti_1_secret_y&x_api_key=k'), '/x?setup_intent_client_secret=[REDACTED]&x_api_key=[REDACTED]');
  const line = JSON.stringify({ level: 30, req: { url: '/v1/registrations/x?authentication.password=Canary%2Fpw' } }) + '\n';
  const out = scrubJsonLine(line);
  assert.doesNotMatch(out, /Canary/);
  assert.equal(JSON.parse(out).req.url, '/v1/registrations/x?authentication.password=[REDACTED]');
});

test('a UUID whose digit groups happen to pass Luhn is kept; a card number beside it is still removed', () => {
  const id = 'dc54ac4e-af3a-4469-8634-33250815bc84';
  assert.ok(luhnValid('4469863433250815'), 'the id really holds a Luhn-valid run');
  assert.equal(scrubPans(`error ${id}`), `error ${id}`);
  assert.equal(scrubPans(`{"errorId":"${id}","card":"4111 1111 1111 1111"}`), `{"errorId":"${id}","card":"[PAN REDACTED]"}`);
  assert.equal(scrubPans('4469-8634-3325-0815'), '[PAN REDACTED]', 'dashed groups outside an id are a card number');
});

test('a card number right after a percent-escape that ends in a digit (%22 a quote, %28, %23, %C2%B0) is found', () => {
  for (const u of [
    'https://shop.example/return?meta=%7B%22pan%22%3A%224111111111111111%22%7D',
    'https://shop.example/return?note=%284111111111111111%29',
    'https://shop.example/return?note=card%20%234111%201111%201111%201111',
    'https://shop.example/return?note=Carte%20n%C2%B04111111111111111',
  ]) {
    assert.equal(holdsCardNumber(u, 'any'), true, u);
    assert.equal(holdsCardNumber(u), true, u);
    assert.ok(!scrubPans(u).includes('1111111111'), scrubPans(u));
  }
  // An escape's own digits are never the number's: nothing found, the text as it was.
  assert.equal(scrubPans('/r?a=%2012%2034%2056%2078'), '/r?a=%2012%2034%2056%2078');
});

test('card fields under bracketed form names (PHP\'s and Stripe\'s encoders) are removed as their dotted twins are', () => {
  assert.equal(scrubQuerySecrets('/v1/payments?card[cvv]=987&card%5Bcvc%5D=876&card[security_code]=765&card.cvv=543&amount=1.00'),
    '/v1/payments?card[cvv]=[REDACTED]&card%5Bcvc%5D=[REDACTED]&card[security_code]=[REDACTED]&card.cvv=[REDACTED]&amount=1.00');
  assert.equal(scrubQuerySecrets('/x?card[exp_month]=05&card[exp_year]=2034&card[number]=1234&card[holder]=J'),
    '/x?card[exp_month]=[REDACTED]&card[exp_year]=[REDACTED]&card[number]=[REDACTED]&card[holder]=[REDACTED]');
  assert.equal(scrubQuerySecrets('/x?registrations[0][id]=abc&cart[items]=2'), '/x?registrations[0][id]=abc&cart[items]=2', 'other nested names stay');
  assert.ok(!scrubJsonLine('{"url":"/v1/payments?card[security_code]=765"}\n').includes('765'));
});

test('a URL\'s userinfo in a log line is removed whole; an email address stays', () => {
  const line = scrubJsonLine('{"url":"http://merchant:PASS@localhost/v1/payments","who":"ops@example.com"}\n');
  assert.ok(!line.includes('PASS') && !line.includes('merchant:'), line);
  assert.ok(line.includes('http://[REDACTED]@localhost/v1/payments') && line.includes('ops@example.com'), line);
});
