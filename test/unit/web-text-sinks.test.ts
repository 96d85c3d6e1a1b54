// The dashboard renders what traders write (descriptions, notes, names) as text only: no HTML
// sink anywhere in web/, so even text that slipped past the hub's rule could not become markup.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, test } from 'vitest';

const WEB = join(import.meta.dirname, '../../web');

const SINKS =
  /\.innerHTML\b|\.outerHTML\b|insertAdjacentHTML|document\.write|createContextualFragment|\bsrcdoc\b|DOMParser|\.setHTML(Unsafe)?\b|parseHTMLUnsafe|\beval\(|new Function\(/;

function files(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? files(join(dir, e.name)) : /\.(ts|html)$/.test(e.name) ? [join(dir, e.name)] : [],
  );
}

test('web/ has no HTML sink: text goes into the page through text nodes and attributes only', () => {
  const scanned = files(WEB);
  expect(scanned.length).toBeGreaterThan(5);
  const found = scanned.flatMap((f) =>
    readFileSync(f, 'utf8')
      .split('\n')
      .flatMap((line, i) => (SINKS.test(line) ? [`${f}:${i + 1}: ${line.trim()}`] : [])),
  );
  expect(found).toEqual([]);
});
