/**
 * The security code held for a cascade's next account, when the authorization ends before the hold
 * is written: the shopper back from the first PSP's own 3-D Secure (on another node, or while this
 * node's write waits for the database) and the cascade finished without it. The hold must not
 * outlive the authorization it was made for.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import pg from 'pg';
import { startGateway, opp, postgresAvailable, testPostgresUrl, type Gateway } from './support/harness.ts';
import { configureCascade } from './support/executions.ts';
import { adyenFakeCredentials, startScriptedAdyen } from './support/fake-psps/adyen.ts';

const pgUp = await postgresAvailable();
const gateKey = 918_273_645;

let a: Awaited<ReturnType<typeof startScriptedAdyen>>;
let b: Awaited<ReturnType<typeof startScriptedAdyen>>;
let gw: Gateway | undefined;
let db: pg.Client | undefined;
before(async () => {
  if (!pgUp) return;
  [a, b] = await Promise.all([startScriptedAdyen('challenge'), startScriptedAdyen('approve')]);
  gw = await startGateway({ store: 'postgres' });
  db = new pg.Client({ connectionString: testPostgresUrl });
  await db.connect();
});
after(async () => { await db?.end(); await gw?.close(); await Promise.all([a?.close(), b?.close()]); });

/** The gateway's schema: the one whose merchants table holds this gateway's merchant. */
async function schemaOf(client: pg.Client, merchantId: string): Promise<string> {
  const schemas = (await client.query(`select schema_name from information_schema.schemata where schema_name like 'sy\\_test\\_%'`)).rows.map((r) => r.schema_name as string);
  for (const s of schemas) {
    const found = await client.query(`select 1 from "${s}".merchants where id = $1`, [merchantId]).catch(() => ({ rowCount: 0 }));
    if (found.rowCount) return s;
  }
  throw new Error('the gateway\'s schema was not found');
}

test('a hold written after the authorization ended (the shopper back and the cascade done meanwhile) is let go at once', { skip: pgUp ? false : 'PostgreSQL unreachable' }, async () => {
  const adyenAt = (psp: { url: string }) => ({ connector: 'adyen', settings: { baseUrl: psp.url, ...adyenFakeCredentials } });
  await configureCascade(gw!, { adyenA: adyenAt(a), adyenB: adyenAt(b) }, ['adyenA', 'adyenB'], ['soft', 'error']);
  const schema = await schemaOf(db!, gw!.merchant.merchantId);
  // The hold's insert waits on a lock this test holds: the write lands only after the shopper's return.
  await db!.query(`create function "${schema}".hold_gate() returns trigger language plpgsql as $$ begin perform pg_advisory_xact_lock(${gateKey}); return new; end $$`);
  await db!.query(`create trigger hold_gate before insert on "${schema}".cvv_holds for each row execute function "${schema}".hold_gate()`);
  await db!.query('select pg_advisory_lock($1)', [gateKey]);
  let released = false;
  try {
    const answer = opp(gw!, 'POST', '/v1/payments', {
      amount: '50.00', currency: 'EUR', paymentType: 'PA', paymentBrand: 'VISA', 'card.number': '4111111111111111',
      'card.holder': 'Jane Jones', 'card.expiryMonth': '05', 'card.expiryYear': '2034', 'card.cvv': '123', shopperResultUrl: 'https://shop.example/back',
    });
    // The gateway has the first PSP's answer (its own 3-D Secure) and waits to write the hold.
    const waiting = async () => (await db!.query(`select count(*)::int as n from pg_locks where locktype = 'advisory' and objid = $1 and not granted`, [gateKey])).rows[0].n > 0;
    for (let i = 0; i < 400 && !await waiting(); i++) await new Promise((r) => setTimeout(r, 25));
    assert.ok(await waiting(), 'the hold is being written');
    // The shopper is back before the hold is written: the first PSP declines softly, the next approves.
    await (await fetch(`${a.state.returnUrls.at(-1)!}?redirectResult=passed`, { redirect: 'manual' })).text();
    await gw!.app.payments.idle();
    await db!.query('select pg_advisory_unlock($1)', [gateKey]);
    released = true;
    const r = await answer;
    const d = (await gw!.app.payments.details(r.body.id))!;
    assert.deepEqual(d.attempts.map((x) => [x.accountName, x.status]), [['adyenA', 'failed'], ['adyenB', 'succeeded']]);
    const held = await db!.query(`select count(*)::int as n from "${schema}".cvv_holds`);
    assert.equal(held.rows[0].n, 0, 'the security code stayed held, sealed, after the authorization it was captured for had ended');
  } finally {
    if (!released) await db!.query('select pg_advisory_unlock($1)', [gateKey]);
  }
});
