import { randomBytes } from 'node:crypto';
import { chmod, mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { Logger } from 'pino';
import type { Config } from './config.js';
import { reason, StartupError } from './store/database.js';

/**
 * The access-token key: JWT_SECRET, or outside production a key generated once and kept in
 * DATA_DIR/jwt-secret (every node of a cluster must then be given the same JWT_SECRET).
 */
export async function resolveJwtSecret(config: Config, log: Logger): Promise<string> {
  if (config.JWT_SECRET) return config.JWT_SECRET;
  const file = path.resolve(config.DATA_DIR, 'jwt-secret');
  try {
    return (await readFile(file, 'utf8')).trim();
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') {
      throw new StartupError(`cannot read ${file}: ${reason(err)}`);
    }
  }
  const secret = randomBytes(48).toString('base64url');
  try {
    await mkdir(path.dirname(file), { recursive: true });
    await writeFile(file, `${secret}\n`, { flag: 'wx', mode: 0o600 });
    await chmod(file, 0o600);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return (await readFile(file, 'utf8')).trim();
    throw new StartupError(`cannot write DATA_DIR ${path.resolve(config.DATA_DIR)}: ${reason(err)}`);
  }
  log.warn(
    { file },
    'JWT_SECRET is not set: generated a key and kept it in DATA_DIR; set JWT_SECRET in production',
  );
  return secret;
}
