/**
 * The ledger export is written as it is read, a page of postings at a time, by the admin API and
 * the CLI alike: a quarter of a busy gateway's postings is never held in memory whole. Pages meet
 * exactly (postings made in the same millisecond across a page's edge are neither lost nor
 * repeated), in the export's order, and the CSV and JSON are what a single read would write.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { startGateway, type Gateway } from './support/harness.ts';

let gw: Gateway;
const n = 2_500;
const t0 = Date.UTC(2026, 0, 1);
before(async () => {
  gw = await startGateway();
  const rows = [];
  for (let i = 0; i < n; i++) {
    const op = 'f' + (n - i).toString(16).padStart(31, '0');
    // Ten postings share each millisecond, their operations in the reverse of insertion order.
    rows.push({ id: `${op}:authorize:0`, transfer_id: op, operation_id: op, payment_id: op, merchant_id: gw.merchant.merchantId, currency: 'EUR', psp_account_id: '',
      debit_account: 'receivable', credit_account: 'authorized', amount: 1000 + i, phase: 'authorize', leg: 0, created_at: t0 + Math.floor(i / 10) });
  }
  for (let i = 0; i < rows.length; i += 500) await gw.app.storage.db.insertInto('postings').values(rows.slice(i, i + 500)).execute();
});
after(async () => { await gw?.close(); });

const admin = (format: string) => fetch(`${gw.url}/admin/api/ledger/postings?from=2026-01-01&to=2026-01-02&format=${format}`, { headers: { authorization: `Bearer ${gw.app.admin.token}` } });

test('the admin API streams the export (no length known up front); every posting once, in time then operation order', async () => {
  const r = await admin('csv');
  assert.equal(r.status, 200);
  assert.equal(r.headers.get('content-length'), null, 'sent as it is read, not buffered whole');
  const rows = (await r.text()).split('\r\n').slice(1, -1).map((line) => line.split(','));
  assert.equal(rows.length, n);
  assert.equal(new Set(rows.map((c) => c[0])).size, n, 'no posting twice');
  const keys = rows.map((c) => `${c[1]} ${c[4]}`);
  assert.deepEqual(keys, [...keys].sort(), 'ordered by time, then operation');
  const json = await (await admin('json')).json() as { postings: { id: string }[]; from: string };
  assert.equal(json.from, '2026-01-01T00:00:00.000Z');
  assert.deepEqual(json.postings.map((p) => p.id), rows.map((c) => c[0]), 'the JSON lists the same postings in the same order');
});

test('the CLI writes the same export to a file and to its standard output', async () => {
  const viaApi = await (await admin('csv')).text();
  const out = join(gw.dataDir, 'export.csv');
  const env: NodeJS.ProcessEnv = { ...process.env, SWITCHYARD_DATA_DIR: gw.dataDir };
  delete env.DATABASE_URL;
  const toFile = spawnSync(process.execPath, ['src/cli/main.ts', 'ledger', 'export', '--from', '2026-01-01', '--to', '20260102', '--out', out], { env, encoding: 'utf8' });
  assert.equal(toFile.status, 0, toFile.stderr);
  assert.equal(readFileSync(out, 'utf8'), viaApi);
  const toStdout = spawnSync(process.execPath, ['src/cli/main.ts', 'ledger', 'export', '--from', '2026-01-01', '--to', '2026-01-02'], { env, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  assert.equal(toStdout.status, 0, toStdout.stderr);
  assert.equal(toStdout.stdout, viaApi);
});
