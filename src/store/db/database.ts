import { mkdir, rm } from 'node:fs/promises';
import path from 'node:path';
import type { PGlite } from '@electric-sql/pglite';
import type { PGLiteSocketServer } from '@electric-sql/pglite-socket';
import pg from 'pg';
import type { Logger } from 'pino';
import { QueryTypes, Sequelize } from 'sequelize';
import type { Config } from '../../config.js';
import { type DataDir, holdsDataDirLock, prepareDataDir } from './data-dir.js';
import { batchesKeptWhole } from './pglite-batches.js';
import { SqlPool } from './sql-pool.js';

/** Raised when the database cannot be reached or prepared at start-up; one readable line. */
export class StartupError extends Error {
  override name = 'StartupError';
}

/** The hub's handle on PostgreSQL, real or embedded. */
export interface Database {
  /** the models (src/store/models): accounts, tokens, listing and history reads */
  sequelize: Sequelize;
  /** the pg pool of the hand-written SQL: the command path and the outbox (docs/decisions.md, "One style per concern") */
  sql: SqlPool;
  /**
   * a small pool of its own for sending notifications (src/notify), so that their statements never
   * wait for or hold a connection commands need; the same pool as `sql` on the embedded database
   */
  notifySql: SqlPool;
  /** where the database lives, for logs: host:port/db or the PGlite directory */
  where: string;
  /** a connection string other processes (tests, benchmarks) can use to reach the same database */
  url: string;
  /** true for PGlite: one session, one node */
  embedded: boolean;
  /**
   * how to open a long-lived session of the hub's own on the same database (the relay's), with the
   * pool's safety settings and an idle limit; unset for the embedded database
   */
  relaySession?: pg.ClientConfig;
  ping(): Promise<boolean>;
  close(): Promise<void>;
}

export interface DatabaseOptions {
  /** sees every statement of both pools, used by tests to count statements */
  onQuery?: (sql: string) => void;
}

/** Opens the database named by the config: DATABASE_URL, or PGlite under DATA_DIR when unset. */
export async function openDatabase(
  config: Config,
  log: Logger,
  opts: DatabaseOptions = {},
): Promise<Database> {
  if (config.DATABASE_URL) {
    return openUrl(config.DATABASE_URL, config.DATABASE_POOL_MAX, log, opts, undefined, {
      statementTimeoutMs: config.DATABASE_STATEMENT_TIMEOUT_MS,
      idleTimeoutMs: config.DATABASE_IDLE_TIMEOUT_MS,
      keepaliveSeconds: config.DATABASE_KEEPALIVE_SECONDS,
    });
  }
  return openEmbedded(config, log, opts);
}

function describeUrl(url: string): string {
  const u = new URL(url);
  return `${u.hostname}:${u.port || 5432}${u.pathname}`;
}

/**
 * What keeps a frozen or vanished hub node from holding PostgreSQL (its row locks, the delivery
 * horizon of the whole server, the relay's lock): limits PostgreSQL enforces on every session of
 * the hub (docs/delivery.md, "A node that stalls").
 */
export interface ConnectionLimits {
  /** statement_timeout; 0 for none */
  statementTimeoutMs: number;
  /** idle_in_transaction_session_timeout, and idle_session_timeout of the relay's session */
  idleTimeoutMs: number;
  /** TCP keepalive idle time on both ends; probes every third of it, three of them */
  keepaliveSeconds: number;
}

/** Names the hub's sessions in pg_stat_activity: which role, which process. */
const sessionName = (role: string) => `renex-${role}/${process.pid}`;

/** The startup `options` of a session: server-side keepalives (PostgreSQL finds a silent peer) and more. */
function serverOptions(s: ConnectionLimits, extra: Record<string, number | string> = {}): string {
  const gucs: Record<string, number | string> = {
    tcp_keepalives_idle: s.keepaliveSeconds,
    tcp_keepalives_interval: Math.max(1, Math.round(s.keepaliveSeconds / 3)),
    tcp_keepalives_count: 3,
    ...extra,
  };
  return Object.entries(gucs)
    .map(([k, v]) => `-c ${k}=${v}`)
    .join(' ');
}

/** Connections of a node's notification pool: its statements are short and few per send. */
const NOTIFY_POOL_MAX = 4;

async function openUrl(
  url: string,
  poolMax: number,
  log: Logger,
  opts: DatabaseOptions,
  cleanup?: () => Promise<void>,
  safety?: ConnectionLimits,
): Promise<Database> {
  const where = describeUrl(url);
  const limits = safety && {
    statement_timeout: safety.statementTimeoutMs,
    idle_in_transaction_session_timeout: safety.idleTimeoutMs,
    keepAlive: true,
  };
  const sequelize = new Sequelize(url, {
    dialect: 'postgres',
    logging: opts.onQuery ? (sql: string) => opts.onQuery?.(sql) : false,
    pool: { max: poolMax, min: 0, idle: 10_000, acquire: 10_000 },
    dialectOptions: {
      connectionTimeoutMillis: 5_000,
      application_name: sessionName('hub'),
      ...(safety && { ...limits, options: serverOptions(safety) }),
    },
    define: { underscored: true },
  });
  const newPool = (max: number, name: string, gucs: Record<string, string> = {}) => {
    const p = new pg.Pool({
      connectionString: url,
      max,
      idleTimeoutMillis: 10_000,
      // waiting for a free connection and opening one, as Sequelize's acquire limit
      connectionTimeoutMillis: 10_000,
      application_name: sessionName(name),
      ...(safety && { ...limits, options: serverOptions(safety, gucs) }),
    });
    // an idle connection PostgreSQL ends is dropped by the pool; a busy one fails its query
    p.on('error', (err) => log.warn({ err }, 'an idle database connection failed'));
    return p;
  };
  const pool = newPool(poolMax, 'hub');
  const sql = new SqlPool(pool, opts.onQuery);
  // the embedded database serves one session well: the notifications share it there
  // Its commits need not wait for the disk: a save lost in a crash of PostgreSQL only sends those
  // events again, which at-least-once delivery allows (docs/notifications.md)
  const notifyPool = safety ? newPool(NOTIFY_POOL_MAX, 'notify', { synchronous_commit: 'off' }) : undefined;
  const notifySql = notifyPool ? new SqlPool(notifyPool, opts.onQuery) : sql;
  const relaySession: pg.ClientConfig | undefined = safety && {
    connectionString: url,
    application_name: sessionName('relay'),
    connectionTimeoutMillis: 5_000,
    ...limits,
    keepAliveInitialDelayMillis: safety.keepaliveSeconds * 1000,
    // the relay reads at least every 100 ms: a relay session silent this long belongs to a frozen
    // node, and ending it frees the leadership for another node
    options: serverOptions(safety, { idle_session_timeout: safety.idleTimeoutMs }),
  };
  try {
    await sequelize.authenticate({ logging: false });
    await pool.query('SELECT 1');
  } catch (err) {
    await sequelize.close().catch(() => {});
    await pool.end().catch(() => {});
    await notifyPool?.end().catch(() => {});
    await cleanup?.();
    throw new StartupError(`cannot reach PostgreSQL at ${where}: ${reason(err)}`);
  }
  let closed = false;
  return {
    sequelize,
    sql,
    notifySql,
    where,
    url,
    embedded: false,
    relaySession,
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
      await Promise.all([sequelize.close(), pool.end(), notifyPool?.end()]);
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

/**
 * pg and libpq find a server's Unix socket in the socket directory under the name
 * `.s.PGSQL.<port>`; the embedded server's is DATA_DIR/.s.PGSQL.5432.
 */
const SOCKET_PORT = 5432;
/** a Unix socket path holds at most 108 bytes on Linux and 104 on macOS, with the final NUL */
const SOCKET_PATH_MAX = process.platform === 'linux' ? 107 : 103;

/**
 * PGlite in DATA_DIR/pgdata, served to the pool by pglite-socket on a Unix socket in DATA_DIR:
 * PGlite has no authentication, and a TCP port on 127.0.0.1 would let any local user in, while
 * DATA_DIR is mode 0700 (src/store/db/data-dir.ts). The hub takes DATA_DIR's lock before it gets
 * here; another caller (the migrate command) takes it here, so no two PGlites share the files.
 */
async function openEmbedded(config: Config, log: Logger, opts: DatabaseOptions): Promise<Database> {
  const dataDir = path.resolve(config.DATA_DIR);
  const dir = path.join(dataDir, 'pgdata');
  const socket = path.join(dataDir, `.s.PGSQL.${SOCKET_PORT}`);
  const bytes = Buffer.byteLength(socket);
  if (bytes > SOCKET_PATH_MAX) {
    throw new StartupError(
      `DATA_DIR ${dataDir} is too long for the embedded database's Unix socket (${socket} is ${bytes} bytes, at most ${SOCKET_PATH_MAX}); choose a shorter DATA_DIR`,
    );
  }
  const lock = (await holdsDataDirLock(dataDir))
    ? undefined
    : await prepareDataDir(dataDir, { lock: true, log });
  try {
    return await openPglite(dataDir, dir, socket, log, opts, lock);
  } catch (err) {
    await lock?.release();
    throw err;
  }
}

async function openPglite(
  dataDir: string,
  dir: string,
  socket: string,
  log: Logger,
  opts: DatabaseOptions,
  lock: DataDir | undefined,
): Promise<Database> {
  try {
    await mkdir(dir, { recursive: true, mode: 0o700 });
    // left by a hub that did not stop; we hold DATA_DIR's lock, so no server listens on it
    await rm(socket, { force: true });
  } catch (err) {
    throw new StartupError(`cannot write DATA_DIR ${dataDir}: ${reason(err)}`);
  }
  const { PGlite } = await import('@electric-sql/pglite');
  const { PGLiteSocketServer } = await import('@electric-sql/pglite-socket');
  let db: PGlite;
  try {
    db = await PGlite.create(dir);
  } catch (err) {
    throw new StartupError(`cannot open embedded PostgreSQL in ${dir}: ${reason(err)}`);
  }
  // PGlite is one PostgreSQL session, which pglite-socket shares among its connections, holding a
  // transaction's connection until it ends: each of the hub's two pools takes one (transactions run
  // one after another, as PGlite would anyway); a few more are for tools such as psql
  // (test/hub/embedded-connections.test.ts runs them all at once).
  const poolMax = 1;
  const server: PGLiteSocketServer = new PGLiteSocketServer({
    // pglite-socket interleaves two connections' extended-protocol batches: kept whole here
    db: batchesKeptWhole(db),
    path: socket,
    maxConnections: 2 * poolMax + 4,
  });
  try {
    await server.start();
  } catch (err) {
    await db.close().catch(() => {});
    throw new StartupError(`cannot listen on ${socket}: ${reason(err)}`);
  }
  log.info({ dir, socket }, 'embedded PostgreSQL (PGlite) ready');
  // pg, Sequelize and libpq take a directory in `host` as the Unix socket's; the URL's own
  // host only satisfies URL parsers that want one
  const url = `postgres://postgres@localhost:${SOCKET_PORT}/postgres?host=${encodeURIComponent(dataDir)}`;
  const database = await openUrl(url, poolMax, log, opts, async () => {
    await server.stop();
    await db.close();
    await lock?.release();
  });
  return { ...database, where: `PGlite ${dir}`, embedded: true };
}
