import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomInt } from 'node:crypto';
import { readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { sql } from 'kysely';
import { luhnValid } from '../src/runtime/scrub.ts';
import { opp, postgresAvailable, startGateway, tempDir } from './support/harness.ts';
import { demoCredentials, startGatewayProcess } from './support/process.ts';
import { answer, openRedirect } from './support/shopper.ts';

let current = '';

/** A Luhn-valid VISA number no test data contains, so any hit is a leak. */
function newCanaryPan(): string {
  for (;;) {
    const body = '4' + Array.from({ length: 14 }, () => randomInt(10)).join('');
    for (let d = 0; d < 10; d++) if (luhnValid(body + d)) return body + d;
  }
}
const canaryCvv = '7' + String(randomInt(100, 1000));

/** Pays with the canary card through every path that touches card data; returns all response bodies. */
async function exercise(gw: { url: string; merchant: any }): Promise<string[]> {
  const pan = current;
  const card = { paymentBrand: 'VISA', 'card.number': pan, 'card.holder': 'Canary Bird', 'card.expiryMonth': '12', 'card.expiryYear': '2031', 'card.cvv': canaryCvv.slice(0, 3) };
  const bodies: string[] = [];
  const call = async (method: 'GET' | 'POST' | 'DELETE', path: string, params: Record<string, string>) => {
    const r = await opp(gw, method, path, params);
    bodies.push(JSON.stringify(r.body));
    return r;
  };
  const pa = await call('POST', '/v1/payments', { ...card, amount: '40.00', currency: 'EUR', paymentType: 'PA', merchantTransactionId: 'canary' });
  assert.equal(pa.body.result.code, '000.100.110');
  await call('POST', `/v1/payments/${pa.body.id}`, { paymentType: 'CP', amount: '40.00', currency: 'EUR' });
  await call('POST', `/v1/payments/${pa.body.id}`, { paymentType: 'RB', amount: '5.00', currency: 'EUR' });
  await call('POST', `/v1/payments/${pa.body.id}`, { paymentType: 'RF', amount: '5.00', currency: 'EUR' });
  await call('GET', `/v1/payments/${pa.body.id}`, {});
  await call('GET', '/v1/query', { merchantTransactionId: 'canary' });
  // Through a 3-D Secure challenge: the page, the held CVV and the later authorization.
  const challenged = await call('POST', '/v1/payments', {
    ...card, amount: '12.00', currency: 'EUR', paymentType: 'DB', merchantTransactionId: 'canary',
    'customParameters[3DS2_enrolled]': 'true', shopperResultUrl: 'https://shop.example/result',
  });
  assert.equal(challenged.body.result.code, '000.200.000');
  const page = await openRedirect(challenged.body.redirect);
  bodies.push(page.html);
  await answer(page, 'completed');
  const done = await call('GET', `/v1/query/${challenged.body.id}`, {});
  assert.equal(done.body.result.code, '000.100.110');
  // Registrations: stored, paid with, made with a payment, deleted.
  const reg = await call('POST', '/v1/registrations', { ...card });
  assert.equal(reg.body.result.code, '000.100.110');
  await call('POST', `/v1/registrations/${reg.body.id}/payments`, { amount: '3.00', currency: 'EUR', paymentType: 'DB', 'card.cvv': canaryCvv.slice(0, 3) });
  await call('POST', '/v1/payments', { ...card, amount: '2.00', currency: 'EUR', paymentType: 'DB', createRegistration: 'true' });
  await call('DELETE', `/v1/registrations/${reg.body.id}`, {});
  // Refused requests must not echo the card either.
  await call('POST', '/v1/payments', { ...card, 'card.expiryYear': '2020', amount: '1.00', currency: 'EUR', paymentType: 'DB' });
  await call('POST', '/v1/payments', { ...card, 'card.cvv': '12', amount: '1.00', currency: 'EUR', paymentType: 'DB' });
  await call('POST', '/v1/payments', { ...card, paymentBrand: 'MASTER', amount: '1.00', currency: 'EUR', paymentType: 'DB' });
  await call('POST', '/v1/payments', { ...card, amount: 'x', currency: 'EUR', paymentType: 'DB' });
  return bodies;
}

function assertNoCardData(where: string, text: string) {
  const pan = current;
  assert.ok(!text.includes(pan), `PAN found in ${where}`);
  assert.ok(!text.includes(`${pan.slice(0, 4)} ${pan.slice(4, 8)}`), `spaced PAN found in ${where}`);
  for (const needle of [`"cvv":"${canaryCvv.slice(0, 3)}"`, `card.cvv=${canaryCvv.slice(0, 3)}`, `"card.cvv":"${canaryCvv.slice(0, 3)}"`]) {
    assert.ok(!text.includes(needle), `CVV found in ${where}`);
  }
}

test('canary card on the embedded store: not in logs, responses, SQLite files or WAL', async () => {
  current = newCanaryPan();
  const dataDir = tempDir();
  try {
    const proc = await startGatewayProcess({ SWITCHYARD_DATA_DIR: dataDir, LOG_LEVEL: 'debug' });
    const bodies = await exercise({ url: proc.url, merchant: demoCredentials(dataDir) });
    // Scan while the WAL still holds the pages, then again after a clean shutdown checkpoints it.
    const scanFiles = () => {
      const files = readdirSync(dataDir);
      assert.ok(files.some((f) => f.endsWith('-wal')) || files.includes('switchyard.sqlite'));
      for (const f of files) {
        const raw = readFileSync(join(dataDir, f));
        assertNoCardData(`data file ${f}`, raw.toString('latin1'));
        assertNoCardData(`data file ${f} (utf16)`, raw.toString('utf16le'));
      }
    };
    scanFiles();
    await proc.stop('SIGTERM');
    scanFiles();
    for (const b of bodies) assertNoCardData('a response', b);
    const logs = proc.output();
    assert.ok(logs.includes('"level"'), 'the gateway did log');
    assertNoCardData('the logs', logs);
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
});

test('canary card on PostgreSQL: not in any row of any table, nor in logs or responses', async (t) => {
  if (!(await postgresAvailable())) { t.skip('PostgreSQL unreachable'); return; }
  current = newCanaryPan();
  const gw = await startGateway({ store: 'postgres' });
  try {
    const bodies = await exercise(gw);
    for (const b of bodies) assertNoCardData('a response', b);
    assertNoCardData('the logs', gw.logs.join(''));
    const tables = await sql<{ table_name: string }>`select table_name from information_schema.tables where table_schema = current_schema()`.execute(gw.app.storage.db);
    assert.ok(tables.rows.length >= 8);
    for (const { table_name } of tables.rows) {
      const rows = await sql`select * from ${sql.table(table_name)}`.execute(gw.app.storage.db);
      assertNoCardData(`table ${table_name}`, JSON.stringify(rows.rows));
    }
  } finally {
    await gw.close();
  }
});
