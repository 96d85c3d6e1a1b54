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
