import { mkdtemp, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, test } from 'vitest';
import { spawnHub } from '../support/process.js';

/** A bad MARKET_CONFIG stops the hub before it opens anything: one line naming the field, a non-zero exit. */
async function refused(content: string | undefined): Promise<{ line: string; file: string }> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'renex-market-startup-'));
  const file = path.join(dir, 'market.json');
  if (content !== undefined) await writeFile(file, content);
  const p = spawnHub({ DATA_DIR: path.join(dir, 'data'), MARKET_CONFIG: file });
  const code = await p.exited;
  const line = p.errors().trim();
  expect(code).not.toBe(0);
  expect(p.output()).not.toMatch(/\n\s+at /);
  expect(p.output()).not.toMatch(/hub started/);
  expect(line.split('\n')).toHaveLength(1);
  return { line, file };
}

describe('start-up refuses a bad MARKET_CONFIG with one line', () => {
  test('an invalid field', async () => {
    const { line, file } = await refused(
      JSON.stringify({ zones: [{ id: 'A' }, { id: 'B', slotMinutes: 20 }] }),
    );
    expect(line).toBe(`MARKET_CONFIG ${file}: zones.1.slotMinutes: must be one of 5, 15, 30, 60`);
  });

  test('a zone id twice', async () => {
    const { line, file } = await refused(JSON.stringify({ zones: [{ id: 'NL' }, { id: 'nl' }] }));
    expect(line).toBe(
      `MARKET_CONFIG ${file}: zones.1.id: repeats the zone id "NL" (ids are compared case-insensitively)`,
    );
  });

  test('not JSON', async () => {
    const { line, file } = await refused('{"zones": [');
    expect(line.startsWith(`MARKET_CONFIG ${file}: not valid JSON: `)).toBe(true);
  });

  test('a file that is not there', async () => {
    const { line, file } = await refused(undefined);
    expect(line).toMatch(new RegExp(`^MARKET_CONFIG ${file}: cannot read: .*ENOENT`));
  });
});
