import { decodeHTML } from 'entities';
import sanitizeHtml from 'sanitize-html';

/**
 * What a piece of free text is: a name is one `line` (no tab, no line break); a description or
 * a note is `lines` (tab and line feed allowed, CR LF read as LF).
 */
export type TextKind = 'line' | 'lines';

export type PlainTextResult = { ok: true; text: string } | { ok: false; message: string };

/**
 * Refused wherever free text goes: C0 controls, DEL, C1 controls, the line and paragraph
 * separators and the bidirectional embeddings, overrides and isolates (they make text read other
 * than it is). `lines` allows TAB and LF; a `line` allows neither.
 */
const REFUSED: Record<TextKind, RegExp> = {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: finding control characters is the point
  line: /[\u0000-\u001F\u007F-\u009F\u2028\u2029\u202A-\u202E\u2066-\u2069]/,
  // biome-ignore lint/suspicious/noControlCharactersInRegex: finding control characters is the point
  lines: /[\u0000-\u0008\u000B-\u001F\u007F-\u009F\u2028\u2029\u202A-\u202E\u2066-\u2069]/,
};

/**
 * What an HTML parser reads as markup: `<` before an ASCII letter (a tag), `!` (a comment or
 * doctype), `/` (an end tag) or `?` (a processing instruction, a bogus comment). A `<` before
 * anything else (`a < b`, `<3`, `x<-y`) is text to every parser.
 */
const MARKUP = /<[A-Za-z!/?]/;

/** Rounds of decoding and stripping before the text is refused as nested too deep. */
const MAX_ROUNDS = 8;

const hex = (c: number) => `U+${c.toString(16).toUpperCase().padStart(4, '0')}`;

function refusedCharacter(s: string, kind: TextKind): string | undefined {
  const found = REFUSED[kind].exec(s);
  if (!found) return undefined;
  const c = found[0].codePointAt(0)!;
  if (kind === 'line' && (c === 0x09 || c === 0x0a || c === 0x0d)) {
    return `must be one line: no tab or line break (${hex(c)})`;
  }
  if (c === 0x0d) return 'must not contain a carriage return (U+000D) other than in CR LF';
  if (c === 0x2028 || c === 0x2029) return `must not contain the line or paragraph separator ${hex(c)}`;
  if (c >= 0x202a) return `must not contain the bidirectional control ${hex(c)}`;
  return `must not contain the control character ${hex(c)}`;
}

/** The text an HTML parser finds in `html`: tags and comments gone, script and style with their content, entities decoded. */
const textOfHtml = (html: string) =>
  decodeHTML(sanitizeHtml(html, { allowedTags: [], allowedAttributes: {} }));

/**
 * The one rule for free text (description, note, display name): it is stored as plain text.
 * 1. Refused, never altered: NUL, unpaired surrogates, and the characters of `REFUSED`.
 * 2. Entities are decoded, then markup removed, then the result trimmed, repeated until nothing
 *    changes, so no encoded layer (`&lt;img&gt;`, `&amp;lt;img&amp;gt;`) smuggles a tag through.
 *    Every round shortens the text; more than `MAX_ROUNDS` is refused.
 * 3. The result is checked again (an entity such as `&#x202E;` decodes to a refused character),
 *    and refused if an HTML parser could still read markup in it (`</>`).
 * The result is its own fixed point: saving it again stores it unchanged.
 * "5 &lt; 6" and "5 < 6" both store "5 < 6". Clients still render it as text, never as HTML.
 */
export function plainText(input: string, kind: TextKind = 'lines'): PlainTextResult {
  let s = kind === 'lines' ? input.replaceAll('\r\n', '\n') : input;
  const raw = unstorableText(s) ?? refusedCharacter(s, kind);
  if (raw) return { ok: false, message: raw };
  for (let round = 0; ; round++) {
    const next = textOfHtml(decodeHTML(s)).trim();
    if (next === s) break;
    if (round === MAX_ROUNDS) {
      return { ok: false, message: `must not nest markup or entities more than ${MAX_ROUNDS} deep` };
    }
    s = next;
  }
  const decoded = unstorableText(s) ?? refusedCharacter(s, kind);
  if (decoded) return { ok: false, message: `${decoded}, written as an entity` };
  if (MARKUP.test(s)) {
    return {
      ok: false,
      message: "must not contain markup: '<' directly before a letter, '!', '/' or '?' (write 'a < b')",
    };
  }
  return { ok: true, text: s };
}

/** An unpaired UTF-16 surrogate: a high one not followed by a low one, or a low one not preceded by a high one. */
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/**
 * Why PostgreSQL could not keep `s` as it is, or undefined when it can. A text column refuses NUL
 * (and jsonb refuses `\u0000`); an unpaired surrogate is not Unicode: jsonb refuses it and a text
 * column would silently store U+FFFD instead. Either is refused at the edge, never altered.
 */
export function unstorableText(s: string): string | undefined {
  if (s.includes('\u0000')) return 'must not contain the NUL character (U+0000)';
  if (LONE_SURROGATE.test(s)) return 'must not contain an unpaired UTF-16 surrogate (U+D800 to U+DFFF)';
  return undefined;
}
