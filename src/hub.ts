import { mkdir } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import type { Config } from './config.js';
import { Accounts } from './domain/auth/accounts.js';
import { PasswordHasher } from './domain/auth/passwords.js';
import { TokenService } from './domain/auth/tokens.js';
import { installSocketAuth } from './gateway/auth.js';
import { createGateway, type HubServer } from './gateway/server.js';
import { buildHttpApp } from './http/app.js';
import { AuthLimits } from './http/auth-limits.js';
import { createLogger } from './logger.js';
import { connectRedis, type RedisClients } from './redis.js';
import { resolveJwtSecret } from './secrets.js';
import { createAccountStore } from './store/account-store.js';
import { type Database, type DatabaseOptions, openDatabase, reason, StartupError } from './store/database.js';
import { seedDemo } from './store/demo-seed.js';
import { migrate } from './store/migrate.js';

export interface HubOptions {
  /** @default a pino logger at LOG_LEVEL */
  log?: Logger;
  /** passed to the database layer; tests count statements with it */
  database?: DatabaseOptions;
}

/** One hub node: HTTP and Socket.IO on one port, over PostgreSQL and optionally Redis. */
export interface Hub {
  readonly config: Config;
  readonly log: Logger;
  /** Opens the database, migrates, connects Redis, listens. Resolves with the bound address. */
  start(): Promise<{ port: number; url: string }>;
  /** Stops accepting, drains, closes sockets, HTTP, Redis and the database. Safe to call twice. */
  stop(): Promise<void>;
  /** the open database, once started (tests and benchmarks look inside) */
  readonly db: Database | undefined;
}

export function createHub(config: Config, options: HubOptions = {}): Hub {
  const log = options.log ?? createLogger(config);
  let db: Database | undefined;
  let redis: RedisClients | undefined;
  let app: FastifyInstance | undefined;
  let io: HubServer | undefined;
  let stopping: Promise<void> | undefined;

  async function start() {
    const began = performance.now();
    await ensureWritableDataDir(config);
    if (config.REDIS_URL) redis = await connectRedis(config.REDIS_URL);
    db = await openDatabase(config, log, options.database);
    await migrate(db.sequelize, log);
    const secret = await resolveJwtSecret(config, log);
    const hasher = new PasswordHasher({
      memoryKib: config.ARGON2_MEMORY_KIB,
      timeCost: config.ARGON2_TIME_COST,
      parallelism: config.ARGON2_PARALLELISM,
    });
    if (config.SEED_DEMO) await seedDemo(db.sequelize, hasher, config, log);

    const tokens = new TokenService({
      secret,
      issuer: config.JWT_ISSUER,
      audience: config.JWT_AUDIENCE,
      accessTtlSeconds: config.ACCESS_TOKEN_TTL_SECONDS,
      refreshTtlSeconds: config.REFRESH_TOKEN_TTL_SECONDS,
    });
    const accounts = new Accounts(createAccountStore(db.sequelize), hasher, tokens);
    const authLimits = new AuthLimits(
      { perIpPerMinute: config.AUTH_RATE_IP_PER_MINUTE, perEmailPer15Min: config.AUTH_RATE_EMAIL_PER_15MIN },
      redis && { client: redis.main, prefix: config.REDIS_PREFIX },
    );

    const database = db;
    const checks: Record<string, () => Promise<boolean>> = { database: () => database.ping() };
    if (redis) checks.redis = redis.ping;
    app = await buildHttpApp({ log, health: checks, accounts, authLimits });
    await app.ready();
    io = createGateway(app.server, {
      log,
      redis,
      redisPrefix: config.REDIS_PREFIX,
      corsOrigins: config.CORS_ORIGINS,
    });
    installSocketAuth(io, accounts, { graceMs: config.AUTH_GRACE_SECONDS * 1000 }, log);

    try {
      await app.listen({ port: config.PORT, host: config.HOST });
    } catch (err) {
      throw new StartupError(`cannot listen on ${config.HOST}:${config.PORT}: ${reason(err)}`);
    }
    const port = (app.server.address() as AddressInfo).port;
    const host = config.HOST === '0.0.0.0' || config.HOST === '::' ? 'localhost' : config.HOST;
    const url = `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
    log.info(
      {
        url,
        database: db.where,
        redis: redis?.where ?? 'none (in-process adapter)',
        ms: Math.round(performance.now() - began),
      },
      'hub started',
    );
    return { port, url };
  }

  async function shutdown() {
    // Order: stop taking sockets and requests, close sockets, HTTP, Redis, then the database.
    if (io) await new Promise<void>((resolve) => io!.close(() => resolve()));
    if (app) await app.close();
    await redis?.close();
    await db?.close();
    log.info('hub stopped');
  }

  return {
    config,
    log,
    start,
    stop() {
      stopping ??= shutdown();
      return stopping;
    },
    get db() {
      return db;
    },
  };
}

async function ensureWritableDataDir(config: Config): Promise<void> {
  if (!config.embedded && config.JWT_SECRET) return; // nothing is kept on disk
  const dir = path.resolve(config.DATA_DIR);
  try {
    await mkdir(dir, { recursive: true });
    const { access, constants } = await import('node:fs/promises');
    await access(dir, constants.W_OK);
  } catch (err) {
    throw new StartupError(`cannot write DATA_DIR ${dir}: ${reason(err)}`);
  }
}
