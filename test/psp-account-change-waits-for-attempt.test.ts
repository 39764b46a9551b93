/**
 * PostgreSQL: an operator removes a PSP account, or moves it to another PSP (its connector), at the
 * moment a payment's attempt at it is being recorded (a cascade moving on to it, on another node).
 * Each change checks that nothing is open at the account, then makes the change: an attempt
 * committed between the two was not seen, the operator was told it was done, and the attempt was
 * left at an account that is gone, or whose captures, voids and status calls now go to another PSP.
 * The attempt's unit holds the account until it commits; the change waits for it, sees it, and is refused.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createPaymentStore } from '../src/payments/kysely-store.ts';
import { pay, postgresAvailable, startGateway, type Gateway } from './support/harness.ts';
import { configureCascade } from './support/executions.ts';
import { adminHeaders } from './support/process.ts';
import { stripeFakeCredentials } from './support/fake-psps/stripe.ts';

const pgUp = await postgresAvailable();
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Makes a payment at acq-a, then records an attempt of it at acq-b in a unit of work left open while
 * `change` is asked (and while it is not answered, for up to half a second); returns its answer once
 * the unit committed, with acq-b's id.
 */
async function changedWhileRecording(gw: Gateway, change: (accountsUrl: string) => Promise<Response>): Promise<{ answer: Response; accountId: string }> {
  await configureCascade(gw, { 'acq-a': { connector: 'simulator', settings: {} }, 'acq-b': { connector: 'simulator', settings: {} } }, ['acq-a']);
  const p = await pay(gw, { paymentType: 'PA', amount: '10.00' });
  assert.match(p.body.result.code, /^000\.(000|100)\./, JSON.stringify(p.body.result));
  const acqB = await gw.app.storage.db.selectFrom('psp_accounts').select('id').where('name', '=', 'acq-b').executeTakeFirstOrThrow();
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
  const changing = change(`${gw.url}/admin/merchants/${gw.merchant.merchantId}/psp-accounts`).then((r) => { answered = true; return r; });
  for (let i = 0; i < 50 && !answered; i++) await sleep(10);
  commit();
  await unit;
  return { answer: await changing, accountId: acqB.id };
}

test('PostgreSQL: an account\'s removal waits for an attempt being recorded at it, then is refused: it holds an open attempt', { skip: pgUp ? false : 'PostgreSQL unreachable' }, async () => {
  const gw = await startGateway({ store: 'postgres' });
  try {
    const { answer, accountId } = await changedWhileRecording(gw, (url) => fetch(`${url}/acq-b`, {
      method: 'DELETE', headers: { authorization: adminHeaders(gw.dataDir, gw.app.config.adminToken).authorization! },
    }));
    assert.equal(answer.status, 409, `the removal was answered ${answer.status} while an attempt at the account was being recorded: ${await answer.text()}`);
    assert.ok(await gw.app.storage.db.selectFrom('psp_accounts').select('id').where('id', '=', accountId).executeTakeFirst(), 'the account is still there');
  } finally { await gw.close(); }
});

test('PostgreSQL: an account\'s move to another connector waits for an attempt being recorded at it, then is refused', { skip: pgUp ? false : 'PostgreSQL unreachable' }, async () => {
  const gw = await startGateway({ store: 'postgres' });
  try {
    const { answer, accountId } = await changedWhileRecording(gw, (url) => fetch(`${url}/acq-b`, {
      method: 'PUT', headers: adminHeaders(gw.dataDir, gw.app.config.adminToken),
      body: JSON.stringify({ connector: 'stripe', settings: { baseUrl: 'http://127.0.0.1:9', ...stripeFakeCredentials } }),
    }));
    const text = await answer.text();
    assert.equal(answer.status, 400, `the move was answered ${answer.status} while an attempt at the account's simulator was being recorded: ${text}`);
    assert.match(text, /holds payments authorized at its simulator connector/);
    const account = await gw.app.storage.db.selectFrom('psp_accounts').select('connector').where('id', '=', accountId).executeTakeFirstOrThrow();
    assert.equal(account.connector, 'simulator');
  } finally { await gw.close(); }
});
