// The dashboard's exact decimals and locale input rules, without a browser: what a trader types
// becomes the hub's decimal string (never a float), and the terms' notional is exact.
import { describe, expect, test } from 'vitest';
import { compareDecimal, fromUnits, notional, toUnits, trimZeros } from '../../web/src/decimal.js';
import { decimalSep, parseInput, toInput } from '../../web/src/locale.js';

describe('decimal input and arithmetic of the dashboard', () => {
  test('a decimal comma locale: "12,5" is 12.500; thousands separators are refused, not guessed', () => {
    expect(parseInput('12,5', 3, 'volume', ',')).toEqual({ value: '12.500' });
    expect(parseInput(' 0,09 ', 4, 'price', ',')).toEqual({ value: '0.0900' });
    expect(parseInput('12.5', 3, 'volume', ',')).toEqual({ value: '12.500' });
    expect(parseInput('1.000', 3, 'volume', ',').error).toMatch(/Is that 1000 or 1,000\?/);
    expect(parseInput('1.234,5', 3, 'volume', ',').error).toMatch(/without a thousands separator/);
    expect(parseInput('1 234,5', 3, 'volume', ',')).toEqual({ value: '1234.500' });
  });

  test('inner spaces and apostrophes: only exact thousands grouping, never joined digits', () => {
    expect(parseInput('12 5', 3, 'volume', ',').error).toMatch(/must be a number like 12,5/);
    expect(parseInput('12 5', 3, 'volume', '.').error).toMatch(/must be a number like 12\.5/);
    expect(parseInput("1'5", 3, 'volume', '.').error).toMatch(/must be a number/);
    expect(parseInput('1 2345', 3, 'volume', ',').error).toMatch(/must be a number/);
    expect(parseInput('1234 567', 3, 'volume', ',').error).toMatch(/must be a number/);
    expect(parseInput('1 234\u00a0567', 3, 'volume', ',').error).toMatch(/must be a number/);
    expect(parseInput('12\u202f345,5', 3, 'volume', ',')).toEqual({ value: '12345.500' });
    expect(parseInput("12'345.5", 3, 'volume', '.')).toEqual({ value: '12345.500' });
    expect(parseInput('1 234 567', 3, 'volume', '.')).toEqual({ value: '1234567.000' });
    expect(parseInput('  12,5  ', 3, 'volume', ',')).toEqual({ value: '12.500' });
  });

  test('Arabic and Persian digits and separators are read; numbers are shown in Latin digits', () => {
    const sep = decimalSep('ar-EG');
    expect(parseInput(toInput('100.000', sep), 3, 'volume', sep)).toEqual({ value: '100.000' });
    expect(parseInput('\u0661\u0660\u0660\u066b\u0665', 3, 'volume', sep)).toEqual({ value: '100.500' });
    expect(parseInput('\u06f1\u06f2\u066b\u06f5', 3, 'volume', decimalSep('fa-IR'))).toEqual({
      value: '12.500',
    });
    expect(parseInput('\u0661\u0662\u066b\u0665', 3, 'volume', '\u066b')).toEqual({ value: '12.500' });
    expect(parseInput('\u0661\u0662\u066b\u0665', 3, 'volume', ',')).toEqual({ value: '12.500' });
  });

  test('a decimal point locale: "12.5" is 12.500; a comma is refused', () => {
    expect(parseInput('12.5', 3, 'volume', '.')).toEqual({ value: '12.500' });
    expect(parseInput('12,5', 3, 'volume', '.').error).toMatch(/with a point for decimals/);
    expect(parseInput('12.', 3, 'volume', '.')).toEqual({ value: '12.000' });
  });

  test('too many decimals, signs and words are said, never rounded', () => {
    expect(parseInput('0.12345', 4, 'price', '.').error).toBe('The price takes at most 4 decimals.');
    expect(parseInput('-1', 3, 'volume', '.').error).toMatch(/must be a number/);
    expect(parseInput('1e3', 3, 'volume', '.').error).toMatch(/must be a number/);
    expect(parseInput('', 3, 'volume', '.').error).toBe('Enter the volume.');
  });

  test('exact arithmetic: units, comparison, notional', () => {
    expect(fromUnits(toUnits('12.5', 3)!, 3)).toBe('12.500');
    expect(fromUnits(5n, 4)).toBe('0.0005');
    expect(compareDecimal('0.1000', '0.10', 4)).toBe(0);
    expect(compareDecimal('0.0999', '0.1', 4)).toBe(-1);
    expect(notional('100.000', '0.0900')).toBe('9.0000000');
    expect(trimZeros(notional('100.000', '0.0900')!)).toBe('9.00');
    // 0.1 x 0.3 is not 0.030000000000000002 here
    expect(trimZeros(notional('0.100', '0.3000')!)).toBe('0.03');
    // (1e9 - 0.001) x (1e4 - 0.0001) = 1e13 - 1e5 - 10 + 1e-7, every digit kept
    expect(notional('999999999.999', '9999.9999')).toBe('9999999899990.0000001');
  });
});
