import { randomBytes } from 'node:crypto';
import { chmod, link, mkdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { Logger } from 'pino';
import type { Config } from './config.js';
import { reason, StartupError } from './store/db/database.js';

/** Shortest key accepted from DATA_DIR/jwt-secret, in bytes after trimming (as JWT_SECRET). */
export const MIN_KEY_BYTES = 32;

/**
 * The access-token key: JWT_SECRET, or outside production a key generated once and kept in
 * DATA_DIR/jwt-secret (every node of a cluster must then be given the same JWT_SECRET).
 * A key file holding less than MIN_KEY_BYTES is refused (an empty one would let anyone sign
 * tokens); one that group or others may read is used with a warning.
 */
export async function resolveJwtSecret(config: Config, log: Logger): Promise<string> {
  if (config.JWT_SECRET) return config.JWT_SECRET;
  const file = path.resolve(config.DATA_DIR, 'jwt-secret');
  try {
    return await readKeyFile(file, log);
  } catch (err) {
    if (err instanceof StartupError) throw err;
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') {
      throw new StartupError(`cannot read ${file}: ${reason(err)}`);
    }
  }
  const secret = randomBytes(48).toString('base64url');
  // written whole under a name of its own, then linked into place: a node starting at the same
  // time never reads a half-written (short) key, and the first link wins
  const tmp = `${file}.${process.pid}.${randomBytes(4).toString('hex')}`;
  try {
    await mkdir(path.dirname(file), { recursive: true });
    await writeFile(tmp, `${secret}\n`, { flag: 'wx', mode: 0o600 });
    await chmod(tmp, 0o600);
    await link(tmp, file);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return readKeyFile(file, log); // another node wrote it
    throw new StartupError(`cannot write DATA_DIR ${path.resolve(config.DATA_DIR)}: ${reason(err)}`);
  } finally {
    await rm(tmp, { force: true });
  }
  log.warn(
    { file },
    'JWT_SECRET is not set: generated a key and kept it in DATA_DIR; set JWT_SECRET in production',
  );
  return secret;
}

async function readKeyFile(file: string, log: Logger): Promise<string> {
  const secret = (await readFile(file, 'utf8')).trim();
  const bytes = Buffer.byteLength(secret, 'utf8');
  if (bytes < MIN_KEY_BYTES) {
    throw new StartupError(
      `${file} holds a key of ${bytes} bytes, at least ${MIN_KEY_BYTES} are needed: delete the file to have a key generated, or set JWT_SECRET`,
    );
  }
  const { mode } = await stat(file);
  if (mode & 0o077) {
    log.warn(
      { file, mode: `0${(mode & 0o777).toString(8)}` },
      'the JWT key file can be read by other users: chmod 600 it (whoever reads it can sign access tokens)',
    );
  }
  return secret;
}
