import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { formatCents, notionalCents, roundHalfEven, toCents } from '../../src/domain/energy/money.js';

describe('roundHalfEven', () => {
  test.each([
    [25n, 10n, 2n], // 2.5 -> 2: a tie goes to the even neighbour
    [35n, 10n, 4n], // 3.5 -> 4
    [15n, 10n, 2n],
    [5n, 10n, 0n],
    [-25n, 10n, -2n],
    [-35n, 10n, -4n],
    [-5n, 10n, 0n],
    [24n, 10n, 2n],
    [26n, 10n, 3n],
    [-26n, 10n, -3n],
    [20n, 10n, 2n],
    [0n, 10n, 0n],
    [1n, 3n, 0n], // 0.333...
    [2n, 3n, 1n], // 0.666...
    [1n, 2n, 0n],
    [3n, 2n, 2n],
  ])('%d / %d -> %d', (n, d, q) => {
    expect(roundHalfEven(n, d)).toBe(q);
  });

  test('a zero or negative denominator is a programming error', () => {
    expect(() => roundHalfEven(1n, 0n)).toThrow(RangeError);
    expect(() => roundHalfEven(1n, -1n)).toThrow(RangeError);
  });

  test('property: within half a unit, exact ties even, symmetric in sign', () => {
    fc.assert(
      fc.property(fc.bigInt(-(10n ** 30n), 10n ** 30n), fc.bigInt(1n, 10n ** 12n), (n, d) => {
        const q = roundHalfEven(n, d);
        const err = 2n * (q * d - n); // 2 x (rounded - exact), in units of 1/d
        expect(err <= d && err >= -d).toBe(true);
        if (err === d || err === -d) expect(q % 2n).toBe(0n);
        expect(roundHalfEven(-n, d)).toBe(-q);
      }),
    );
  });
});

describe('toCents', () => {
  test.each([
    // a notional in 1e-7 units (Wh x priceE4)
    [1_2345_000n, 7, 123n], // 1.2345000 -> 1.23 (below the half)
    [1_2350_000n, 7, 124n], // 1.2350000 -> 1.24 (tie, 3 is odd: up)
    [1_2250_000n, 7, 122n], // 1.2250000 -> 1.22 (tie, 2 is even: stays)
    [1_2250_001n, 7, 123n], // just above the tie
    [-1_2250_000n, 7, -122n],
    [-1_2350_000n, 7, -124n],
    [5_000n, 7, 0n], // 0.0005000: below half a cent
    [50_000n, 7, 0n], // 0.0050000: half a cent, tie to 0
    [150_000n, 7, 2n], // 0.0150000: tie to 2
  ])('%d at %d decimals -> %d cents', (units, scale, cents) => {
    expect(toCents(units, scale)).toBe(cents);
  });

  test('a scale of 2 or less is exact', () => {
    expect(toCents(1234n, 2)).toBe(1234n);
    expect(toCents(5n, 0)).toBe(500n);
    expect(toCents(-12n, 1)).toBe(-120n);
  });

  test('notionalCents: 12.345 kWh at 0.1235 is 1.5246075, rounded once to 1.52', () => {
    expect(notionalCents(12_345n, 1235n)).toBe(152n);
    // 0.2 kWh at 0.0250 is 0.005 exactly: half a cent, to the even 0.00; 0.6 kWh is 0.015 -> 0.02
    expect(notionalCents(200n, 250n)).toBe(0n);
    expect(notionalCents(600n, 250n)).toBe(2n);
  });
});

describe('formatCents', () => {
  test.each([
    [1234n, '12.34'],
    [0n, '0.00'],
    [5n, '0.05'],
    [-5n, '-0.05'],
    [-1234n, '-12.34'],
    [100n, '1.00'],
    [123456789012345678901234567890n, '1234567890123456789012345678.90'],
  ])('%d -> %s', (cents, text) => {
    expect(formatCents(cents)).toBe(text);
  });
});
