import type { Server } from 'node:http';
import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import type { Config } from './config.js';
import { type AccountWatch, watchAccounts } from './gateway/account-watch.js';
import { closeLoginSockets } from './gateway/auth.js';
import type { CommandRouter } from './gateway/commands.js';
import { type LiveDelivery, relayKicks } from './gateway/live.js';
import type { HubServer } from './gateway/server.js';
import { startNotifications } from './hub-notifications.js';
import {
  buildCommandRouter,
  buildCore,
  buildGateway,
  buildHttp,
  buildObserved,
  installSockets,
  listen,
  loadMarket,
  startDelivery,
} from './hub-parts.js';
import { createLogger } from './logger.js';
import { connectRedis, connectRedisCluster, type RedisClients } from './redis.js';
import { Sweeper } from './store/commands/sweeper.js';
import { type DataDir, prepareDataDir } from './store/db/data-dir.js';
import { type Database, type DatabaseOptions, openDatabase } from './store/db/database.js';
import { seedDemo } from './store/db/demo-seed.js';
import { checkEventIds } from './store/db/event-id-check.js';
import { checkMarketAgainstData } from './store/db/market-data-check.js';
import { migrate } from './store/db/migrate.js';
import type { OutboxRelay } from './store/outbox/outbox-relay.js';
import { MeterSimulator } from './store/settlement/simulate-meters.js';

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
  /** the Redis clients, once started with Redis (tests look inside) */
  readonly redis: RedisClients | undefined;
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
  let meterSimulator: MeterSimulator | undefined;
  let notifications: { stop(): Promise<void> } | undefined;
  let accountWatch: AccountWatch | undefined;
  let stopping: Promise<void> | undefined;
  let dataDir: DataDir | undefined;

  async function start() {
    const began = performance.now();
    const profile = await loadMarket(config); // first: a bad MARKET_CONFIG touches nothing
    dataDir = await ensureWritableDataDir(config, log);
    if (config.REDIS_CLUSTER_NODES) redis = await connectRedisCluster(config.REDIS_CLUSTER_NODES);
    else if (config.REDIS_URL) redis = await connectRedis(config.REDIS_URL);
    db = await openDatabase(config, log, options.database);
    await migrate(db.sequelize, log);
    await checkEventIds(db.sequelize);
    await checkMarketAgainstData(db.sequelize, profile);

    // the Socket.IO server first (attached to HTTP below), so that what acts on commits (the
    // relay's kick) and on ended logins (closing their sockets) exists before what tells of them
    const observed = buildObserved(db, redis);
    // a draining node is not ready: a load balancer's health check takes it out at once
    observed.health.serving = async () => stopping === undefined;
    const { io: gateway, attach } = buildGateway(config, log, redis);
    ({ live, relay } = await startDelivery(config, log, gateway, db, redis, observed.metrics));
    const commits = relayKicks(gateway, relay, redis !== undefined);
    const revoked = live.revoked;
    const core = await buildCore(
      config,
      log,
      db,
      redis,
      observed,
      {
        commits,
        // refused here at once; the other nodes take it from the stream (the kick sends it now)
        loginRevoked: (familyId) => {
          revoked.revoke(familyId);
          commits();
          closeLoginSockets(gateway, familyId);
        },
      },
      profile,
      revoked,
    );
    const notify = await startNotifications(config, log, db, gateway, live, core.runner);
    notifications = notify;
    app = await buildHttp(config, log, db, core, profile, {
      vapidPublicKey: notify.vapid.publicKey,
      learn: (userId) => notify.dispatcher.learn(userId),
    });
    attach(app.server);
    io = gateway; // closed on stop from here on (Socket.IO's close needs it attached)

    commands = buildCommandRouter(config, log, core.metrics, redis);
    installSockets(config, log, gateway, {
      core,
      commands,
      delivery: live.delivery,
      newest: live.newest,
      revoked,
      closing: () => stopping !== undefined,
    });
    sweeper = new Sweeper(core.runner, config.SWEEP_INTERVAL_MS, log, profile);
    sweeper.start();
    // readings for the demo meters, so the demo market settles (SIMULATE_METERS, on by default when embedded)
    if (config.SIMULATE_METERS ?? config.embedded) {
      meterSimulator = new MeterSimulator(db.sql, config.SIMULATE_METERS_INTERVAL_MS, log);
      meterSimulator.start();
    }
    accountWatch = watchAccounts(gateway, core.accounts, config.ACCOUNT_CHECK_SECONDS * 1000, log);
    if (config.SEED_DEMO) await seedDemo(db.sequelize, core.hasher, core.market, log);

    const { port, url } = await listen(config, app);
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
    // Order: stop taking connections and sockets (the port closes, the handshake refuses once
    // stopping, /readyz answers 503), let running commands commit and answer, close sockets a slice
    // at a time (clients reconnect elsewhere, spread out), HTTP, Redis, the database.
    const unlistened = stopListening(app?.server);
    await accountWatch?.stop();
    await commands?.drain(config.SHUTDOWN_GRACE_MS);
    if (io) {
      await closeGradually(io, config.DRAIN_SOCKETS_PER_SECOND, config.SHUTDOWN_GRACE_MS / 2);
      await closeSockets(io, app?.server, unlistened, config.SHUTDOWN_GRACE_MS);
    }
    if (app) await app.close();
    await sweeper?.stop();
    await notifications?.stop();
    await meterSimulator?.stop();
    await relay?.stop(); // the relay before the stream it publishes into
    live?.stop();
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
    get redis() {
      return redis;
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
 * touches the data (src/store/db/data-dir.ts); undefined when nothing is kept on disk. Server mode
 * keeps only the generated JWT key there, written safely by several nodes: no lock.
 */
async function ensureWritableDataDir(config: Config, log: Logger): Promise<DataDir | undefined> {
  if (!config.embedded && config.JWT_SECRET) return undefined; // nothing is kept on disk
  return prepareDataDir(config.DATA_DIR, { lock: config.embedded, log });
}

/**
 * Stops accepting connections (a load balancer's next connection goes to another node); those open
 * go on. Resolves when the last of them has ended.
 */
function stopListening(server: Server | undefined): Promise<void> {
  if (!server?.listening) return Promise.resolve();
  return new Promise<void>((resolve) => server.close(() => resolve()));
}

/**
 * Disconnects this node's sockets a slice every 50 ms, `perSecond` of them a second (more when that
 * would take longer than `withinMs`): their clients reconnect to the other nodes spread out rather
 * than all at once (issue 23's storms).
 */
async function closeGradually(io: HubServer, perSecond: number, withinMs: number): Promise<void> {
  const sockets = [...io.of('/').sockets.values()];
  const rate = Math.max(perSecond, sockets.length / Math.max(0.05, withinMs / 1000));
  const slice = Math.max(1, Math.ceil(rate / 20));
  for (let i = 0; i < sockets.length; i += slice) {
    if (i > 0) await new Promise((resolve) => setTimeout(resolve, 50));
    // the connection, not the namespace: the client sees `transport close` and comes back with its
    // own jittered backoff and its token as it is, rather than refreshing it first
    for (const socket of sockets.slice(i, i + slice)) socket.conn.close();
  }
}

/**
 * Closes Socket.IO (the sockets left, the engine) and waits until the HTTP server, which stopped
 * listening already (`unlistened`), has no connection left. The server's close waits for every
 * connection; a keep-alive connection whose last response ended after the close began (a client's
 * reconnect attempt answered as the node stops) would hold it for the keep-alive timeout (72 s),
 * so idle connections are closed again until it is done, and all of them after the grace.
 */
async function closeSockets(
  io: HubServer,
  server: Server | undefined,
  unlistened: Promise<void>,
  graceMs: number,
): Promise<void> {
  const sweep = setInterval(() => server?.closeIdleConnections(), 100);
  const force = setTimeout(() => server?.closeAllConnections(), graceMs);
  try {
    // its callback waits for the HTTP server's close, which may have come already: `unlistened` tells
    void io.close();
    await unlistened;
  } finally {
    clearInterval(sweep);
    clearTimeout(force);
  }
}
