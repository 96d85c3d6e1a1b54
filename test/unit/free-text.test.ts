// The one rule for free text (src/domain/text.ts) and the schemas built on it.
import { decodeHTML } from 'entities';
import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { plainTextInput } from '../../src/domain/schemas.js';
import { plainText } from '../../src/domain/text.js';
import { displayNameSchema } from '../../src/http/schemas.js';

/** What an HTML parser reads as markup: `<` before a letter, `!`, `/` or `?`. */
const MARKUP = /<[A-Za-z!/?]/;
// biome-ignore lint/suspicious/noControlCharactersInRegex: finding control characters is the point
const REFUSED_ANYWHERE = /[\u0000-\u0008\u000B-\u001F\u007F-\u009F\u2028\u2029\u202A-\u202E\u2066-\u2069]/;

describe('plainText', () => {
  test.each<[string, string]>([
    ['&lt;img src=x onerror=alert(1)&gt;', ''],
    ['&amp;lt;img src=x onerror=alert(1)&amp;gt;', ''],
    ['&#60;script&#62;alert(1)&#60;/script&#62;x', 'x'],
    ['&amp;#60;b&amp;#62;x', 'x'],
    ['<<script>script>alert(1)<</script>/script>x', 'x'],
    ['<scr<script>ipt>alert(1)</script>x', 'ipt>alert(1)x'],
    ['<title>&lt;img src=x&gt;</title>x', 'x'],
    ['a < b', 'a < b'],
    ['a<b', 'a'],
    ['<3 and x<-y and 5<6', '<3 and x<-y and 5<6'],
    ['&amp;lt;', '<'],
    ['AT&T R&D', 'AT&T R&D'],
    ['one\r\ntwo', 'one\ntwo'],
  ])('%j -> %j', (input, text) => {
    expect(plainText(input)).toEqual({ ok: true, text });
  });

  test.each<[string, string, RegExp]>([
    ['NUL', 'a\u0000b', /NUL/],
    ['BEL', 'a\u0007b', /control character U\+0007/],
    ['a lone CR', 'a\rb', /carriage return/],
    ['a C1 control', 'a\u0085b', /U\+0085/],
    ['a line separator', 'a\u2028b', /U\+2028/],
    ['a left-to-right override', 'a\u202Db', /bidirectional control U\+202D/],
    ['a left-to-right isolate', 'a\u2066b', /bidirectional control U\+2066/],
    ['ESC as an entity', 'a&#x1B;b', /U\+001B, written as an entity/],
    ['an override as a double-encoded entity', 'a&amp;#x202E;b', /U\+202E, written as an entity/],
    ['markup no removal takes out', 'x</>y', /must not contain markup/],
    ['entities 20 deep', `&${'amp;'.repeat(20)}lt;b&gt;`, /more than 8 deep/],
    ['tags 20 deep', `${'<'.repeat(20)}${'a>'.repeat(20)}`, /more than 8 deep/],
  ])('%s is refused', (_name, input, message) => {
    const r = plainText(input);
    expect(r.ok).toBe(false);
    expect(!r.ok && r.message).toMatch(message);
  });

  test('a line refuses tab and line breaks; lines keep them', () => {
    for (const s of ['a\tb', 'a\nb', 'a\r\nb', 'a&#9;b']) {
      expect(plainText(s, 'line')).toMatchObject({ ok: false, message: expect.stringMatching(/one line/) });
    }
    expect(plainText('a\tb\nc', 'lines')).toEqual({ ok: true, text: 'a\tb\nc' });
  });

  /** text made of the pieces markup and entities are made of, and a few of what is refused */
  const pieces = fc.string({
    unit: fc.constantFrom(
      '<',
      '>',
      '/',
      '!',
      '?',
      '&',
      ';',
      '#',
      'amp',
      'lt',
      'gt',
      'quot',
      '#60',
      '#x3C',
      '#62',
      'img',
      'script',
      'b',
      'title',
      ' src=x onerror=alert(1)',
      '-->',
      '<!--',
      '"',
      "'",
      '=',
      ' ',
      '\n',
      '\t',
      '\r',
      'a',
      '1',
      'é',
      '☀️',
      '\u202E',
      '#x202E',
      '\u0007',
    ),
    maxLength: 40,
  });

  test('whatever goes in, what is kept holds no markup, no entity, nothing refused, and is kept unchanged again', () => {
    let kept = 0;
    fc.assert(
      fc.property(pieces, fc.constantFrom('line' as const, 'lines' as const), (input, kind) => {
        const r = plainText(input, kind);
        if (!r.ok) return;
        kept++;
        expect(r.text).not.toMatch(MARKUP);
        expect(decodeHTML(r.text)).toBe(r.text);
        expect(r.text).not.toMatch(REFUSED_ANYWHERE);
        if (kind === 'line') expect(r.text).not.toMatch(/[\t\n\r]/);
        expect(r.text).toBe(r.text.trim());
        expect(plainText(r.text, kind)).toEqual(r);
      }),
      { numRuns: 3000 },
    );
    expect(kept).toBeGreaterThan(1000);
  });
});

describe('the schemas of free text', () => {
  test('description and note: plain text, refused characters as a schema issue', () => {
    expect(plainTextInput.parse('<b>Rooftop</b> PV &amp;amp; storage')).toBe('Rooftop PV & storage');
    const bad = plainTextInput.safeParse('\u202Eevil');
    expect(bad.success).toBe(false);
    expect(bad.error?.issues).toEqual([
      expect.objectContaining({ message: 'must not contain the bidirectional control U+202E' }),
    ]);
  });

  test('a display name: one line of 1 to 64 characters of plain text', () => {
    expect(displayNameSchema.parse('  <b>Eve</b> &amp;lt;img src=x onerror=alert(1)&amp;gt; ')).toBe('Eve');
    expect(displayNameSchema.parse('Tom &amp; Jerry')).toBe('Tom & Jerry');
    for (const bad of ['Eve\u202Egpj.exe', 'Eve\nAdmin', '<img src=x>', 'e'.repeat(65), 'x'.repeat(257)]) {
      expect(displayNameSchema.safeParse(bad).success).toBe(false);
    }
    expect(displayNameSchema.parse(`<b>${'e'.repeat(64)}</b>`)).toBe('e'.repeat(64));
  });
});
