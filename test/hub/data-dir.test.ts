import { spawn } from 'node:child_process';
import { chmod, cp, mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { pino } from 'pino';
import { describe, expect, test } from 'vitest';
import { prepareDataDir } from '../../src/store/db/data-dir.js';
import { startHub } from '../support/hub.js';
import { type HubProcess, spawnHub } from '../support/process.js';
import { freshEmbeddedDir, type TestDatabase } from '../support/services.js';
import { trader } from '../support/traders.js';

// Embedded mode only: these hubs get DATA_DIR and never DATABASE_URL.

/** Resolves with the hub's URL once the process logs "hub started"; rejects if it exits first. */
function started(p: HubProcess): Promise<string> {
  return new Promise((resolve, reject) => {
    const check = () => {
      const line = p
        .output()
        .split('\n')
        .find((l) => l.includes('"msg":"hub started"'));
      if (line) resolve((JSON.parse(line) as { url: string }).url);
    };
    p.child.stdout!.on('data', check);
    p.exited.then((code) => reject(new Error(`hub exited (${code}) before starting: ${p.output()}`)));
    check();
  });
}

/** The pid of a process that has exited. */
async function deadPid(): Promise<number> {
  const child = spawn(process.execPath, ['-e', ''], { stdio: 'ignore' });
  await new Promise((resolve) => child.on('exit', resolve));
  return child.pid!;
}

const lockOf = (dir: string) => path.join(dir, 'hub.lock');
const exists = (file: string) =>
  stat(file).then(
    () => true,
    () => false,
  );

/** A DATA_DIR that does not exist yet (the hub creates it), removed with its parent. */
async function newDataDir(): Promise<TestDatabase> {
  const root = await mkdtemp(path.join(os.tmpdir(), 'renex-dd-'));
  return {
    id: path.basename(root),
    env: { DATA_DIR: path.join(root, 'data') },
    drop: () => rm(root, { recursive: true, force: true }),
  };
}

/** Files under `root` another user could read: readable by others, through directories others may enter. */
async function readableByOthers(root: string): Promise<string[]> {
  if (((await stat(root)).mode & 0o001) === 0) return [];
  const found: string[] = [];
  for (const entry of await readdir(root, { withFileTypes: true })) {
    const file = path.join(root, entry.name);
    if (entry.isDirectory()) found.push(...(await readableByOthers(file)));
    else if (((await stat(file)).mode & 0o004) !== 0) found.push(file);
  }
  return found;
}

/** A logger whose lines the test reads. */
function capturedLog() {
  const lines: { level: number; msg: string; [k: string]: unknown }[] = [];
  const log = pino({ level: 'info' }, { write: (s: string) => void lines.push(JSON.parse(s)) });
  return { log, lines };
}

describe('embedded DATA_DIR', () => {
  // spawns hub processes that start PGlite: slow on a loaded box, so a longer limit than the default
  test('a second hub process on a DATA_DIR in use refuses at once with one line, before touching the data; the first keeps serving', async () => {
    const dir = await freshEmbeddedDir();
    const dataDir = dir.env.DATA_DIR!;
    const first = spawnHub(dir.env);
    let second: HubProcess | undefined;
    try {
      const url = await started(first);
      // the second would generate DATA_DIR/jwt-secret (the first was given JWT_SECRET)
      second = spawnHub({ ...dir.env, JWT_SECRET: '' });
      const outcome = await started(second).then(
        () => 'started',
        () => 'exited',
      );
      expect(outcome).toBe('exited');
      expect(await second.exited).toBe(1);
      const line = `DATA_DIR ${dataDir} is in use by another hub (pid ${first.child.pid}); stop it first, or remove ${lockOf(dataDir)} if no hub runs there`;
      expect(second.errors().trim()).toBe(line);
      // at LOG_LEVEL=info, opening PGlite or migrating would have logged
      const logged = second
        .output()
        .split('\n')
        .filter((l) => l.startsWith('{'))
        .map((l) => (JSON.parse(l) as { msg: string }).msg);
      expect(logged).toEqual(['hub stopped']);
      expect(await exists(path.join(dataDir, 'jwt-secret'))).toBe(false);

      expect((await fetch(`${url}/readyz`)).status).toBe(200);
      const client = await trader(url, 'after-refusal', false);
      expect(client).toBeDefined();
      first.child.kill('SIGTERM');
      expect(await first.exited).toBe(0);
      expect(await exists(lockOf(dataDir))).toBe(false);
    } finally {
      first.child.kill('SIGKILL');
      second?.child.kill('SIGKILL');
      await dir.drop();
    }
  }, 90_000);

  test('a hub of this process, or a live process named in hub.lock, holds DATA_DIR', async () => {
    const dir = await freshEmbeddedDir();
    const dataDir = dir.env.DATA_DIR!;
    try {
      const node = await startHub({ db: dir });
      try {
        await expect(startHub({ db: dir })).rejects.toThrow(
          `DATA_DIR ${dataDir} is in use by another hub (pid ${process.pid})`,
        );
        expect((await fetch(`${node.url}/readyz`)).status).toBe(200);
      } finally {
        await node.stop();
      }
      // the test runner's own parent process is alive on this host
      await writeFile(lockOf(dataDir), `${process.ppid}\n${os.hostname()}\n`);
      await expect(startHub({ db: dir })).rejects.toThrow(
        `DATA_DIR ${dataDir} is in use by another hub (pid ${process.ppid}); stop it first, or remove ${lockOf(dataDir)} if no hub runs there`,
      );
      expect(await readFile(lockOf(dataDir), 'utf8')).toBe(`${process.ppid}\n${os.hostname()}\n`);
    } finally {
      await dir.drop();
    }
  }, 90_000);

  test('a stale lock and socket left by a hub that is gone do not prevent a start; stop removes the lock', async () => {
    const dir = await freshEmbeddedDir();
    const dataDir = dir.env.DATA_DIR!;
    try {
      await writeFile(lockOf(dataDir), `${await deadPid()}\n${os.hostname()}\n`);
      await writeFile(path.join(dataDir, '.s.PGSQL.5432'), '');
      const node = await startHub({ db: dir });
      try {
        expect(await readFile(lockOf(dataDir), 'utf8')).toBe(`${process.pid}\n${os.hostname()}\n`);
        expect((await stat(lockOf(dataDir))).mode & 0o777).toBe(0o600);
        expect((await fetch(`${node.url}/readyz`)).status).toBe(200);
      } finally {
        await node.stop();
      }
      expect(await exists(lockOf(dataDir))).toBe(false);
    } finally {
      await dir.drop();
    }
  });

  test('DATA_DIR is created 0700 and nothing in it, PGlite files included, is readable by other users', async () => {
    const dir = await newDataDir();
    const dataDir = dir.env.DATA_DIR!;
    const node = await startHub({ db: dir });
    try {
      expect((await stat(dataDir)).mode & 0o777).toBe(0o700);
      expect(await readableByOthers(dataDir)).toEqual([]);
    } finally {
      await node.stop();
      await dir.drop();
    }
  });

  test('an existing DATA_DIR open to other users is tightened to 0700, with a warning', async () => {
    const dir = await freshEmbeddedDir();
    const dataDir = dir.env.DATA_DIR!;
    await chmod(dataDir, 0o755);
    const { log, lines } = capturedLog();
    const node = await startHub({ db: dir, log });
    try {
      expect((await stat(dataDir)).mode & 0o777).toBe(0o700);
      expect(await readableByOthers(dataDir)).toEqual([]);
      expect(lines.filter((l) => l.level >= 40 && l.msg.includes('DATA_DIR'))).toEqual([
        expect.objectContaining({
          level: 40,
          msg: 'DATA_DIR was open to other users: tightened to 0700',
          dir: dataDir,
          was: '0755',
        }),
      ]);
    } finally {
      await node.stop();
      await dir.drop();
    }
  });

  test('prepareDataDir creates a nested DATA_DIR 0700', async () => {
    const dir = await newDataDir();
    const nested = path.join(dir.env.DATA_DIR!, 'a', 'b');
    try {
      const prepared = await prepareDataDir(nested, { lock: false, log: pino({ level: 'silent' }) });
      expect(prepared.path).toBe(nested);
      expect((await stat(nested)).mode & 0o777).toBe(0o700);
    } finally {
      await dir.drop();
    }
  });

  test('the embedded database listens on a Unix socket in DATA_DIR, not on TCP', async () => {
    const tcpServers = () => process.getActiveResourcesInfo().filter((r) => r === 'TCPServerWrap').length;
    const before = tcpServers();
    const dir = await freshEmbeddedDir();
    const dataDir = dir.env.DATA_DIR!;
    const node = await startHub({ db: dir });
    try {
      expect(tcpServers()).toBe(before + 1); // the hub's HTTP port only
      expect((await stat(path.join(dataDir, '.s.PGSQL.5432'))).isSocket()).toBe(true);
      const url = node.hub.db!.url;
      expect(new URL(url).searchParams.get('host')).toBe(dataDir);
      const client = new pg.Client({ connectionString: url });
      await client.connect();
      try {
        const { rows } = await client.query<{ n: string }>('SELECT count(*) AS n FROM users');
        expect(rows).toEqual([{ n: '0' }]);
      } finally {
        await client.end();
      }
    } finally {
      await node.stop();
      await dir.drop();
    }
  });

  test('a DATA_DIR too long for a Unix socket path is refused with one line, and its lock released', async () => {
    const root = await mkdtemp(path.join(os.tmpdir(), 'renex-dd-'));
    const dataDir = path.join(root, 'd'.repeat(100));
    await mkdir(dataDir);
    await cp(process.env.RENEX_PGLITE_TEMPLATE!, path.join(dataDir, 'pgdata'), { recursive: true });
    const db: TestDatabase = { id: 'long', env: { DATA_DIR: dataDir }, drop: async () => {} };
    try {
      await expect(startHub({ db })).rejects.toThrow(
        new RegExp(
          `^DATA_DIR ${dataDir} is too long for the embedded database's Unix socket \\(.* bytes, at most \\d+\\); choose a shorter DATA_DIR$`,
        ),
      );
      expect(await exists(lockOf(dataDir))).toBe(false);
    } finally {
      await rm(root, { recursive: true, force: true });
    }
  });
});
