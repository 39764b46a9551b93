import { test, before, after, describe } from 'node:test';
import assert from 'node:assert/strict';
import { pay, startGateway, type Gateway } from './support/harness.ts';
import { call, tokenOf } from './support/executions.ts';

/** Each brand's public test card; VPAY has no range of its own, so the platform's Visa test card stands for it. */
const cards: ReadonlyArray<readonly [brand: string, pan: string, network: string | undefined]> = [
  ['VISA', '4200000000000000', 'visa'],
  ['VISAELECTRON', '4917300000000008', 'visa_electron'],
  ['VPAY', '4200000000000000', undefined],
  ['CARTEBLEUE', '4360000001000005', undefined],
  ['MADA', '4464040000000007', undefined],
  ['MASTER', '5200000000000007', 'mastercard'],
  ['MAESTRO', '6761301000993772', 'maestro'],
  ['DANKORT', '5019717010103742', 'dankort'],
  ['AMEX', '377777777777770', 'amex'],
  ['DINERS', '36227206271667', 'diners_club'],
  ['DISCOVER', '6011000990139424', 'discover'],
  ['JCB', '3530111333300000', 'jcb'],
  ['UNIONPAY', '6200000000000005', 'unionpay'],
  ['ELO', '6505290000002000', 'elo'],
  ['ELO', '4514160000000003', 'elo'],
  ['HIPERCARD', '6062825624254001', 'hipercard'],
];

let gw: Gateway;
before(async () => { gw = await startGateway(); });
after(() => gw.close());

describe('/v1: a DB with each brand\'s test card in test mode', () => {
  for (const [brand, pan] of cards) {
    test(`${brand} ${pan.slice(0, 6)}… is approved and answers paymentBrand ${brand}`, async () => {
      const r = await pay(gw, { paymentBrand: brand, 'card.number': pan, 'card.cvv': brand === 'AMEX' ? '1234' : '123' });
      assert.equal(r.body.result.code, '000.100.110', JSON.stringify(r.body.result));
      assert.equal(r.body.paymentBrand, brand);
      assert.equal(r.body.card.bin, pan.slice(0, 6));
      assert.ok(!JSON.stringify(r.body).includes(pan));
    });
  }
  for (const [brand, pan] of [['VISAELECTRON', '4200000000000000'], ['VISA', '4514160000000003'], ['MAESTRO', '5019717010103742'], ['DISCOVER', '6505290000002000'], ['MADA', '6200000000000005']] as const) {
    test(`${brand} named on a ${pan.slice(0, 6)}… number is refused with 100.100.700`, async () => {
      const r = await pay(gw, { paymentBrand: brand, 'card.number': pan });
      assert.equal(r.body.result.code, '100.100.700', JSON.stringify(r.body.result));
      assert.equal(r.body.result.description, 'invalid cc number/brand combination');
    });
  }
  test('a Visa Electron card named plain VISA is a Visa card', async () => {
    const r = await pay(gw, { paymentBrand: 'VISA', 'card.number': '4917300000000008' });
    assert.equal(r.body.result.code, '000.100.110');
    assert.equal(r.body.paymentBrand, 'VISA');
  });
});

describe('executions: an instrument shows the network detected from its number', () => {
  for (const [brand, pan, network] of cards) {
    if (network === undefined) continue;
    test(`${brand} ${pan.slice(0, 6)}… is a ${network} instrument`, async () => {
      const token = await tokenOf(gw);
      const r = await call(gw, 'POST', '/payment/instruments', {
        token, body: { holderReference: 'customer-1', paymentMethod: 'card', data: { cardNumber: pan, expiryMonth: '03', expiryYear: '30', securityCode: brand === 'AMEX' ? '1234' : '737', holderName: 'John Doe' } },
      });
      assert.equal(r.status, 201, JSON.stringify(r.body));
      assert.equal(r.body.data.network, network);
      assert.equal(r.body.data.bin, pan.slice(0, 6));
    });
  }
});
