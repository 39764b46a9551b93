/**
 * PostgreSQL: an operator removes a PSP account at the moment a payment's attempt at it is being
 * recorded (a cascade moving on to it as the operator takes it out of the cascade, on another node).
 * The removal checks that nothing is open at the account, then deletes it: an attempt committed
 * between the two was not seen, the operator was told "removed", and the attempt was left at an
 * account that is gone (its PSP, which may charge the card, could no longer be asked). The attempt's
 * unit holds the account until it commits; the removal waits for it, sees it, and is refused.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createPaymentStore } from '../src/payments/kysely-store.ts';
import { pay, postgresAvailable, startGateway } from './support/harness.ts';
import { configureCascade } from './support/executions.ts';
import { adminHeaders } from './support/process.ts';

const pgUp = await postgresAvailable();
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

test('PostgreSQL: an account\'s removal waits for an attempt being recorded at it, then is refused: it holds an open attempt', { skip: pgUp ? false : 'PostgreSQL unreachable' }, async () => {
  const gw = await startGateway({ store: 'postgres' });
  try {
    await configureCascade(gw, { 'acq-a': { connector: 'simulator', settings: {} }, 'acq-b': { connector: 'simulator', settings: {} } }, ['acq-a']);
    const p = await pay(gw, { paymentType: 'PA', amount: '10.00' });
    assert.match(p.body.result.code, /^000\.(000|100)\./, JSON.stringify(p.body.result));
    const acqB = await gw.app.storage.db.selectFrom('psp_accounts').select('id').where('name', '=', 'acq-b').executeTakeFirstOrThrow();

    // An attempt at acq-b recorded in a unit of work that has not committed yet.
    let commit!: () => void;
    const committing = new Promise<void>((r) => { commit = r; });
    let recorded!: () => void;
    const inserted = new Promise<void>((r) => { recorded = r; });
    const now = Date.now();
    const unit = gw.app.storage.uow.run(async (tx) => {
      await createPaymentStore(gw.app.storage.uow).writer(tx).insertAttempt({
        id: 'b'.repeat(32), paymentId: p.body.id, operationId: p.body.id, seq: 1, accountId: acqB.id, accountName: 'acq-b', connector: 'simulator',
        authenticated: false, status: 'pending', reason: undefined, resultCode: undefined, pspReference: undefined, createdAt: now, updatedAt: now,
      });
      recorded();
      await committing;
    });
    await inserted;
    let answered = false;
    const removing = fetch(`${gw.url}/admin/merchants/${gw.merchant.merchantId}/psp-accounts/acq-b`, {
      method: 'DELETE', headers: { authorization: adminHeaders(gw.dataDir, gw.app.config.adminToken).authorization! },
    }).then((r) => { answered = true; return r; });
    for (let i = 0; i < 50 && !answered; i++) await sleep(10);
    commit();
    await unit;
    const removed = await removing;
    assert.equal(removed.status, 409, `the removal was answered ${removed.status} while an attempt at the account was being recorded: ${await removed.text()}`);
    assert.ok(await gw.app.storage.db.selectFrom('psp_accounts').select('id').where('id', '=', acqB.id).executeTakeFirst(), 'the account is still there');
  } finally { await gw.close(); }
});
