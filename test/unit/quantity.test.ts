import { describe, expect, test } from 'vitest';
import {
  formatKwh,
  formatNotional,
  formatPrice,
  formatUnits,
  KWH_SCALE,
  MAX_PRICE_E4,
  MAX_WH,
  NOTIONAL_SCALE,
  PRICE_SCALE,
  parseDecimal,
} from '../../src/domain/quantity.js';

/** The bounds the schemas use: a volume is > 0, a price >= 0. */
const KWH = { min: 1n, max: MAX_WH };
const PRICE = { min: 0n, max: MAX_PRICE_E4 };
/** Wide bounds, so only the syntax and the scale are under test. */
const WIDE = { min: -(10n ** 30n), max: 10n ** 30n };

const units = (input: unknown, scale: number, bounds = WIDE): bigint => {
  const r = parseDecimal(input, scale, bounds);
  if (!r.ok) throw new Error(`expected ${String(input)} to parse, got: ${r.message}`);
  return r.units;
};

describe('constants', () => {
  test('scales: kWh 3, price 4, notional 7', () => {
    expect(KWH_SCALE).toBe(3);
    expect(PRICE_SCALE).toBe(4);
    expect(NOTIONAL_SCALE).toBe(7);
  });

  test('MAX_WH is 1 TWh and MAX_PRICE_E4 is 1,000,000 per kWh', () => {
    expect(MAX_WH).toBe(10n ** 12n);
    expect(formatKwh(MAX_WH)).toBe('1000000000.000');
    expect(MAX_PRICE_E4).toBe(10n ** 10n);
    expect(formatPrice(MAX_PRICE_E4)).toBe('1000000.0000');
  });
});

describe('parseDecimal: accepted input', () => {
  test.each<[unknown, number, bigint]>([
    ['12.5', 3, 12_500n],
    [12.5, 3, 12_500n],
    ['0.001', 3, 1n],
    [0.001, 3, 1n],
    [0, 3, 0n],
    ['0', 3, 0n],
    ['0.000', 3, 0n],
    ['1.0000', 4, 10_000n],
    [1.0, 3, 1_000n],
    ['1', 3, 1_000n],
    ['007.5', 3, 7_500n],
    ['  12.5\t', 3, 12_500n],
    [0.1, 3, 100n],
    [0.1234, 4, 1_234n],
    ['0.1234', 4, 1_234n],
    [123456789.123, 3, 123_456_789_123n],
    ['5', 0, 5n],
    [5, 0, 5n],
    ['-12.5', 3, -12_500n],
    [-12.5, 3, -12_500n],
    ['-0.001', 3, -1n],
    [-0, 3, 0n],
    ['-0', 3, 0n],
    ['999999999999999999', 0, 999_999_999_999_999_999n],
    ['999999999999999999.999', 3, 999_999_999_999_999_999_999n],
  ])('%j at scale %i -> %s units', (input, scale, expected) => {
    expect(parseDecimal(input, scale, WIDE)).toEqual({ ok: true, units: expected });
  });
});

describe('parseDecimal: more decimals than the scale is refused, never rounded', () => {
  test.each<[unknown, number]>([
    ['12.5001', 3],
    [12.5001, 3],
    ['0.0001', 3],
    [0.0001, 3],
    ['0.0005', 3],
    ['0.9999', 3],
    ['1.0000', 3],
    ['0.00001', 4],
    [0.12345, 4],
    ['1.5', 0],
    ['1.0', 0],
    [0.1 + 0.2, 3],
  ])('%j at scale %i', (input, scale) => {
    expect(parseDecimal(input, scale, WIDE)).toEqual({
      ok: false,
      message: `must have at most ${scale} decimals`,
    });
  });
});

describe('parseDecimal: exponent forms are refused', () => {
  test.each<[unknown]>([[1e-7], [1e21], [-1e-7], ['1e3'], ['1E3'], ['1e-3'], ['1.5e2'], ['-1e3']])(
    '%j',
    (input) => {
      expect(parseDecimal(input, 3, WIDE)).toEqual({
        ok: false,
        message: 'must be a plain decimal such as "12.5"',
      });
    },
  );
});

describe('parseDecimal: non-numeric input is refused', () => {
  test.each<[string, unknown]>([
    ['null', null],
    ['undefined', undefined],
    ['an object', {}],
    ['an array', []],
    ['an array of a number', [1]],
    ['true', true],
    ['false', false],
    ['NaN', Number.NaN],
    ['Infinity', Number.POSITIVE_INFINITY],
    ['-Infinity', Number.NEGATIVE_INFINITY],
    ['a bigint', 5n],
    ['a boxed number', Object(5)],
  ])('%s', (_name, input) => {
    expect(parseDecimal(input, 3, WIDE)).toEqual({
      ok: false,
      message: 'must be a decimal number or string',
    });
  });

  test.each<[string]>([
    [''],
    [' '],
    ['1,5'],
    ['0x10'],
    ['abc'],
    ['12.5 kWh'],
    ['1 000'],
    ['.5'],
    ['5.'],
    ['+5'],
    ['-'],
    ['--5'],
    ['- 5'],
    ['1.2.3'],
    ['NaN'],
    ['Infinity'],
    ['٣'],
    ['１２'],
  ])('the string %j', (input) => {
    expect(parseDecimal(input, 3, WIDE)).toEqual({
      ok: false,
      message: 'must be a plain decimal such as "12.5"',
    });
  });
});

describe('parseDecimal: bounds are inclusive, in units', () => {
  test.each<[unknown, number, { min: bigint; max: bigint }, boolean, string?]>([
    ['0.001', 3, KWH, true],
    ['0', 3, KWH, false, 'must be at least 0.001'],
    ['0.000', 3, KWH, false, 'must be at least 0.001'],
    ['-0.001', 3, KWH, false, 'must be at least 0.001'],
    [-5, 3, KWH, false, 'must be at least 0.001'],
    ['1000000000', 3, KWH, true],
    ['1000000000.000', 3, KWH, true],
    ['1000000000.001', 3, KWH, false, 'must be at most 1000000000.000'],
    [1000000001, 3, KWH, false, 'must be at most 1000000000.000'],
    ['0', 4, PRICE, true],
    [0, 4, PRICE, true],
    ['-0', 4, PRICE, true],
    ['-0.0001', 4, PRICE, false, 'must be at least 0.0000'],
    [-0.12, 4, PRICE, false, 'must be at least 0.0000'],
    ['1000000', 4, PRICE, true],
    ['1000000.0000', 4, PRICE, true],
    ['1000000.0001', 4, PRICE, false, 'must be at most 1000000.0000'],
    ['-1.5', 3, { min: -1500n, max: 0n }, true],
    ['-1.501', 3, { min: -1500n, max: 0n }, false, 'must be at least -1.500'],
    ['0.001', 3, { min: -1500n, max: 0n }, false, 'must be at most 0.000'],
    ['7', 0, { min: 7n, max: 7n }, true],
    ['8', 0, { min: 7n, max: 7n }, false, 'must be at most 7'],
    ['6', 0, { min: 7n, max: 7n }, false, 'must be at least 7'],
  ])('%j at scale %i within %o -> ok %s', (input, scale, bounds, ok, message) => {
    const r = parseDecimal(input, scale, bounds);
    if (ok) expect(r.ok).toBe(true);
    else expect(r).toEqual({ ok: false, message });
  });

  test('the parsed value at a bound is exactly the bound', () => {
    expect(units('0.001', 3, KWH)).toBe(KWH.min);
    expect(units('1000000000', 3, KWH)).toBe(KWH.max);
    expect(units('1000000', 4, PRICE)).toBe(PRICE.max);
  });
});

describe('parseDecimal: too-large values', () => {
  test.each<[unknown]>([
    ['1000000000000000000'],
    ['1000000000000000000.5'],
    ['-1000000000000000000'],
    ['0000000000000000000001'],
    [1e20],
    [2 ** 64],
  ])('%j has more than 18 integer digits', (input) => {
    expect(parseDecimal(input, 3, WIDE)).toEqual({ ok: false, message: 'is too large' });
  });

  test('18 integer digits pass the length check and then meet the bounds', () => {
    expect(parseDecimal('999999999999999999', 3, KWH)).toEqual({
      ok: false,
      message: 'must be at most 1000000000.000',
    });
  });

  test('the decimals are checked before the size', () => {
    expect(parseDecimal('1000000000000000000.12345', 3, WIDE)).toEqual({
      ok: false,
      message: 'must have at most 3 decimals',
    });
  });
});

describe('formatUnits', () => {
  test.each<[bigint, number, string]>([
    [12_500n, 3, '12.500'],
    [1n, 3, '0.001'],
    [0n, 3, '0.000'],
    [999n, 3, '0.999'],
    [1_000n, 3, '1.000'],
    [1_200n, 4, '0.1200'],
    [1n, 7, '0.0000001'],
    [0n, 0, '0'],
    [5n, 0, '5'],
    [1_234_567n, 0, '1234567'],
    [-5n, 0, '-5'],
    [-1n, 3, '-0.001'],
    [-12_500n, 3, '-12.500'],
    [-10_000n, 4, '-1.0000'],
    [10n ** 30n, 3, '1000000000000000000000000000.000'],
  ])('%s at scale %i -> %s', (value, scale, expected) => {
    expect(formatUnits(value, scale)).toBe(expected);
  });

  test.each<[string, number]>([
    ['12.500', 3],
    ['0.001', 3],
    ['-0.001', 3],
    ['0.0000', 4],
    ['1000000.0000', 4],
    ['42', 0],
    ['-42', 0],
  ])('canonical %j at scale %i round-trips through parseDecimal', (text, scale) => {
    expect(formatUnits(units(text, scale), scale)).toBe(text);
  });
});

describe('formatKwh, formatPrice, formatNotional', () => {
  test('formatKwh has 3 decimals, formatPrice 4', () => {
    expect(formatKwh(12_500n)).toBe('12.500');
    expect(formatKwh(units(12.5, KWH_SCALE))).toBe('12.500');
    expect(formatPrice(1_200n)).toBe('0.1200');
    expect(formatPrice(units('0.12', PRICE_SCALE))).toBe('0.1200');
  });

  test('0.1 kWh + 0.2 kWh is exactly 0.300 (no floating point)', () => {
    expect(0.1 + 0.2).not.toBe(0.3);
    expect(formatKwh(units('0.1', KWH_SCALE) + units('0.2', KWH_SCALE))).toBe('0.300');
    expect(formatKwh(units(0.1, KWH_SCALE) + units(0.2, KWH_SCALE))).toBe('0.300');
  });

  test('ten times 0.1 kWh is exactly 1.000', () => {
    let sum = 0n;
    for (let i = 0; i < 10; i++) sum += units('0.1', KWH_SCALE);
    expect(formatKwh(sum)).toBe('1.000');
  });

  test.each<[string, string, string]>([
    ['12.5', '0.1234', '1.5425000'],
    ['0.001', '0.0001', '0.0000001'],
    ['1', '1', '1.0000000'],
    ['0.001', '0', '0.0000000'],
    ['1000000000', '1000000', '1000000000000000.0000000'],
    ['0.333', '0.3333', '0.1109889'],
    ['2.5', '0.12', '0.3000000'],
  ])('%s kWh x %s per kWh = %s', (kwh, price, expected) => {
    expect(formatNotional(units(kwh, KWH_SCALE, KWH), units(price, PRICE_SCALE, PRICE))).toBe(expected);
  });
});
