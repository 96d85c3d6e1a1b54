import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import {
  MAX_SIGNIFICANT_DIGITS,
  mayHoldLongNumber,
  readJson,
  readJsonLossless,
  significantDigits,
  UnsafeNumber,
} from '../../src/domain/json.js';
import {
  answerCommand,
  eventIdInput,
  kwhInput,
  plainTextInput,
  priceInput,
  storableString,
} from '../../src/domain/schemas.js';
import { parseJsonBody } from '../../src/http/json-body.js';

/** readJson's answer with every UnsafeNumber replaced by what JSON.parse would have made of it. */
const asJsonParse = (v: unknown): unknown =>
  v instanceof UnsafeNumber
    ? Number(v.text)
    : Array.isArray(v)
      ? v.map(asJsonParse)
      : v !== null && typeof v === 'object'
        ? Object.fromEntries(Object.entries(v).map(([k, x]) => [k, asJsonParse(x)]))
        : v;

describe('significant digits of a number token', () => {
  test.each([
    ['0', 0],
    ['-0', 0],
    ['12.5', 3],
    ['0.0120', 3],
    ['1e5', 1],
    ['-1.25E-3', 3],
    ['100', 3],
    ['123456789012345', 15],
    ['0.000000000000000123456789012345', 15],
    ['2.9999999999999999', 17],
    ['12345678901234567', 17],
    ['1.0000000000000001', 17],
  ])('%s has %i', (text, digits) => {
    expect(significantDigits(text)).toBe(digits);
  });
});

describe('readJson', () => {
  test('a number of more than 15 significant digits is an UnsafeNumber carrying its text', () => {
    const v = readJson('{"a":2.9999999999999999,"b":[12345678901234567],"c":-1.0000000000000001e3}') as {
      a: unknown;
      b: unknown[];
      c: unknown;
    };
    expect(v.a).toEqual(new UnsafeNumber('2.9999999999999999'));
    expect(v.b[0]).toEqual(new UnsafeNumber('12345678901234567'));
    expect(v.c).toEqual(new UnsafeNumber('-1.0000000000000001e3'));
  });

  test('numbers of at most 15 significant digits are plain numbers, on either path', () => {
    expect(readJson('{"v":12.5,"p":0.12,"r":1}')).toEqual({ v: 12.5, p: 0.12, r: 1 });
    // the long digit run in the string sends this text down the lossless path
    expect(readJson('{"v":123456789012.345,"s":"12345678901234567","z":0.000000000000000012}')).toEqual({
      v: 123456789012.345,
      s: '12345678901234567',
      z: 0.000000000000000012,
    });
  });

  test('only text with a 16-digit run leaves the fast path', () => {
    expect(mayHoldLongNumber('["swap:propose",{"volumeKwh":"12.5","pricePerKwh":0.12}]')).toBe(false);
    expect(mayHoldLongNumber('123456789012345')).toBe(false);
    expect(mayHoldLongNumber('1234567890123456')).toBe(true);
    expect(mayHoldLongNumber('2.999999999999999')).toBe(true);
    // at least 8 digits in a row on one side of the point, whatever the split
    expect(mayHoldLongNumber('1234567.891234567')).toBe(true);
    expect(mayHoldLongNumber('12345678.91234567')).toBe(true);
    expect(mayHoldLongNumber('0.1200000000000001')).toBe(true);
    expect(mayHoldLongNumber('1234567.89123456')).toBe(false);
    expect(MAX_SIGNIFICANT_DIGITS).toBe(15);
    fc.assert(
      fc.property(fc.stringMatching(/^\d{1,20}$/), fc.stringMatching(/^\d{0,20}$/), (int, frac) => {
        const text = `{"v":-${int}${frac ? `.${frac}` : ''}e-3}`;
        expect(mayHoldLongNumber(text)).toBe(int.length + frac.length >= 16);
      }),
    );
  });

  test('the lossless path reads everything else as JSON.parse does', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (value) => {
        const text = JSON.stringify(value);
        expect(asJsonParse(readJsonLossless(text))).toEqual(JSON.parse(text));
        expect(asJsonParse(readJson(text))).toEqual(JSON.parse(text));
      }),
      { numRuns: 300 },
    );
    for (const text of [
      '{"__proto__":{"x":1},"a":1}',
      '{"a":1,"a":2}',
      ' [1 , "\\u0000", "\\ud800"] ',
      '-0',
    ]) {
      const lossless = readJsonLossless(text);
      expect(lossless).toEqual(JSON.parse(text));
      if (lossless !== null && typeof lossless === 'object')
        expect(Object.getPrototypeOf(lossless)).toBe(Object.getPrototypeOf(JSON.parse(text)));
    }
  });

  test.each(['', '{', '{"a":}', '[1,]', '01', '1.', '"\t"', '[1]x', 'nul', '{"a":1234567890123456'])(
    'invalid JSON %j throws SyntaxError on both paths',
    (text) => {
      expect(() => readJson(text)).toThrow(SyntaxError);
      expect(() => readJsonLossless(text)).toThrow(SyntaxError);
    },
  );
});

describe('the REST body parser', () => {
  test('keeps prototype-poisoning protection on both paths', () => {
    for (const text of [
      '{"__proto__":{"admin":true}}',
      '{"a":{"constructor":{"prototype":{"admin":true}}}}',
      '{"__proto__":{"admin":true},"n":12345678901234567}',
      '{"a":{"constructor":{"prototype":{}}},"n":"1234567890123456"}',
    ]) {
      expect(() => parseJsonBody(text)).toThrow(SyntaxError);
    }
  });

  test('reads long numbers losslessly, drops a BOM and reads the rest as JSON', () => {
    expect(parseJsonBody('{"v":2.9999999999999999}')).toEqual({ v: new UnsafeNumber('2.9999999999999999') });
    expect(parseJsonBody('\uFEFF{"v":12.5}')).toEqual({ v: 12.5 });
    expect(parseJsonBody('12345678901234567')).toEqual(new UnsafeNumber('12345678901234567'));
    expect(parseJsonBody('null')).toBe(null);
    expect(() => parseJsonBody('{"v":')).toThrow(SyntaxError);
  });
});

describe('the schemas refuse what PostgreSQL cannot keep', () => {
  test('an UnsafeNumber quantity is refused with a message saying why; other schemas refuse it as a number', () => {
    for (const schema of [kwhInput, priceInput]) {
      const r = schema.safeParse(new UnsafeNumber('2.9999999999999999'));
      expect(r.success).toBe(false);
      expect(r.error!.issues[0]!.message).toMatch(
        /at most 15 significant digits; send it as a decimal string/,
      );
    }
    expect(kwhInput.parse(12.5)).toBe(12_500n);
    expect(kwhInput.safeParse('2.9999999999999999').error!.issues[0]!.message).toMatch(/at most 3 decimals/);
    const answer = answerCommand.safeParse({
      requestId: crypto.randomUUID(),
      swapId: crypto.randomUUID(),
      round: new UnsafeNumber('1.0000000000000001'),
    });
    expect(answer.error!.issues.map((i) => i.path.join('.'))).toEqual(['round']);
  });

  test.each([
    ['NUL', 'a\u0000b', /NUL/],
    ['a lone high surrogate', 'a\uD800b', /surrogate/],
    ['a lone high surrogate at the end', 'ab\uDBFF', /surrogate/],
    ['a lone low surrogate', '\uDC00ab', /surrogate/],
    ['two highs', '\uD83D\uD83D\uDE00', /surrogate/],
  ])('%s is refused by every text schema', (_name, text, message) => {
    for (const schema of [storableString, plainTextInput]) {
      const r = schema.safeParse(text);
      expect(r.success).toBe(false);
      expect(r.error!.issues[0]!.message).toMatch(message);
    }
  });

  test('well-formed text, pairs included, is kept', () => {
    expect(storableString.parse('sun \uD83C\uDF1E and wind')).toBe('sun 🌞 and wind');
    expect(plainTextInput.parse('5 &lt; 6 \u00e9')).toBe('5 < 6 é');
  });

  test('an event id is at most 2^63-1', () => {
    expect(eventIdInput.parse('9223372036854775807')).toBe('9223372036854775807');
    expect(eventIdInput.safeParse('9223372036854775808').success).toBe(false);
    expect(eventIdInput.safeParse('9999999999999999999').error!.issues[0]!.message).toMatch(
      /at most 9223372036854775807/,
    );
    expect(eventIdInput.safeParse('12a').error!.issues.map((i) => i.message)).toEqual([
      'must be an event id',
    ]);
  });
});
