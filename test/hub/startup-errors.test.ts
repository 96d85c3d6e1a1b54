import { mkdtemp, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, test } from 'vitest';
import { spawnHub } from '../support/process.js';

/** Start-up refused: one line saying what and where, a non-zero exit, no stack trace. */
async function refused(env: Record<string, string>): Promise<string> {
  const p = spawnHub(env);
  const code = await p.exited;
  const out = p.errors().trim();
  expect(code).not.toBe(0);
  expect(p.output()).not.toMatch(/\n\s+at /);
  expect(out.split('\n')).toHaveLength(1);
  return out;
}

describe('start-up refuses bad settings with one line', () => {
  test('a malformed value', async () => {
    expect(await refused({ PORT: 'eighty' })).toBe(
      'config: PORT must be a whole number from 0 to 65535 (got "eighty")',
    );
  });

  test('an unknown enum value', async () => {
    expect(await refused({ NODE_ENV: 'staging' })).toMatch(/^config: NODE_ENV /);
  });

  test('an unreachable DATABASE_URL', async () => {
    expect(await refused({ DATABASE_URL: 'postgres://postgres@127.0.0.1:1/none' })).toMatch(
      /^cannot reach PostgreSQL at 127\.0\.0\.1:1\/none: .*ECONNREFUSED/,
    );
  });

  test('an unreachable REDIS_URL', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'renex-startup-'));
    expect(await refused({ DATA_DIR: dir, REDIS_URL: 'redis://127.0.0.1:1' })).toMatch(
      /^cannot reach Redis at 127\.0\.0\.1:1: .*ECONNREFUSED/,
    );
  });

  test('an unreachable REDIS_CLUSTER_NODES', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'renex-startup-'));
    expect(await refused({ DATA_DIR: dir, REDIS_CLUSTER_NODES: '127.0.0.1:1,127.0.0.1:2' })).toMatch(
      /^cannot reach Redis Cluster at 127\.0\.0\.1:1,127\.0\.0\.1:2: 127\.0\.0\.1:1: .*ECONNREFUSED/,
    );
  });

  test('a DATA_DIR that cannot be written', async () => {
    const file = path.join(await mkdtemp(path.join(os.tmpdir(), 'renex-startup-')), 'a-file');
    await writeFile(file, 'not a directory');
    expect(await refused({ DATA_DIR: path.join(file, 'data') })).toMatch(
      new RegExp(`^cannot write DATA_DIR ${file}/data: `),
    );
  });
});
