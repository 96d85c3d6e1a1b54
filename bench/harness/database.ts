// Throwaway databases for a run: created and dropped on the server of DATABASE_URL, migrated by
// a hub node (the hub migrates on start), and SQL the bench owns (seeds of the pgbench baselines).
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { assertLocal } from './basics.js';
import { hubEnv, startReadyHub } from './hub.js';

export interface BenchDatabase {
  name: string;
  url: string;
  drop(): Promise<void>;
}

/** A new database `<prefix>_<random>` on the server of `adminUrl`; `drop()` removes it once, forcing sessions out. */
export async function freshDatabase(adminUrl: string, prefix: string): Promise<BenchDatabase> {
  assertLocal(adminUrl, 'DATABASE_URL');
  const name = `${prefix}_${randomBytes(6).toString('hex')}`;
  await execSql(adminUrl, `CREATE DATABASE ${name}`);
  const u = new URL(adminUrl);
  u.pathname = `/${name}`;
  let dropped = false;
  return {
    name,
    url: u.toString(),
    async drop() {
      if (dropped) return;
      dropped = true;
      await execSql(adminUrl, `DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    },
  };
}

/**
 * Applies the hub's migrations to `url`: starts a hub node on it (it migrates before it answers
 * /readyz, the same code as in production) and stops it. The bench reaches the hub only through
 * its processes, so a move inside src/store cannot break it.
 */
export async function migrateDatabase(url: string): Promise<void> {
  const dataDir = await mkdtemp(path.join(os.tmpdir(), 'renex-bench-migrate-'));
  try {
    const env = hubEnv({ DATABASE_URL: url, DATA_DIR: dataDir });
    delete env.NODE_OPTIONS; // a profiler asked for the measured hubs has nothing to see here
    const hub = await startReadyHub(env);
    await hub.stop();
  } finally {
    await rm(dataDir, { recursive: true, force: true });
  }
}

/** Runs `sql` (several statements allowed) on `url`. */
export async function execSql(url: string, sql: string): Promise<void> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    await c.query(sql);
  } finally {
    await c.end();
  }
}

/** The rows of one statement on `url`, its values bound. */
export async function queryRows<R extends pg.QueryResultRow>(
  url: string,
  sql: string,
  values: unknown[] = [],
) {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    return (await c.query<R>(sql, values)).rows;
  } finally {
    await c.end();
  }
}
