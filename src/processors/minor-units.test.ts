import { test } from 'node:test';
import assert from 'node:assert/strict';
import { money, type Currency } from '../money/money.ts';
import { pspMinorUnits } from './minor-units.ts';

const m = (amount: number, currency: string) => money(amount, currency as Currency);
const table = { exponents: { CLP: 2, CVE: 0 }, multipleOf: { KWD: 10 } };

test('ISO minor units become the PSP\'s: more decimals scale up, fewer scale down, the rest pass as they are', () => {
  assert.equal(pspMinorUnits(m(5000, 'CLP'), table), 500_000, 'CLP 5000: hundredths at the PSP');
  assert.equal(pspMinorUnits(m(10_000, 'CVE'), table), 100, 'CVE 100.00: whole escudos at the PSP');
  assert.equal(pspMinorUnits(m(9200, 'EUR'), table), 9200);
  assert.equal(pspMinorUnits(m(1500, 'JPY'), table), 1500);
  assert.equal(pspMinorUnits(m(1230, 'KWD'), table), 1230);
});

test('an amount the PSP cannot express is refused, never rounded', () => {
  assert.throws(() => pspMinorUnits(m(10_050, 'CVE'), table), /CVE 100\.50 cannot be sent/);
  assert.throws(() => pspMinorUnits(m(1234, 'KWD'), table), /KWD 1\.234 cannot be sent: this PSP takes KWD only in steps of 10/);
});
