// Which real services the tests may use, and how to get a fresh database per test file.
import { randomBytes } from 'node:crypto';
import { cp, mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Redis } from 'ioredis';
import pg from 'pg';

/** REQUIRE_SERVICES=1 turns a missing service into a failure instead of a skip. */
export const requireServices = process.env.REQUIRE_SERVICES === '1';
export const databaseUrl = process.env.DATABASE_URL || undefined;
export const redisUrl = process.env.REDIS_URL || undefined;

/** A database of its own for one test file: a new database on DATABASE_URL's server, or a PGlite directory. */
export interface TestDatabase {
  /** unique per database: the Redis namespace of the hubs on it */
  id: string;
  /** env for the hub: DATABASE_URL, or DATA_DIR for embedded mode */
  env: Record<string, string>;
  /** a URL the test can query directly (only for server databases) */
  url?: string;
  drop(): Promise<void>;
}

export async function freshDatabase(): Promise<TestDatabase> {
  if (databaseUrl) return freshServerDatabase(databaseUrl);
  return freshEmbeddedDir();
}

/** A new database on the server of `adminUrl` (named `<prefix>_<random>`); `drop()` removes it, forcing sessions out. */
export async function freshServerDatabase(adminUrl: string, prefix = 'renex_t'): Promise<TestDatabase> {
  const name = `${prefix}_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE ${name}`);
  } finally {
    await admin.end();
  }
  const u = new URL(adminUrl);
  u.pathname = `/${name}`;
  const url = u.toString();
  return {
    id: name,
    env: { DATABASE_URL: url },
    url,
    async drop() {
      const c = new pg.Client({ connectionString: adminUrl });
      await c.connect();
      try {
        await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      } finally {
        await c.end();
      }
    },
  };
}

/** A DATA_DIR holding a copy of the PGlite template made by the global setup (initdb is slow). */
export async function freshEmbeddedDir(): Promise<TestDatabase> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'renex-test-'));
  const template = process.env.RENEX_PGLITE_TEMPLATE;
  if (template) await cp(template, path.join(dir, 'pgdata'), { recursive: true });
  return {
    id: path.basename(dir),
    env: { DATA_DIR: dir },
    async drop() {
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** True when Redis answers; otherwise prints one line and returns false, or throws under REQUIRE_SERVICES. */
export async function redisAvailable(what: string): Promise<boolean> {
  const ok = redisUrl !== undefined && (await ping(redisUrl));
  if (ok) return true;
  const line = `${what}: Redis is not reachable${redisUrl ? ` at ${redisUrl}` : ' (REDIS_URL unset)'}`;
  if (requireServices) throw new Error(`${line} and REQUIRE_SERVICES=1`);
  console.warn(`skipped: ${line}`);
  return false;
}

/** The same for PostgreSQL, for tests that need a real server (several hubs on one database). */
export async function postgresAvailable(what: string): Promise<boolean> {
  if (databaseUrl) return true;
  const line = `${what}: needs a PostgreSQL server (DATABASE_URL unset)`;
  if (requireServices) throw new Error(`${line} and REQUIRE_SERVICES=1`);
  console.warn(`skipped: ${line}`);
  return false;
}

async function ping(url: string): Promise<boolean> {
  try {
    return (await redisCall(url, ['PING'])) === 'PONG';
  } catch {
    return false;
  }
}

/** One command on a connection of its own that gives up at once (no retries), closed after. */
export async function redisCall(url: string, command: string[]): Promise<unknown> {
  const r = new Redis(url, {
    lazyConnect: true,
    connectTimeout: 1000,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
  });
  r.on('error', () => {});
  try {
    await r.connect();
    return await r.call(command[0]!, ...command.slice(1));
  } finally {
    r.disconnect();
  }
}
