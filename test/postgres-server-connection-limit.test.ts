/**
 * A node at the server's connection limit (other nodes and tools hold the rest; here a role allowed
 * three connections): requests wait for the node's own connections to come free instead of failing
 * when the server refuses a new one.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { pay, postgresAvailable, startGateway, testPostgresUrl, type Gateway } from './support/harness.ts';

const pgUp = await postgresAvailable();
const role = `sy_limited_${randomBytes(4).toString('hex')}`;
let admin: pg.Client | undefined;
let gw: Gateway | undefined;

before(async () => {
  if (!pgUp) return;
  admin = new pg.Client({ connectionString: testPostgresUrl });
  await admin.connect();
  const database = (await admin.query('select current_database() as d')).rows[0].d as string;
  await admin.query(`create role "${role}" login connection limit 3`);
  await admin.query(`grant create, connect on database "${database}" to "${role}"`);
  const url = new URL(testPostgresUrl);
  url.username = role;
  url.password = '';
  gw = await startGateway({ store: 'postgres', env: { DATABASE_URL: url.toString() } });
});

after(async () => {
  await gw?.close();
  if (!admin) return;
  const database = (await admin.query('select current_database() as d')).rows[0].d as string;
  await admin.query(`drop owned by "${role}" cascade`).catch(() => undefined);
  await admin.query(`revoke all on database "${database}" from "${role}"`).catch(() => undefined);
  await admin.query(`drop role if exists "${role}"`);
  await admin.end();
});

test('twelve payments at once on a node the server allows three connections are all served', { skip: pgUp ? false : 'PostgreSQL unreachable' }, async () => {
  const answers = await Promise.all(Array.from({ length: 12 }, () => pay(gw!)));
  assert.deepEqual(answers.map((a) => a.status), Array(12).fill(200), JSON.stringify(answers.filter((a) => a.status !== 200).map((a) => a.body?.result)));
  assert.ok(answers.every((a) => /^000\.100\.11/.test(a.body.result.code)));
});
