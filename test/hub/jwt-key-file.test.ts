import { chmod, mkdtemp, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { startHub } from '../support/hub.js';
import { spawnHub } from '../support/process.js';
import { freshDatabase, type TestDatabase } from '../support/services.js';

/** DATA_DIR with `key` in jwt-secret at `mode`, and the database env; JWT_SECRET unset. */
async function withKeyFile(db: TestDatabase, key: string, mode: number) {
  const dir = db.env.DATA_DIR ?? (await mkdtemp(path.join(os.tmpdir(), 'renex-key-')));
  const file = path.join(dir, 'jwt-secret');
  await writeFile(file, key);
  await chmod(file, mode);
  return { file, env: { ...db.env, DATA_DIR: dir, JWT_SECRET: '' } };
}

let db: TestDatabase;
beforeAll(async () => {
  db = await freshDatabase();
});
afterAll(() => db?.drop());

describe('DATA_DIR/jwt-secret', () => {
  test.each([
    ['empty', '', 0],
    ['blank', ' \n\n', 0],
    ['short', 'short-key\n', 9],
    ['31 bytes', `${'k'.repeat(31)}\n`, 31],
  ])('a key file that is %s: start-up refused with one line', async (_name, key, bytes) => {
    const { file, env } = await withKeyFile(db, key, 0o600);
    const p = spawnHub(env);
    // a hub that starts anyway is stopped, not left running, and the test fails
    const started = new Promise<'started'>((resolve) =>
      p.child.stdout!.on('data', () => /hub started/.test(p.output()) && resolve('started')),
    );
    const outcome = await Promise.race([p.exited, started]);
    if (outcome === 'started') {
      p.child.kill('SIGTERM');
      await p.exited;
    }
    expect(outcome).not.toBe('started');
    expect(outcome).not.toBe(0);
    expect(p.output()).not.toMatch(/\n\s+at /);
    expect(p.errors().trim()).toBe(
      `${file} holds a key of ${bytes} bytes, at least 32 are needed: delete the file to have a key generated, or set JWT_SECRET`,
    );
  });

  test('a key file others can read: the hub starts, with a warning; at 0600, none', async () => {
    for (const [mode, warned] of [
      [0o644, true],
      [0o600, false],
    ] as const) {
      const lines: { msg: string; file?: string; mode?: string }[] = [];
      const log = pino({ level: 'warn' }, { write: (line: string) => void lines.push(JSON.parse(line)) });
      const { file, env } = await withKeyFile(db, `${'k'.repeat(48)}\n`, mode);
      const node = await startHub({ db, env, log });
      await node.stop();
      const warning = lines.find(
        (l) => l.file === file && /JWT key file can be read by other users/.test(l.msg),
      );
      if (warned) expect(warning).toMatchObject({ mode: '0644' });
      else expect(warning).toBeUndefined();
    }
  });
});
