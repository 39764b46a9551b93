import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Currency } from '../money/money.ts';
import type { OperationKind } from './model.ts';
import type { OperationRecord } from './store.ts';
import { toldOfOperation } from './psp-request.ts';

const operation = (kind: OperationKind, seq: number, extra: Partial<Pick<OperationRecord, 'context' | 'details' | 'merchantTransactionId'>> = {}): OperationRecord => ({
  id: `op${seq}`, paymentId: 'pay', seq, merchantId: 'm', entityId: undefined, kind, status: 'pending', amount: { amount: 1000, currency: 'EUR' as Currency },
  referencedId: seq === 0 ? undefined : 'op0', resultCode: undefined, reason: undefined, pspReference: undefined,
  merchantTransactionId: extra.merchantTransactionId, shortId: `s${seq}`, context: extra.context ?? {}, details: extra.details ?? {},
  unknownSince: undefined, createdAt: 0, updatedAt: 0,
});

const shopperContext = { customer: { email: 'jane@example.com', ip: '203.0.113.7', browser: { userAgent: 'Mozilla/5.0' } }, descriptor: 'ACME 1042', merchantInvoiceId: 'INV-1' };

test('an authorization the shopper makes tells the shopper, the statement text and the merchant\'s references', () => {
  const told = toldOfOperation(operation('authorize', 0, { context: shopperContext, merchantTransactionId: 'order-1' }), 'authorize', true);
  assert.equal(told.merchantInitiated, undefined);
  assert.equal(told.shopper?.email, 'jane@example.com');
  assert.equal(told.shopper?.ip, '203.0.113.7');
  assert.equal(told.statementText, 'ACME 1042');
  assert.deepEqual(told.merchantReferences, { order: 'order-1', invoice: 'INV-1' });
});

test('a merchant-initiated charge is told so, with no browser or IP address; a follow-up tells no shopper and no references', () => {
  const mit = toldOfOperation(operation('sale', 0, { context: { ...shopperContext, merchantInitiated: true, standingInstruction: { type: 'RECURRING', mode: 'REPEATED' } } }), 'sale', true);
  assert.equal(mit.merchantInitiated, true);
  assert.equal(mit.shopper?.ip, undefined);
  assert.equal(mit.shopper?.browser, undefined);
  assert.equal(mit.shopper?.email, 'jane@example.com');
  assert.deepEqual(mit.storedCredential, { use: 'subsequent', initiatedBy: 'merchant', type: 'recurring' });
  const capture = toldOfOperation(operation('capture', 1, { context: shopperContext, merchantTransactionId: 'order-1' }), 'capture', false);
  assert.deepEqual(capture, {});
});

test('the opening operation carries its 3-D Secure result, with the merchant\'s MPI cryptogram where it gave one', () => {
  const details = { '3ds.transactionStatus': 'Y', '3ds.acsEci': '05', '3ds.flow': 'frictionless', '3ds.version': '2.2.0' };
  const told = toldOfOperation(operation('authorize', 0, { details, context: { externalAuthentication: { authenticationValue: 'AAAB', dsTransactionId: 'ds-1', xid: 7 } } }), 'authorize', true);
  assert.deepEqual(told.authentication, { status: 'Y', eci: '05', flow: 'frictionless', version: '2.2.0', authenticationValue: 'AAAB', dsTransactionId: 'ds-1' });
  assert.equal(toldOfOperation(operation('refund', 2, { details }), 'refund', false).authentication, undefined);
});
