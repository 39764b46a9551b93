/**
 * A merchant's registered web origins, managed by the operator with the CLI or the admin API, and
 * followed by a running gateway at once: the field pages' `frame-ancestors` and the tokenization
 * endpoints' CORS change with the list, with no restart.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import { startGateway, tempDir } from './support/harness.ts';
import { adminHeaders, runCli as cli, startGatewayProcess } from './support/process.ts';
import { call, tokenOf, type Reachable } from './support/executions.ts';

/** What a browser on `origin` gets: may it frame the card-number field, and may it read the holder's saved cards (CORS)? */
async function browserView(gw: Reachable & { merchant: { merchantId: string } }, origin: string) {
  const field = await fetch(`${gw.url}/sdk/v1/field?type=cardNumber&merchant=${gw.merchant.merchantId}&parent=${encodeURIComponent(origin)}&channel=abcdefgh12`);
  const init = await call(gw, 'POST', '/merchant/client/init', { token: await tokenOf(gw), body: { holderReference: 'origins-holder' } });
  assert.equal(init.status, 200);
  const clientToken = JSON.parse(Buffer.from(init.body.data, 'base64').toString('latin1')).token as string;
  const list = await fetch(`${gw.url}/public/payment/instruments`, { headers: { authorization: `Bearer ${clientToken}`, origin } });
  return {
    field: field.status,
    frameAncestors: /frame-ancestors ([^;]*)/.exec(field.headers.get('content-security-policy') ?? '')?.[1],
    cors: list.status,
    allowOrigin: list.headers.get('access-control-allow-origin'),
  };
}

const allowed = (origin: string, ancestors: string) => ({ field: 200, frameAncestors: ancestors, cors: 200, allowOrigin: origin });
const refused = { field: 400, frameAncestors: "'none'", cors: 403, allowOrigin: null };

test('origins CLI: add (canonical form), list, remove; bad input exits non-zero and changes nothing; a running gateway follows each change', async () => {
  const dataDir = tempDir();
  try {
    const created = cli(dataDir, 'merchants', 'create', '--name', 'Origin Shop', '--json');
    assert.equal(created.status, 0, created.stderr);
    const merchant = JSON.parse(created.stdout);
    const proc = await startGatewayProcess({ SWITCHYARD_DATA_DIR: dataDir });
    try {
      const gw = { url: proc.url, merchant };
      const shop = 'https://shop.example';
      assert.deepEqual(await browserView(gw, shop), refused);
      assert.deepEqual(JSON.parse(cli(dataDir, 'origins', 'list', '--merchant', merchant.merchantId).stdout), []);

      // As the README has it, through npm; the origin is stored in its canonical form.
      const added = spawnSync('npm', ['run', '-s', 'cli', '--', 'origins', 'add', '--merchant', merchant.merchantId, '--origin', 'https://Shop.Example:443'],
        { env: { ...process.env, SWITCHYARD_DATA_DIR: dataDir }, encoding: 'utf8' });
      assert.equal(added.status, 0, added.stderr);
      assert.deepEqual(JSON.parse(added.stdout), { added: shop });
      assert.deepEqual(await browserView(gw, shop), allowed(shop, shop), 'the running gateway frames and answers the new origin');

      for (const bad of ['http://shop.example', 'https://shop.example/checkout', 'shop.example', 'https://user@shop.example']) {
        const r = cli(dataDir, 'origins', 'add', '--merchant', merchant.merchantId, '--origin', bad);
        assert.equal(r.status, 1, bad);
        assert.match(r.stderr, /--origin must be a web origin/);
      }
      const noMerchant = cli(dataDir, 'origins', 'add', '--origin', shop);
      assert.equal(noMerchant.status, 2);
      assert.match(noMerchant.stderr, /--merchant is required/);
      const unknown = cli(dataDir, 'origins', 'add', '--merchant', 'f'.repeat(32), '--origin', 'https://other.example');
      assert.equal(unknown.status, 1);
      assert.match(unknown.stderr, /no merchant/);
      assert.deepEqual(JSON.parse(cli(dataDir, 'origins', 'list', '--merchant', merchant.merchantId).stdout), [shop], 'refused commands changed nothing');

      const loopback = 'http://127.0.0.1:8081';
      assert.equal(cli(dataDir, 'origins', 'add', '--merchant', merchant.merchantId, '--origin', loopback).status, 0, 'http is allowed on loopback hosts');
      assert.deepEqual(await browserView(gw, loopback), allowed(loopback, `${loopback} ${shop}`));

      const removed = cli(dataDir, 'origins', 'remove', '--merchant', merchant.merchantId, '--origin', shop);
      assert.equal(removed.status, 0, removed.stderr);
      assert.deepEqual(JSON.parse(removed.stdout), { removed: shop });
      assert.deepEqual(await browserView(gw, shop), refused, 'the running gateway stops framing and answering the removed origin');
      assert.deepEqual(await browserView(gw, loopback), allowed(loopback, loopback));
      const again = cli(dataDir, 'origins', 'remove', '--merchant', merchant.merchantId, '--origin', shop);
      assert.equal(again.status, 1);
      assert.match(again.stderr, /not registered/);
      assert.deepEqual(JSON.parse(cli(dataDir, 'origins', 'list', '--merchant', merchant.merchantId).stdout), [loopback]);
    } finally {
      await proc.stop();
    }
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
});

test('admin API /admin/merchants/{id}/origins: token required, add, list, remove; refusals change nothing; the gateway follows each change', async () => {
  const gw = await startGateway();
  try {
    const base = `${gw.url}/admin/merchants/${gw.merchant.merchantId}/origins`;
    const headers = adminHeaders(gw.dataDir, gw.app.config.adminToken);
    const { authorization } = headers;
    const list = async () => (await (await fetch(base, { headers: { authorization } })).json() as { origins: string[] }).origins;
    const remove = (origin: string) => fetch(`${base}?origin=${encodeURIComponent(origin)}`, { method: 'DELETE', headers: { authorization } });
    const add = (body: string) => fetch(base, { method: 'POST', headers, body });
    const shop = 'https://shop.example';
    const other = 'https://other.example';

    assert.equal((await fetch(base)).status, 401);
    assert.equal((await fetch(base, { method: 'POST', headers: { ...headers, authorization: 'Bearer wrong' }, body: JSON.stringify({ origin: shop }) })).status, 401);
    assert.deepEqual(await list(), []);
    assert.deepEqual(await browserView(gw, shop), refused);

    const created = await add(JSON.stringify({ origin: 'HTTPS://shop.example' }));
    assert.equal(created.status, 201);
    assert.deepEqual(await created.json(), { origin: shop });
    assert.equal((await add(JSON.stringify({ origin: other }))).status, 201);
    assert.equal((await add(JSON.stringify({ origin: other }))).status, 201, 'adding twice is harmless');
    assert.deepEqual(await list(), [other, shop]);
    assert.deepEqual(await browserView(gw, shop), allowed(shop, `${other} ${shop}`));

    for (const body of [JSON.stringify({ origin: 'http://shop.example' }), JSON.stringify({ origin: 42 }), JSON.stringify({}), '{not json', JSON.stringify({ origin: `https://${'a'.repeat(260)}.example` })]) {
      const r = await add(body);
      assert.equal(r.status, 400, body);
      assert.match(((await r.json()) as { error: { message: string } }).error.message, /origin must be a web origin|could not be read|origin/);
    }
    const elsewhere = await fetch(`${gw.url}/admin/merchants/${'f'.repeat(32)}/origins`, { method: 'POST', headers, body: JSON.stringify({ origin: shop }) });
    assert.equal(elsewhere.status, 404);
    assert.deepEqual(await list(), [other, shop], 'refusals changed nothing');

    const removed = await remove(shop);
    assert.equal(removed.status, 200);
    assert.deepEqual(await removed.json(), { removed: shop });
    assert.deepEqual(await browserView(gw, shop), refused);
    assert.deepEqual(await browserView(gw, other), allowed(other, other));
    assert.equal((await remove(shop)).status, 404);
    assert.deepEqual(await list(), [other]);
  } finally {
    await gw.close();
  }
});
