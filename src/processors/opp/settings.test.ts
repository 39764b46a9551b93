import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseSettings } from './settings.ts';

const good = { baseUrl: 'https://eu-test.acquirer.example/', accessToken: 'OGE4Mjk0MTc0YjdlY2IyODAxNGI5Njk5MjIwMDE1Y2N8c3k2S0pzVDg=', entityId: '8a8294174b7ecb28014b9699220015ca' };

test('valid settings are read with the base URL without its trailing slash', () => {
  const r = parseSettings(good);
  assert.deepEqual(r, { ok: true, value: { ...good, baseUrl: 'https://eu-test.acquirer.example' } });
  const withPath = parseSettings({ ...good, baseUrl: 'https://acq.example/gw/' });
  assert.ok(withPath.ok);
  assert.equal(withPath.value.baseUrl, 'https://acq.example/gw');
});

test('plain http is accepted only on the loopback interface', () => {
  assert.ok(parseSettings({ ...good, baseUrl: 'http://127.0.0.1:8080' }).ok);
  assert.ok(parseSettings({ ...good, baseUrl: 'http://localhost:8080' }).ok);
  assert.ok(parseSettings({ ...good, baseUrl: 'http://[::1]:8080' }).ok);
  for (const baseUrl of ['http://acquirer.example', 'http://10.0.0.5', 'ftp://acquirer.example', 'not a url', 'https://u:p@acq.example', 'https://acq.example/?x=1', 'https://acq.example/#f']) {
    const r = parseSettings({ ...good, baseUrl });
    assert.equal(r.ok, false, baseUrl);
  }
});

test('missing or malformed fields are refused with a reason that never repeats the token', () => {
  const cases: [unknown, RegExp][] = [
    [undefined, /must be an object/],
    [[], /must be an object/],
    [{ ...good, baseUrl: undefined }, /baseUrl/],
    [{ ...good, accessToken: undefined }, /accessToken/],
    [{ ...good, accessToken: 'short' }, /accessToken/],
    [{ ...good, accessToken: 'has a space in it' }, /accessToken/],
    [{ ...good, entityId: '' }, /entityId/],
    [{ ...good, entityId: 'a/b' }, /entityId/],
    [{ ...good, acessToken: 'typo' }, /unknown settings: acessToken/],
    [{ ...good, currencyDecimals: 'yes' }, /currencyDecimals must be true or false/],
  ];
  for (const [input, reason] of cases) {
    const r = parseSettings(input);
    assert.equal(r.ok, false, JSON.stringify(input));
    if (!r.ok) {
      assert.match(r.error, reason);
      assert.ok(!r.error.includes(good.accessToken));
    }
  }
});
