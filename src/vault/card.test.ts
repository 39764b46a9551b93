import { test } from 'node:test';
import assert from 'node:assert/strict';
import { inspect } from 'node:util';
import { brandAccepts, checkCard, detectBrand, isExpired, listedBrandFor, luhnValid, Pan, Cvv, type CardBrand } from './card.ts';

test('brands are detected from the IIN', () => {
  assert.equal(detectBrand('4200000000000000'), 'VISA');
  assert.equal(detectBrand('5200000000000007'), 'MASTER');
  assert.equal(detectBrand('2223000048400011'), 'MASTER');
  assert.equal(detectBrand('377777777777770'), 'AMEX');
  assert.equal(detectBrand('6761301000993772'), 'MAESTRO');
  assert.equal(detectBrand('6011000990139424'), 'DISCOVER');
  assert.equal(detectBrand('3530111333300000'), 'JCB');
  assert.equal(detectBrand('36227206271667'), 'DINERS');
  assert.equal(detectBrand('9999999999999999'), undefined);
});

test('a Pan never prints its digits', () => {
  const pan = new Pan('4200000000000000');
  const cvv = new Cvv('123');
  const text = [String(pan), JSON.stringify({ pan, cvv }), inspect({ pan, cvv }), `${pan}${cvv}`].join(' ');
  assert.ok(!text.includes('4200000000000000'));
  assert.ok(!text.includes('123'));
  assert.equal(pan.reveal(), '4200000000000000');
  assert.equal(pan.bin, '420000');
  assert.equal(pan.last4, '0000');
});

test('cards expire after the last day of their month', () => {
  const now = Date.parse('2026-05-31T23:59:00Z');
  assert.equal(isExpired('05', '2026', now), false);
  assert.equal(isExpired('04', '2026', now), true);
  assert.equal(isExpired('12', '2025', now), true);
});

/** Public test cards per brand; VPAY has no range of its own, so the platform's Visa test card stands for it. */
const brandTestCards: ReadonlyArray<readonly [CardBrand, string, CardBrand | undefined]> = [
  ['VISA', '4200000000000000', 'VISA'],
  ['VISAELECTRON', '4917300000000008', 'VISAELECTRON'],
  ['VPAY', '4200000000000000', 'VISA'],
  ['CARTEBLEUE', '4360000001000005', 'VISA'],
  ['MADA', '4464040000000007', 'VISA'],
  ['MASTER', '5200000000000007', 'MASTER'],
  ['MAESTRO', '6761301000993772', 'MAESTRO'],
  ['DANKORT', '5019717010103742', 'DANKORT'],
  ['AMEX', '377777777777770', 'AMEX'],
  ['DINERS', '36227206271667', 'DINERS'],
  ['DISCOVER', '6011000990139424', 'DISCOVER'],
  ['JCB', '3530111333300000', 'JCB'],
  ['UNIONPAY', '6200000000000005', 'UNIONPAY'],
  ['ELO', '6505290000002000', 'ELO'],
  ['ELO', '4514160000000003', 'ELO'],
  ['HIPERCARD', '6062825624254001', 'HIPERCARD'],
];

const card = (brand: CardBrand, pan: string) => ({
  pan: new Pan(pan), cvv: new Cvv(brand === 'AMEX' ? '1234' : '123'), holder: 'Jane Jones', expiryMonth: '05', expiryYear: '2034', brand,
});
const now = Date.parse('2026-06-01T00:00:00Z');

test('each brand\'s test card is Luhn-valid, detected as documented, and passes the card checks under its own name', () => {
  for (const [brand, pan, detected] of brandTestCards) {
    assert.ok(luhnValid(pan), pan);
    assert.equal(detectBrand(pan), detected, pan);
    assert.equal(checkCard(card(brand, pan), now), undefined, `${brand} ${pan}`);
  }
});

test('ranges carved out of a wider scheme\'s range win over it', () => {
  const cases: Array<[string, CardBrand]> = [
    // Visa Electron inside Visa's 4-series, at each published prefix.
    ['4026000000000002', 'VISAELECTRON'], ['4175000000000001', 'VISAELECTRON'], ['4405000000000006', 'VISAELECTRON'],
    ['4508000000000004', 'VISAELECTRON'], ['4844000000000000', 'VISAELECTRON'], ['4913000000000000', 'VISAELECTRON'],
    ['4174990000000000', 'VISA'], ['4027000000000000', 'VISA'],
    // Dankort inside Maestro's 50-series; the rest of 50 stays Maestro.
    ['5019000000000000', 'DANKORT'], ['5018000000000000', 'MAESTRO'],
    // Elo inside Visa, Maestro, UnionPay and Discover.
    ['4011780000000000', 'ELO'], ['4389350000000000', 'ELO'], ['5041750000000000', 'ELO'], ['5067000000000000', 'ELO'],
    ['5090000000000000', 'ELO'], ['6277800000000000', 'ELO'], ['6363680000000000', 'ELO'], ['6500310000000000', 'ELO'],
    ['6550580000000000', 'ELO'], ['6500340000000000', 'DISCOVER'], ['6550200000000000', 'DISCOVER'], ['6277810000000000', 'UNIONPAY'],
    // Hipercard inside Maestro's 60-series and Diners' 38-series.
    ['6062820000000000', 'HIPERCARD'], ['3841000000000000', 'HIPERCARD'], ['3841400000000000', 'HIPERCARD'],
    ['3841600000000000', 'HIPERCARD'], ['6062830000000000', 'MAESTRO'], ['3841200000000000', 'DINERS'],
  ];
  for (const [pan, brand] of cases) assert.equal(detectBrand(pan), brand, pan);
});

test('a named brand and a number that disagree are a brand mismatch', () => {
  const mismatches: Array<[CardBrand, string]> = [
    ['VISAELECTRON', '4200000000000000'], // a plain Visa number is no Electron card
    ['VISA', '4514160000000003'], // Elo's range inside Visa's is Elo's
    ['MASTER', '5019717010103742'], ['MAESTRO', '5019717010103742'], ['DANKORT', '4200000000000000'],
    ['DISCOVER', '6505290000002000'], ['HIPERCARD', '6761301000993772'], ['ELO', '6062825624254001'],
    ['VPAY', '5200000000000007'], ['VPAY', '4917300000000008'], ['CARTEBLEUE', '377777777777770'], ['MADA', '6200000000000005'],
    ['AMEX', '4200000000000000'],
  ];
  for (const [brand, pan] of mismatches) assert.equal(checkCard(card(brand, pan), now), 'brand_mismatch', `${brand} ${pan}`);
});

test('co-branded and sub-brands are accepted on their host schemes only', () => {
  assert.equal(brandAccepts('VISA', 'VISAELECTRON'), true);
  assert.equal(brandAccepts('VISAELECTRON', 'VISA'), false);
  assert.equal(brandAccepts('CARTEBLEUE', 'MASTER'), true);
  assert.equal(brandAccepts('MADA', 'MASTER'), true);
  assert.equal(brandAccepts('MADA', 'MAESTRO'), false);
  assert.equal(brandAccepts('VPAY', 'VISA'), true);
  assert.equal(checkCard(card('CARTEBLEUE', '5200000000000007'), now), undefined);
  assert.equal(checkCard(card('VISA', '4917300000000008'), now), undefined);
});

test('a card is paid as the brand of a shop\'s list that takes it: itself where listed, else the listed brand it is a card of', () => {
  assert.equal(listedBrandFor('VISAELECTRON', ['VISA', 'MASTER']), 'VISA');
  assert.equal(listedBrandFor('VISAELECTRON', ['VISA', 'VISAELECTRON']), 'VISAELECTRON');
  assert.equal(listedBrandFor('MASTER', ['VISA', 'AMEX']), undefined);
  assert.equal(listedBrandFor('VISA', ['visa', 'NOT-A-BRAND']), undefined, 'names are the platform\'s, in capitals');
  assert.equal(listedBrandFor('MASTER', ['MADA']), 'MADA', 'a brand issued on another scheme\'s numbers takes them');
});
