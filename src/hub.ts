import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import type { Config } from './config.js';
import { Accounts } from './domain/auth/accounts.js';
import { PasswordHasher } from './domain/auth/passwords.js';
import { TokenService } from './domain/auth/tokens.js';
import { Market } from './domain/market.js';
import type { MarketRules } from './domain/unit-of-work.js';
import { type AccountWatch, watchAccounts } from './gateway/account-watch.js';
import { installSocketAuth } from './gateway/auth.js';
import { CommandLimits, FEED_BUDGET } from './gateway/command-limits.js';
import { CommandRouter } from './gateway/commands.js';
import { installConnections } from './gateway/connection.js';
import { type LiveDelivery, startLiveDelivery } from './gateway/live.js';
import { createGateway, type HubServer } from './gateway/server.js';
import { buildHttpApp } from './http/app.js';
import { AuthLimits } from './http/auth-limits.js';
import { createLogger } from './logger.js';
import { HubMetrics } from './metrics.js';
import { connectRedis, type RedisClients } from './redis.js';
import { resolveJwtSecret } from './secrets.js';
import { AcceptGroups } from './store/accept-groups.js';
import { createAccountStore } from './store/account-store.js';
import { CommandRunner } from './store/command-runner.js';
import { type DataDir, prepareDataDir } from './store/data-dir.js';
import { type Database, type DatabaseOptions, openDatabase, reason, StartupError } from './store/database.js';
import { seedDemo } from './store/demo-seed.js';
import { eventReader, outboxLag } from './store/event-log.js';
import { migrate } from './store/migrate.js';
import type { OutboxRelay } from './store/outbox-relay.js';
import { Sweeper } from './store/sweeper.js';

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
  /** the periodic sweep, once started; tests run a pass with `sweep()` */
  readonly sweeper: Sweeper | undefined;
  /** the outbox relay, once started */
  readonly relay: OutboxRelay | undefined;
}

export function createHub(config: Config, options: HubOptions = {}): Hub {
  const log = options.log ?? createLogger(config);
  let db: Database | undefined;
  let redis: RedisClients | undefined;
  let app: FastifyInstance | undefined;
  let io: HubServer | undefined;
  let relay: OutboxRelay | undefined;
  let live: LiveDelivery | undefined;
  let commands: CommandRouter | undefined;
  let sweeper: Sweeper | undefined;
  let accountWatch: AccountWatch | undefined;
  let stopping: Promise<void> | undefined;
  let dataDir: DataDir | undefined;

  async function start() {
    const began = performance.now();
    dataDir = await ensureWritableDataDir(config, log);
    if (config.REDIS_URL) redis = await connectRedis(config.REDIS_URL);
    db = await openDatabase(config, log, options.database);
    await migrate(db.sequelize, log);
    const secret = await resolveJwtSecret(config, log);
    const hasher = new PasswordHasher({
      memoryKib: config.ARGON2_MEMORY_KIB,
      timeCost: config.ARGON2_TIME_COST,
      parallelism: config.ARGON2_PARALLELISM,
      concurrency: config.ARGON2_CONCURRENCY,
    });

    const tokens = new TokenService({
      secret,
      issuer: config.JWT_ISSUER,
      audience: config.JWT_AUDIENCE,
      accessTtlSeconds: config.ACCESS_TOKEN_TTL_SECONDS,
      refreshTtlSeconds: config.REFRESH_TOKEN_TTL_SECONDS,
      refreshReuseSeconds: config.REFRESH_REUSE_SECONDS,
      sessionMaxSeconds: config.SESSION_MAX_SECONDS,
    });
    const accounts = new Accounts(createAccountStore(db.sequelize), hasher, tokens);
    const authLimits = new AuthLimits(
      {
        perIpPerMinute: config.AUTH_RATE_IP_PER_MINUTE,
        perEmailPer15Min: config.AUTH_RATE_EMAIL_PER_15MIN,
        registerPerIpPerHour: config.AUTH_REGISTER_PER_IP_PER_HOUR,
      },
      redis && { client: redis.main, prefix: config.REDIS_PREFIX },
    );

    const rules: MarketRules = {
      gateLeadMs: config.GATE_LEAD_SECONDS * 1000,
      offerTtlMs: config.OFFER_TTL_SECONDS * 1000,
      currency: config.CURRENCY,
    };
    let announceCommit = () => {}; // set once live delivery runs, before anything can commit
    const runner = new CommandRunner(db.sequelize, rules, () => announceCommit());
    const market = new Market(new AcceptGroups(runner, db.sequelize)); // group commit of hot listings' accepts

    const database = db;
    const checks: Record<string, () => Promise<boolean>> = { database: () => database.ping() };
    if (redis) checks.redis = redis.ping;
    const events = eventReader(db.sequelize);
    const sequelize = db.sequelize;
    const metrics = new HubMetrics({
      database: checks.database!,
      redis: checks.redis,
      outboxLag: () => outboxLag(sequelize),
    });
    runner.observe(metrics);
    app = await buildHttpApp({
      log,
      metrics,
      corsOrigins: config.CORS_ORIGINS,
      health: checks,
      accounts,
      authLimits,
      market,
      sequelize: db.sequelize,
      events,
      headersTimeoutMs: config.HTTP_HEADERS_TIMEOUT_MS,
      requestTimeoutMs: config.HTTP_REQUEST_TIMEOUT_MS,
      metricsToken: config.METRICS_TOKEN,
      trustProxy: config.TRUST_PROXY,
    });
    await app.ready();
    const gateway = createGateway(app.server, {
      log,
      redis,
      redisPrefix: config.REDIS_PREFIX,
      corsOrigins: config.CORS_ORIGINS,
      handshakeTimeoutMs: config.SOCKET_HANDSHAKE_TIMEOUT_MS,
      unauthenticatedPerAddress: config.SOCKET_UNAUTHENTICATED_PER_IP,
      trustProxy: config.TRUST_PROXY,
    });
    io = gateway;
    live = await startLiveDelivery(gateway, {
      db,
      redis,
      redisPrefix: config.REDIS_PREFIX,
      metrics,
      log,
      relaySession: db.relaySession,
      gatherMs: config.RELAY_GATHER_MS,
    });
    relay = live.relay;
    announceCommit = live.announceCommit;
    commands = new CommandRouter({
      log,
      metrics,
      limits: {
        market: new CommandLimits(
          { perSecond: config.COMMAND_RATE_PER_SECOND, burst: config.COMMAND_RATE_BURST },
          redis && { client: redis.main, prefix: config.REDIS_PREFIX },
        ),
        feed: new CommandLimits(
          { perSecond: config.FEED_RATE_PER_SECOND, burst: config.FEED_RATE_BURST },
          redis && { client: redis.main, prefix: config.REDIS_PREFIX },
          FEED_BUDGET,
        ),
      },
    });
    const auth = installSocketAuth(
      gateway,
      accounts,
      {
        graceMs: config.AUTH_GRACE_SECONDS * 1000,
        maxSocketsPerUser: config.MAX_SOCKETS_PER_USER,
        closing: () => stopping !== undefined,
      },
      log,
      commands,
    );
    installConnections(gateway, {
      auth,
      commands,
      metrics,
      delivery: live.delivery,
      events,
      market,
      replayMax: config.REPLAY_MAX,
      log,
    });
    sweeper = new Sweeper(runner, config.SWEEP_INTERVAL_MS, log);
    sweeper.start();
    accountWatch = watchAccounts(gateway, accounts, config.ACCOUNT_CHECK_SECONDS * 1000, log);
    if (config.SEED_DEMO) await seedDemo(db.sequelize, hasher, market, log);

    try {
      // a deep accept queue: after a node restarts, its clients all reconnect at once, and a
      // connection waiting in the queue beats a dropped SYN retried a second later
      await app.listen({ port: config.PORT, host: config.HOST, backlog: config.LISTEN_BACKLOG });
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
    // Order: stop taking sockets (the handshake refuses once stopping), let running commands
    // commit and answer, close sockets (clients reconnect elsewhere), HTTP, Redis, the database.
    await accountWatch?.stop();
    await commands?.drain(config.SHUTDOWN_GRACE_MS);
    if (io) await closeSockets(io, app?.server, config.SHUTDOWN_GRACE_MS);
    if (app) await app.close();
    await sweeper?.stop();
    await live?.stop();
    await redis?.close();
    await db?.close();
    await dataDir?.release(); // last: the data is closed
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
    get sweeper() {
      return sweeper;
    },
    get relay() {
      return relay;
    },
  };
}

/**
 * DATA_DIR made private (0700), and in embedded mode locked for the hub's life before anything
 * touches the data (src/store/data-dir.ts); undefined when nothing is kept on disk. Server mode
 * keeps only the generated JWT key there, written safely by several nodes: no lock.
 */
async function ensureWritableDataDir(config: Config, log: Logger): Promise<DataDir | undefined> {
  if (!config.embedded && config.JWT_SECRET) return undefined; // nothing is kept on disk
  return prepareDataDir(config.DATA_DIR, { lock: config.embedded, log });
}

/**
 * Closes Socket.IO, which closes the HTTP server too. The server's close waits for every
 * connection; a keep-alive connection whose last response ended after the close began (a client's
 * reconnect attempt answered as the node stops) would hold it for the keep-alive timeout (72 s),
 * so idle connections are closed again until it is done, and all of them after the grace.
 */
async function closeSockets(io: HubServer, server: Server | undefined, graceMs: number): Promise<void> {
  const sweep = setInterval(() => server?.closeIdleConnections(), 100);
  const force = setTimeout(() => server?.closeAllConnections(), graceMs);
  try {
    await new Promise<void>((resolve) => io.close(() => resolve()));
  } finally {
    clearInterval(sweep);
    clearTimeout(force);
  }
}
