// DATA_DIR: private to the hub's user, and held by one hub at a time in embedded mode.
import { constants } from 'node:fs';
import { access, chmod, mkdir, readFile, realpath, stat, unlink, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { Logger } from 'pino';
import { reason, StartupError } from './database.js';

/** The lock file in DATA_DIR: the holder's pid and hostname, one a line. */
export const LOCK_FILE = 'hub.lock';

/** A prepared DATA_DIR (see `prepareDataDir`). */
export interface DataDir {
  /** the absolute path */
  path: string;
  /** Removes the lock file if it still holds this process's pid; a no-op without a lock. Safe to call twice. */
  release(): Promise<void>;
}

export interface DataDirOptions {
  /** take DATA_DIR/hub.lock for the hub's life (embedded mode: PGlite's files are in DATA_DIR) */
  lock: boolean;
  log: Logger;
}

/** DATA_DIRs (real paths) this process holds the lock of: a second hub in one process is refused too. */
const held = new Set<string>();

/**
 * Creates DATA_DIR with mode 0700, tightens an existing one that other users can enter, and
 * optionally locks it. Everything the hub keeps there (PGlite's files, which PGlite leaves mode
 * 0666, its Unix socket, the generated JWT key) is then out of other users' reach.
 *
 * Two PGlite processes on one data directory corrupt it, so the lock is taken before anything
 * touches the data. It is a pid file, like PostgreSQL's postmaster.pid, not proper-lockfile:
 * proper-lockfile judges staleness by mtime, so it would refuse a restart for seconds after a
 * crash, and it reports its lock compromised when PGlite's initdb blocks the event loop for
 * longer than its update interval. A pid file is stale exactly when its process is gone.
 *
 * Throws StartupError with one line when DATA_DIR cannot be made private or written, or when
 * another live hub holds it.
 */
export async function prepareDataDir(dir: string, opts: DataDirOptions): Promise<DataDir> {
  const abs = path.resolve(dir);
  try {
    await mkdir(path.dirname(abs), { recursive: true });
    await mkdir(abs, { mode: 0o700 }).catch((err: NodeJS.ErrnoException) => {
      if (err.code !== 'EEXIST') throw err;
    });
    const st = await stat(abs);
    if (!st.isDirectory()) throw Object.assign(new Error('not a directory'), { code: 'ENOTDIR' });
    await access(abs, constants.W_OK);
  } catch (err) {
    throw new StartupError(`cannot write DATA_DIR ${abs}: ${reason(err)}`);
  }
  await makePrivate(abs, opts.log);
  if (!opts.lock) return { path: abs, release: async () => {} };
  return lock(abs, opts.log);
}

/** True when this process holds the lock of `dir` (the embedded database checks it). */
export async function holdsDataDirLock(dir: string): Promise<boolean> {
  try {
    return held.has(await realpath(dir));
  } catch {
    return false;
  }
}

async function makePrivate(abs: string, log: Logger): Promise<void> {
  const mode = (await stat(abs)).mode & 0o777;
  if ((mode & 0o077) === 0) return;
  try {
    await chmod(abs, 0o700);
  } catch (err) {
    throw new StartupError(`cannot make DATA_DIR ${abs} private (chmod 0700): ${reason(err)}`);
  }
  log.warn({ dir: abs, was: `0${mode.toString(8)}` }, 'DATA_DIR was open to other users: tightened to 0700');
}

async function lock(abs: string, log: Logger): Promise<DataDir> {
  const file = path.join(abs, LOCK_FILE);
  const key = await realpath(abs);
  if (held.has(key)) throw inUse(abs, file, process.pid);
  held.add(key); // before any await: two hubs of one process starting together
  try {
    await acquire(abs, file, log);
  } catch (err) {
    held.delete(key);
    throw err;
  }
  return {
    path: abs,
    async release() {
      if (!held.delete(key)) return;
      const holder = parse(await readFile(file, 'utf8').catch(() => ''));
      if (holder?.pid === process.pid) await unlink(file).catch(() => {});
    },
  };
}

async function acquire(abs: string, file: string, log: Logger): Promise<void> {
  // a stale lock is removed and the file created again once; losing that race to another
  // hub (it created the file in between) is a refusal like any live holder
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      await writeFile(file, `${process.pid}\n${os.hostname()}\n`, { flag: 'wx', mode: 0o600 });
      return;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') {
        throw new StartupError(`cannot write DATA_DIR ${abs}: ${reason(err)}`);
      }
    }
    const content = await readFile(file, 'utf8').catch(() => undefined);
    if (content === undefined) continue; // its holder just released it
    const holder = parse(content);
    if (!holder) {
      // like postmaster.pid: an empty file is a hub between creating and writing it, or the
      // remnant of a crash at that instant; only the operator can tell
      throw new StartupError(
        `DATA_DIR ${abs} has an unreadable lock ${file} (another hub may be starting); remove it if no hub runs there`,
      );
    }
    if (alive(holder)) throw inUse(abs, file, holder.pid);
    if (attempt > 0) break;
    // remove it only if it is still the stale one read above
    if ((await readFile(file, 'utf8').catch(() => undefined)) === content) {
      await unlink(file).catch(() => {});
      log.warn({ file, pid: holder.pid, host: holder.host }, 'removed the stale lock of a hub that is gone');
    }
  }
  const holder = parse(await readFile(file, 'utf8').catch(() => ''));
  throw inUse(abs, file, holder?.pid);
}

function inUse(abs: string, file: string, pid: number | undefined): StartupError {
  return new StartupError(
    `DATA_DIR ${abs} is in use by another hub${pid ? ` (pid ${pid})` : ''}; stop it first, or remove ${file} if no hub runs there`,
  );
}

function parse(content: string): { pid: number; host: string } | undefined {
  const [pid, host = ''] = content.split('\n');
  return pid && /^\d+$/.test(pid) && Number(pid) > 0 ? { pid: Number(pid), host } : undefined;
}

/**
 * Whether the holder may still run. A pid of another host cannot be checked: the file is then
 * taken as stale (a container recreated on the same volume has a new hostname). Our own pid is
 * a previous life of this pid (a container restarted as pid 1): a hub of this process is caught
 * by `held` first.
 */
function alive(holder: { pid: number; host: string }): boolean {
  if (holder.host !== os.hostname() || holder.pid === process.pid) return false;
  try {
    process.kill(holder.pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
