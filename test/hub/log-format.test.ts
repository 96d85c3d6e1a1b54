// LOG_FORMAT: JSON lines for machines (a pipe, CI, docker, tests, production), readable lines for a
// person at a terminal in development (pino-pretty), `pretty`/`json` to force either.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { stripVTControlCharacters } from 'node:util';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { prettyLogs } from '../../src/logger.js';
import { spawnHub } from '../support/process.js';
import { freshDatabase, type TestDatabase } from '../support/services.js';

const ROOT = path.resolve(import.meta.dirname, '../..');
/** how an ANSI colour (SGR) sequence begins */
const CSI = '\u001b[';

/** Starts the hub with stdout piped, waits for "hub started", stops it; resolves with its stdout. */
async function hubStdout(env: Record<string, string>): Promise<string> {
  const p = spawnHub(env);
  let out = '';
  const started = new Promise<void>((resolve) =>
    p.child.stdout!.on('data', (d) => {
      out += d;
      if (/hub started/.test(out)) resolve();
    }),
  );
  const outcome = await Promise.race([started.then(() => 'started' as const), p.exited]);
  if (outcome === 'started') {
    p.child.kill('SIGTERM');
    await p.exited;
  }
  expect(outcome, p.output()).toBe('started');
  return out;
}

const lines = (out: string) => out.split('\n').filter((l) => l.trim() !== '');

let db: TestDatabase;
beforeAll(async () => {
  db = await freshDatabase();
});
afterAll(() => db?.drop());

describe('LOG_FORMAT', () => {
  test('auto: pretty only in development on a terminal', () => {
    expect(prettyLogs({ LOG_FORMAT: 'auto', NODE_ENV: 'development' }, true)).toBe(true);
    expect(prettyLogs({ LOG_FORMAT: 'auto', NODE_ENV: 'development' }, false)).toBe(false);
    expect(prettyLogs({ LOG_FORMAT: 'auto', NODE_ENV: 'production' }, true)).toBe(false);
    expect(prettyLogs({ LOG_FORMAT: 'auto', NODE_ENV: 'test' }, true)).toBe(false);
    expect(prettyLogs({ LOG_FORMAT: 'json', NODE_ENV: 'development' }, true)).toBe(false);
    expect(prettyLogs({ LOG_FORMAT: 'pretty', NODE_ENV: 'production' }, false)).toBe(true);
  });

  test('auto, development, stdout not a terminal: every line is one JSON object', async () => {
    const out = await hubStdout({ ...db.env, NODE_ENV: 'development' });
    const parsed = lines(out).map((l) => JSON.parse(l) as { level: number; msg: string });
    expect(parsed.find((l) => l.msg === 'hub started')).toMatchObject({ level: 30 });
  });

  test('pretty, forced on a pipe: readable lines, no JSON, no colour codes', async () => {
    const out = await hubStdout({ ...db.env, NODE_ENV: 'development', LOG_FORMAT: 'pretty' });
    const all = lines(out);
    expect(all.find((l) => /hub started/.test(l))).toMatch(/^\[\d\d:\d\d:\d\d\.\d{3}\] INFO: hub started/);
    expect(all.filter((l) => l.startsWith('{'))).toEqual([]);
    expect(out.includes(CSI)).toBe(false);
  });

  // a real pseudo-terminal through util-linux `script`, where it is installed
  test.skipIf(!existsSync('/usr/bin/script'))(
    'auto on a real terminal: readable, coloured lines',
    async () => {
      const code =
        "import { createLogger } from './src/logger.ts';" +
        "createLogger({ LOG_LEVEL: 'info', LOG_FORMAT: 'auto', NODE_ENV: 'development' }).info({ port: 3000 }, 'hub started');";
      const child = spawn(
        '/usr/bin/script',
        ['-qec', `node --import tsx --input-type=module -e "${code}"`, '/dev/null'],
        {
          cwd: ROOT,
          env: { PATH: process.env.PATH ?? '' },
          stdio: ['ignore', 'pipe', 'pipe'],
        },
      );
      let out = '';
      child.stdout.on('data', (d) => (out += d));
      const exit = await new Promise<number | null>((resolve) => child.on('exit', resolve));
      expect(exit, out).toBe(0);
      expect(out.includes(CSI)).toBe(true); // colour: pino-pretty saw the terminal
      const plain = stripVTControlCharacters(out);
      expect(plain).toMatch(/^\[\d\d:\d\d:\d\d\.\d{3}\] INFO: hub started\r?\n\s+port: 3000/m);
    },
  );
});
