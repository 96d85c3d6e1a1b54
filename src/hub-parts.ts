import type { AddressInfo } from 'node:net';
import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import type { Config } from './config.js';
import { Accounts, operatorEmails } from './domain/auth/accounts.js';
import { PasswordHasher } from './domain/auth/passwords.js';
import { keepRevokedSeconds, type RevokedLogins } from './domain/auth/revoked-logins.js';
import { TokenService } from './domain/auth/tokens.js';
import { loadMarketProfile, MarketConfigError } from './domain/energy/market-config.js';
import type { MarketProfile } from './domain/energy/zones.js';
import { Market } from './domain/market.js';
import type { MarketRules } from './domain/unit-of-work.js';
import { installSocketAuth } from './gateway/auth.js';
import { CommandLimits, FEED_BUDGET } from './gateway/command-limits.js';
import { CommandRouter } from './gateway/commands.js';
import { installConnections } from './gateway/connection.js';
import type { Delivery } from './gateway/delivery.js';
import { createLiveDelivery, type LiveDelivery } from './gateway/live.js';
import type { NewestEvents } from './gateway/newest-events.js';
import { createGateway, type Gateway, type HubServer } from './gateway/server.js';
import { buildHttpApp } from './http/app.js';
import { AuthLimits } from './http/auth-limits.js';
import { HubMetrics } from './metrics.js';
import type { RedisClients } from './redis.js';
import { resolveJwtSecret } from './secrets.js';
import { createAccountStore } from './store/accounts/account-store.js';
import { recentAccessChanges } from './store/accounts/login-revocations.js';
import { AcceptGroups } from './store/commands/accept-groups.js';
import { CommandRunner } from './store/commands/command-runner.js';
import { type Database, reason, StartupError } from './store/db/database.js';
import {
  type EventReader,
  eventReader,
  handshakeReads,
  outboxLag,
  readLogRange,
} from './store/outbox/event-log.js';
import { OutboxRelay, readRelayCursor } from './store/outbox/outbox-relay.js';

/** The node's metrics and the health checks behind them and /readyz. */
export interface Observed {
  metrics: HubMetrics;
  health: Record<string, () => Promise<boolean>>;
}

export function buildObserved(db: Database, redis: RedisClients | undefined): Observed {
  const health: Record<string, () => Promise<boolean>> = { database: () => db.ping() };
  if (redis) health.redis = redis.ping;
  const metrics = new HubMetrics({
    database: health.database!,
    redis: health.redis,
    outboxLag: () => outboxLag(db.sql),
  });
  return { metrics, health };
}

/** The domain over the database, and what the HTTP and socket sides share of it. */
export interface Core {
  hasher: PasswordHasher;
  accounts: Accounts;
  authLimits: AuthLimits;
  runner: CommandRunner;
  market: Market;
  profile: MarketProfile; // the market's zones and rules (MARKET_CONFIG)
  events: EventReader;
  metrics: HubMetrics;
  health: Record<string, () => Promise<boolean>>;
}

/**
 * Accounts, the market over the command runner (group commit of hot listings' accepts around it),
 * the event reader and the metrics. `commits` is told after each commit that appended events,
 * `loginsRevoked` of each login that ends.
 */
export async function buildCore(
  config: Config,
  log: Logger,
  db: Database,
  redis: RedisClients | undefined,
  observed: Observed,
  notify: { commits: () => void; loginRevoked: (familyId: string) => void },
  profile: MarketProfile,
  revoked: RevokedLogins,
): Promise<Core> {
  const { metrics, health } = observed;
  const { sequelize, sql } = db;
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
  // one batcher for the reads of every handshake and authenticated request, whoever asks them
  const handshake = handshakeReads(sql, {
    prepared: !db.embedded,
    gatherMs: config.HANDSHAKE_READ_GATHER_MS,
  });
  const accounts = new Accounts(
    createAccountStore(sequelize, handshake),
    hasher,
    tokens,
    notify.loginRevoked,
    operatorEmails(config.OPERATOR_EMAILS),
    revoked,
  );
  const authLimits = new AuthLimits(
    {
      perIpPerMinute: config.AUTH_RATE_IP_PER_MINUTE,
      perEmailPer15Min: config.AUTH_RATE_EMAIL_PER_15MIN,
      registerPerIpPerHour: config.AUTH_REGISTER_PER_IP_PER_HOUR,
    },
    redis && { client: redis.main, prefix: config.REDIS_PREFIX },
  );

  const rules: MarketRules = {
    market: profile,
    offerTtlMs: config.OFFER_TTL_SECONDS * 1000,
    currency: config.CURRENCY,
  };
  const runner = new CommandRunner(sql, rules, notify.commits, metrics);
  const market = new Market(new AcceptGroups(runner, sql));
  const events = eventReader(sql, handshake);
  return { hasher, accounts, authLimits, runner, market, profile, events, metrics, health };
}

/**
 * The market's zones and rules from MARKET_CONFIG, or the built-in demo zones. Read before anything
 * else starts: a bad file stops the hub with one line naming the field (StartupError).
 */
export async function loadMarket(config: Config): Promise<MarketProfile> {
  try {
    return await loadMarketProfile(config.MARKET_CONFIG);
  } catch (err) {
    if (err instanceof MarketConfigError) throw new StartupError(err.message);
    throw err;
  }
}

/** The Fastify app, ready (not listening yet). */
export async function buildHttp(
  config: Config,
  log: Logger,
  db: Database,
  core: Core,
  profile: MarketProfile,
  notify: { vapidPublicKey: string; learn(userId: string): void },
): Promise<FastifyInstance> {
  const app = await buildHttpApp({
    log,
    profile,
    metrics: core.metrics,
    corsOrigins: config.CORS_ORIGINS,
    health: core.health,
    accounts: core.accounts,
    authLimits: core.authLimits,
    market: core.market,
    runner: core.runner,
    sequelize: db.sequelize,
    events: core.events,
    headersTimeoutMs: config.HTTP_HEADERS_TIMEOUT_MS,
    requestTimeoutMs: config.HTTP_REQUEST_TIMEOUT_MS,
    metricsToken: config.METRICS_TOKEN,
    statementMaxLines: config.STATEMENT_MAX_LINES,
    trustProxy: config.TRUST_PROXY,
    notify: {
      ...notify,
      webhookAllowPrivate: config.WEBHOOK_ALLOW_PRIVATE,
      pushAllowHttp: config.PUSH_ALLOW_HTTP,
      secretOverlapMs: config.WEBHOOK_SECRET_OVERLAP_MS,
    },
  });
  await app.ready();
  return app;
}

/** The Socket.IO server, attached to the HTTP app's server once that exists (`io.attach`). */
export function buildGateway(config: Config, log: Logger, redis: RedisClients | undefined): Gateway {
  return createGateway({
    log,
    redis,
    redisPrefix: config.REDIS_PREFIX,
    corsOrigins: config.CORS_ORIGINS,
    handshakeTimeoutMs: config.SOCKET_HANDSHAKE_TIMEOUT_MS,
    unauthenticatedPerAddress: config.SOCKET_UNAUTHENTICATED_PER_IP,
    trustProxy: config.TRUST_PROXY,
  });
}

/**
 * Live delivery and the outbox relay that feeds it, started. The relay's policy is decided here:
 * with Redis (a cluster) it relays only while it holds the cluster's lock, on a session of its own;
 * without, the node is alone and always relays. It publishes into live delivery.
 */
export async function startDelivery(
  config: Config,
  log: Logger,
  gateway: HubServer,
  db: Database,
  redis: RedisClients | undefined,
  metrics: HubMetrics,
): Promise<{ live: LiveDelivery; relay: OutboxRelay }> {
  const { sql } = db;
  const live = createLiveDelivery(gateway, {
    redis,
    redisPrefix: config.REDIS_PREFIX,
    metrics,
    log,
    maxQueued: config.SOCKET_MAX_QUEUED,
    readRange: (after, upTo, limit) => readLogRange(sql, after, upTo, limit),
    relayPosition: () => readRelayCursor(sql),
    keepRevokedMs: keepRevokedSeconds(config.ACCESS_TOKEN_TTL_SECONDS) * 1000,
  });
  const relay = new OutboxRelay({
    sql,
    session: redis ? db.relaySession : undefined,
    log,
    gatherMs: config.RELAY_GATHER_MS,
    publish: live.publish,
  });
  await live.start();
  // read once the stream runs: a revocation committed before is in the read, one after in the stream
  live.revoked.load(
    await recentAccessChanges(db.sequelize, keepRevokedSeconds(config.ACCESS_TOKEN_TTL_SECONDS)),
  );
  relay.start();
  return { live, relay };
}

/** Routes socket commands, under the per-user market and feed budgets (shared by the cluster with Redis). */
export function buildCommandRouter(
  config: Config,
  log: Logger,
  metrics: HubMetrics,
  redis: RedisClients | undefined,
): CommandRouter {
  const shared = redis && { client: redis.main, prefix: config.REDIS_PREFIX };
  return new CommandRouter({
    log,
    metrics,
    limits: {
      market: new CommandLimits(
        { perSecond: config.COMMAND_RATE_PER_SECOND, burst: config.COMMAND_RATE_BURST },
        shared,
      ),
      feed: new CommandLimits(
        { perSecond: config.FEED_RATE_PER_SECOND, burst: config.FEED_RATE_BURST },
        shared,
        FEED_BUDGET,
      ),
    },
  });
}

/** Handshake auth, then what happens on each connection. `closing`: true once the node drains. */
export function installSockets(
  config: Config,
  log: Logger,
  gateway: HubServer,
  parts: {
    core: Core;
    commands: CommandRouter;
    delivery: Delivery;
    newest: NewestEvents;
    revoked: RevokedLogins;
    closing(): boolean;
  },
): void {
  const { core, commands } = parts;
  const auth = installSocketAuth(
    gateway,
    core.accounts,
    {
      graceMs: config.AUTH_GRACE_SECONDS * 1000,
      maxSocketsPerUser: config.MAX_SOCKETS_PER_USER,
      closing: parts.closing,
      revoked: (s) => {
        const state = parts.revoked.state(s.data.userId, s.data.familyId);
        return state !== undefined && state !== 'live';
      },
    },
    log,
    commands,
  );
  installConnections(gateway, {
    auth,
    commands,
    metrics: core.metrics,
    delivery: parts.delivery,
    newest: parts.newest,
    events: core.events,
    market: core.market,
    profile: core.profile,
    replayMax: config.REPLAY_MAX,
    log,
  });
}

/** Listens on HOST:PORT; resolves with the bound port and the URL to reach it at. */
export async function listen(config: Config, app: FastifyInstance): Promise<{ port: number; url: string }> {
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
  return { port, url };
}
