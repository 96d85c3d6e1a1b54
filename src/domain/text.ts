import { decodeHTML } from 'entities';
import sanitizeHtml from 'sanitize-html';

/**
 * User text is stored as plain text: markup is removed (script and style with their content)
 * and entities decoded, so "5 &lt; 6" and "5 < 6" both store "5 < 6". Clients render it as text.
 */
export function plainText(input: string): string {
  const stripped = sanitizeHtml(input, { allowedTags: [], allowedAttributes: {} });
  return decodeHTML(stripped).trim();
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
