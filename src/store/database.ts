import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import type { PGlite } from '@electric-sql/pglite';
import type { PGLiteSocketServer } from '@electric-sql/pglite-socket';
import type { Logger } from 'pino';
import { QueryTypes, Sequelize } from 'sequelize';
import type { Config } from '../config.js';

/** Raised when the database cannot be reached or prepared at start-up; one readable line. */
export class StartupError extends Error {
  override name = 'StartupError';
}

/** The hub's handle on PostgreSQL, real or embedded. */
export interface Database {
  sequelize: Sequelize;
  /** where the database lives, for logs: host:port/db or the PGlite directory */
  where: string;
  /** a connection string other processes (tests, benchmarks) can use to reach the same database */
  url: string;
  /** true for PGlite: one session, one node */
  embedded: boolean;
  ping(): Promise<boolean>;
  close(): Promise<void>;
}

export interface DatabaseOptions {
  /** extra Sequelize logging hook, used by tests to count statements */
  onQuery?: (sql: string) => void;
}

/** Opens the database named by the config: DATABASE_URL, or PGlite under DATA_DIR when unset. */
export async function openDatabase(
  config: Config,
  log: Logger,
  opts: DatabaseOptions = {},
): Promise<Database> {
  if (config.DATABASE_URL) return openUrl(config.DATABASE_URL, config.DATABASE_POOL_MAX, opts);
  return openEmbedded(config, log, opts);
}

function describeUrl(url: string): string {
  const u = new URL(url);
  return `${u.hostname}:${u.port || 5432}${u.pathname}`;
}

async function openUrl(
  url: string,
  poolMax: number,
  opts: DatabaseOptions,
  cleanup?: () => Promise<void>,
): Promise<Database> {
  const where = describeUrl(url);
  const sequelize = new Sequelize(url, {
    dialect: 'postgres',
    logging: opts.onQuery ? (sql: string) => opts.onQuery?.(sql) : false,
    pool: { max: poolMax, min: 0, idle: 10_000, acquire: 10_000 },
    dialectOptions: { connectionTimeoutMillis: 5_000, application_name: 'renex-hub' },
    define: { underscored: true },
  });
  try {
    await sequelize.authenticate({ logging: false });
  } catch (err) {
    await sequelize.close().catch(() => {});
    await cleanup?.();
    throw new StartupError(`cannot reach PostgreSQL at ${where}: ${reason(err)}`);
  }
  let closed = false;
  return {
    sequelize,
    where,
    url,
    embedded: false,
    async ping() {
      try {
        await sequelize.query('SELECT 1', { type: QueryTypes.SELECT, logging: false });
        return true;
      } catch {
        return false;
      }
    },
    async close() {
      if (closed) return;
      closed = true;
      await sequelize.close();
      await cleanup?.();
    },
  };
}

/** The driver's own words for a failure, without a stack: "connect ECONNREFUSED 127.0.0.1:5999". */
export function reason(err: unknown): string {
  let e = err as { original?: unknown; parent?: unknown; message?: string; code?: string } | undefined;
  while (e && (e.original || e.parent)) e = (e.original ?? e.parent) as typeof e;
  const msg = e?.message || e?.code || String(err);
  return msg.split('\n')[0]!;
}

async function openEmbedded(config: Config, log: Logger, opts: DatabaseOptions): Promise<Database> {
  const dir = path.resolve(config.DATA_DIR, 'pgdata');
  try {
    await mkdir(dir, { recursive: true });
  } catch (err) {
    throw new StartupError(`cannot write DATA_DIR ${path.resolve(config.DATA_DIR)}: ${reason(err)}`);
  }
  const { PGlite } = await import('@electric-sql/pglite');
  const { PGLiteSocketServer } = await import('@electric-sql/pglite-socket');
  let db: PGlite;
  try {
    db = await PGlite.create(dir);
  } catch (err) {
    throw new StartupError(`cannot open embedded PostgreSQL in ${dir}: ${reason(err)}`);
  }
  // PGlite is one PostgreSQL session. pglite-socket can multiplex several connections onto it,
  // but statements of concurrent transactions were seen to interleave there under load, so the
  // hub uses one connection: transactions then run one after another, as PGlite would anyway.
  const poolMax = 1;
  const server: PGLiteSocketServer = new PGLiteSocketServer({
    db,
    host: '127.0.0.1',
    port: 0,
    maxConnections: poolMax + 4,
  });
  await server.start();
  const port = (server as unknown as { port: number }).port;
  log.info({ dir, port }, 'embedded PostgreSQL (PGlite) ready');
  const url = `postgres://postgres@127.0.0.1:${port}/postgres`;
  const database = await openUrl(url, poolMax, opts, async () => {
    await server.stop();
    await db.close();
  });
  return { ...database, where: `PGlite ${dir}`, embedded: true };
}
