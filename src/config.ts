import { z } from 'zod';
import { bool, clusterNodes, int, origins, otlpProtocol, url } from './config-values.js';

/** Raised when the environment cannot be turned into a configuration; carries one readable line. */
export class ConfigError extends Error {
  override name = 'ConfigError';
}

/**
 * Every setting of the hub, read from the environment once at start-up (`loadConfig`).
 * Nothing else in the hub reads `process.env`.
 */
const envSchema = z.object({
  NODE_ENV: z.enum(['development', 'production', 'test']).default('development'),
  /** @default 3000 */
  PORT: int(0, 65535).default(3000),
  /** @default 127.0.0.1 (set 0.0.0.0 to serve other machines) */
  HOST: z.string().min(1).default('127.0.0.1'),
  /** unset: embedded PostgreSQL (PGlite) under DATA_DIR */
  DATABASE_URL: url(['postgres:', 'postgresql:']).optional(),
  /** @default 10 */
  DATABASE_POOL_MAX: int(1, 200).default(10),
  /** a statement running longer is cancelled by PostgreSQL; 0 turns it off; @default 10000 */
  DATABASE_STATEMENT_TIMEOUT_MS: int(0, 86_400_000).default(10_000),
  /**
   * a hub session that holds a transaction (or the relay's lock) and sends nothing for this long
   * is ended by PostgreSQL, releasing its locks and the delivery horizon (a frozen node); @default 5000
   */
  DATABASE_IDLE_TIMEOUT_MS: int(100, 86_400_000).default(5_000),
  /** TCP keepalive idle time of the hub's sessions, on both ends: a peer gone silent is found within 2x this; @default 15 */
  DATABASE_KEEPALIVE_SECONDS: int(1, 7_200).default(15),
  /** @default ./data */
  DATA_DIR: z.string().min(1).default('./data'),
  /** unset: in-process Socket.IO adapter, one node */
  REDIS_URL: url(['redis:', 'rediss:']).optional(),
  /**
   * Redis Cluster instead of one Redis: comma-separated `host:port` of some of its nodes (or
   * `redis://user:password@host:port` / `rediss://` URLs, for a login or TLS); unset: REDIS_URL's
   * one Redis. Setting both is refused: nodes on different Redis would not hear each other.
   */
  REDIS_CLUSTER_NODES: clusterNodes.optional(),
  /** namespace of the hub's Redis keys and channels; nodes of one cluster share it; @default renex */
  REDIS_PREFIX: z
    .string()
    .regex(/^[A-Za-z0-9_.-]{1,64}$/, 'must be 1 to 64 letters, digits, dots, dashes or underscores')
    .default('renex'),
  /** HS256 key of access tokens; at least 32 characters. Unset outside production: generated under DATA_DIR. */
  JWT_SECRET: z.string().min(32, 'must be at least 32 characters').optional(),
  /** @default renex-hub */
  JWT_ISSUER: z.string().min(1).default('renex-hub'),
  /** @default renex-clients */
  JWT_AUDIENCE: z.string().min(1).default('renex-clients'),
  /** @default 900 (15 minutes) */
  ACCESS_TOKEN_TTL_SECONDS: int(1, 86_400).default(900),
  /** @default 604800 (7 days) */
  REFRESH_TOKEN_TTL_SECONDS: int(60, 90 * 86_400).default(604_800),
  /** a socket whose token expired is dropped this long after expiry unless refreshed; @default 30 */
  AUTH_GRACE_SECONDS: int(0, 3600).default(30),
  /** argon2id memory in KiB; @default 19456 (OWASP minimum) */
  ARGON2_MEMORY_KIB: int(1024, 4_194_304).default(19_456),
  /** @default 2 */
  ARGON2_TIME_COST: int(1, 100).default(2),
  /** @default 1 */
  ARGON2_PARALLELISM: int(1, 64).default(1),
  /** argon2 hashes and verifications running at once on a node, the others queued; @default 1 */
  ARGON2_CONCURRENCY: int(1, 64).default(1),
  /** comma-separated origins allowed for CORS and the Socket.IO handshake, besides the hub's own */
  CORS_ORIGINS: origins.default([]),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  /** `auto`: readable lines (pino-pretty) in development when stdout is a terminal, else JSON lines */
  LOG_FORMAT: z.enum(['auto', 'pretty', 'json']).default('auto'),
  /** seed three demo traders and a dozen listings on first start; @default true in embedded mode */
  SEED_DEMO: bool.optional(),
  /** @default EUR */
  CURRENCY: z
    .string()
    .regex(/^[A-Z]{3}$/, 'must be a three-letter currency code')
    .default('EUR'),
  /**
   * path of a JSON file with the market's zones, their rules and fees (PROTOCOL-MARKET.md, docs/decisions.md
   * "Market profile"); read and checked at start-up. Unset: the built-in demo zones DE-North, DE-South, NL
   */
  MARKET_CONFIG: z.string().optional(),
  /**
   * comma-separated emails of the market's operators (PROTOCOL-MARKET.md, "Operators, readings and
   * settlement"), compared in any letter case: kept lower-cased, as account emails are stored.
   * Read at start-up, checked against the user's email at each request; @default none
   */
  OPERATOR_EMAILS: z
    .string()
    .transform((v) =>
      v
        .split(',')
        .map((s) => s.trim().toLowerCase())
        .filter(Boolean),
    )
    .pipe(z.array(z.email({ message: 'must be a comma-separated list of email addresses' })))
    .default([]),
  /** a swap offer lives this long unless countered; @default 600 */
  OFFER_TTL_SECONDS: int(1, 86_400).default(600),
  /** how often each node sweeps expired offers and closed gates; @default 1000 */
  SWEEP_INTERVAL_MS: int(50, 600_000).default(1000),
  /**
   * write simulated readings for the demo meters (`DEMO-...`) after each slot ends, so the demo market
   * settles (src/store/settlement/simulate-meters.ts); unset: true in embedded mode (`SIMULATE_METERS
   * ?? embedded`, read by src/hub.ts)
   */
  SIMULATE_METERS: bool.optional(),
  /** how often each node writes the simulated readings that are due; @default 30000 */
  SIMULATE_METERS_INTERVAL_MS: int(50, 3_600_000).default(30_000),
  /** most lines of one GET /statements (a busier period is refused: ask for it in parts); @default 20000 */
  STATEMENT_MAX_LINES: int(1, 1_000_000).default(20_000),
  /** events replayed at most on one reconnect before `sync.truncated`; @default 1000 */
  REPLAY_MAX: int(1, 100_000).default(1000),
  /** the relay reads the log at most once per this many ms after commits: fewer reads, later delivery; @default 2 */
  RELAY_GATHER_MS: int(0, 1000).default(2),
  /** connections waiting to be accepted (the kernel caps it at net.core.somaxconn); @default 4096 */
  LISTEN_BACKLOG: int(1, 65_535).default(4096),
  /** login/register attempts per IP per minute; @default 100 */
  AUTH_RATE_IP_PER_MINUTE: int(1, 1_000_000).default(100),
  /** failed logins per email per 15 minutes; @default 10 */
  AUTH_RATE_EMAIL_PER_15MIN: int(1, 1_000_000).default(10),
  /**
   * time a new connection has to complete the Socket.IO handshake (the namespace CONNECT with its
   * token) before it is closed; @default 10000
   */
  SOCKET_HANDSHAKE_TIMEOUT_MS: int(100, 600_000).default(10_000),
  /** connections one address may hold on one node before they authenticate; @default 50 */
  SOCKET_UNAUTHENTICATED_PER_IP: int(1, 1_000_000).default(50),
  /** feed:subscribe, feed:unsubscribe and auth:refresh per user per second, sustained; @default 10 */
  FEED_RATE_PER_SECOND: int(1, 1_000_000).default(10),
  /** burst of those per user, above the sustained rate; @default 20 */
  FEED_RATE_BURST: int(1, 1_000_000).default(20),
  /** socket commands per user per second, sustained; @default 20 */
  COMMAND_RATE_PER_SECOND: int(1, 1_000_000).default(20),
  /** socket command burst per user; @default 50 */
  COMMAND_RATE_BURST: int(1, 1_000_000).default(50),
  /**
   * a spent refresh token presented again this soon after its rotation (its successor still unused)
   * gets the same new refresh token: a retried request is safe; later, it revokes the login; @default 10
   */
  REFRESH_REUSE_SECONDS: int(0, 300).default(10),
  /** a login cannot be refreshed past this long after it began (it never outlives this); @default 2592000 (30 days) */
  SESSION_MAX_SECONDS: int(1, 400 * 86_400).default(2_592_000),
  /** how often each node closes the sockets of users that were disabled or deleted; @default 30 */
  ACCOUNT_CHECK_SECONDS: int(1, 3600).default(30),
  /** sockets one user may hold open on one node; @default 20 */
  MAX_SOCKETS_PER_USER: int(1, 10_000).default(20),
  /**
   * messages waiting to be sent to one socket (a client that stops reading) before the node closes
   * it: its client reconnects and is replayed what it missed; @default 10000
   */
  SOCKET_MAX_QUEUED: int(10, 1_000_000).default(10_000),
  /** registrations per address per hour, apart from the login/register budget per minute; @default 20 */
  AUTH_REGISTER_PER_IP_PER_HOUR: int(1, 1_000_000).default(20),
  /** a connection that has not sent a whole request head in this time is closed (408); at most the request timeout; @default 10000 */
  HTTP_HEADERS_TIMEOUT_MS: int(100, 600_000).default(10_000),
  /**
   * a request not received whole (head and body) in this time is cut (408). Only the request counts, not
   * the wait for the answer: a Socket.IO long-poll (up to 25 s) is not cut; keep it above that anyway;
   * @default 30000
   */
  HTTP_REQUEST_TIMEOUT_MS: int(100, 3_600_000).default(30_000),
  /** bearer token that GET /metrics requires, at least 16 characters; unset: /metrics is 404 */
  METRICS_TOKEN: z.string().min(16, 'must be at least 16 characters').optional(),
  /**
   * who may name the client in X-Forwarded-For (limits per address): unset, nobody; a number n, the n
   * nearest hops (only when the hub cannot be reached but through them); or a comma list of the proxies'
   * addresses and CIDR ranges (also `loopback`, `linklocal`, `uniquelocal`)
   */
  TRUST_PROXY: z
    .string()
    .transform((v, ctx): false | number | string[] => {
      if (/^\d+$/.test(v)) {
        const hops = Number(v);
        if (hops <= 32) return hops === 0 ? false : hops;
      } else {
        const list = v
          .split(',')
          .map((s) => s.trim())
          .filter(Boolean);
        const address = z.union([
          z.enum(['loopback', 'linklocal', 'uniquelocal']),
          z.ipv4(),
          z.ipv6(),
          z.cidrv4(),
          z.cidrv6(),
        ]);
        if (list.length > 0 && list.every((s) => address.safeParse(s).success)) return list;
      }
      ctx.addIssue({
        code: 'custom',
        message: 'must be a hop count from 0 to 32 or a comma list of IP addresses and CIDR ranges',
      });
      return z.NEVER;
    })
    .default(false),
  /** time allowed for in-flight work on shutdown; @default 10000 */
  SHUTDOWN_GRACE_MS: int(0, 600_000).default(10_000),
  /**
   * sockets a draining node closes per second, so that its traders reach the other nodes spread
   * out; faster when that would take more than half of SHUTDOWN_GRACE_MS; @default 1000
   */
  DRAIN_SOCKETS_PER_SECOND: int(1, 1_000_000).default(1000),
  /**
   * how long the read of a handshake or an authenticated request (revocation, newest event) waits
   * for others to go to the database in one statement with it; 0: those of the same turn of the
   * event loop only; @default 2
   */
  HANDSHAKE_READ_GATHER_MS: int(0, 100).default(2),
  /** VAPID key pair (base64url) for Web Push; both or neither. Unset: generated once into DATA_DIR/vapid-keys.json */
  VAPID_PUBLIC_KEY: z.string().min(1).optional(),
  VAPID_PRIVATE_KEY: z.string().min(1).optional(),
  /** who runs the push sender, for push services: a mailto: or https: URL; @default mailto:operator@localhost */
  VAPID_SUBJECT: z.string().min(1).optional(),
  /** accept http: (and loopback) push endpoints: for tests on loopback only; @default false */
  PUSH_ALLOW_HTTP: bool.default(false),
  /** accept http: webhook URLs and private, loopback and link-local addresses: tests and private deployments; @default false */
  WEBHOOK_ALLOW_PRIVATE: bool.default(false),
  /** a webhook answer must come within this; @default 10000 */
  WEBHOOK_TIMEOUT_MS: int(100, 60_000).default(10_000),
  /** a push service's answer must come within this; @default 10000 */
  PUSH_TIMEOUT_MS: int(100, 60_000).default(10_000),
  /**
   * the delays in ms between a webhook's failed attempts, comma-separated (a shortened schedule for
   * tests); @default 5000,60000,300000,1800000,7200000,18000000,36000000,50400000
   */
  WEBHOOK_RETRY_SCHEDULE_MS: z
    .string()
    .transform((v) => v.split(',').map((s) => Number(s.trim())))
    .pipe(
      z
        .array(
          z
            .number()
            .int()
            .min(10)
            .max(7 * 86_400_000),
        )
        .min(1)
        .max(20),
    )
    .optional(),
  /** a webhook whose every attempt failed for this long is disabled; @default 259200000 (3 days) */
  WEBHOOK_DISABLE_AFTER_MS: int(1000, 30 * 86_400_000).default(259_200_000),
  /** a rotated webhook secret keeps signing beside the new one this long; @default 86400000 (24 h) */
  WEBHOOK_SECRET_OVERLAP_MS: int(0, 30 * 86_400_000).default(86_400_000),
  /** webhook and push requests one node has in flight at once (one at a time per target); @default 256 */
  NOTIFY_CONCURRENCY: int(1, 10_000).default(256),
  /** how often each node looks for webhooks and push subscriptions with work no node holds; @default 1000 */
  NOTIFY_POLL_MS: int(10, 60_000).default(1000),
  /** send webhook and push requests from a thread of their own, not the main thread; @default true */
  NOTIFY_SEND_THREAD: bool.default(true),
  /**
   * the scheduling priority (Linux nice, 0 to 19) of that thread: above 0, a box short of CPU runs
   * commands before notifications; @default 10
   */
  NOTIFY_SEND_NICE: int(0, 19).default(10),
  /**
   * OpenTelemetry (docs/telemetry.md): set, the hub exports traces over OTLP/HTTP to this collector
   * (`/v1/traces` appended); unset (and no OTEL_EXPORTER_OTLP_TRACES_ENDPOINT), the SDK is not even
   * loaded. The exporter reads the other OTEL_EXPORTER_OTLP_* variables (headers, timeout) itself.
   */
  OTEL_EXPORTER_OTLP_ENDPOINT: url(['http:', 'https:']).optional(),
  /** the traces' own endpoint, used as it is; @default OTEL_EXPORTER_OTLP_ENDPOINT + /v1/traces */
  OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: url(['http:', 'https:']).optional(),
  /** `http/protobuf` or `http/json` (gRPC is not built in); @default http/protobuf */
  OTEL_EXPORTER_OTLP_PROTOCOL: otlpProtocol.optional(),
  /** the traces' own protocol; @default OTEL_EXPORTER_OTLP_PROTOCOL */
  OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: otlpProtocol.optional(),
  /** `true`: no tracing even with an endpoint set; @default false */
  OTEL_SDK_DISABLED: bool.default(false),
});

type Env = z.infer<typeof envSchema>;

/** The parsed configuration of one hub node. */
export interface Config extends Omit<Env, 'SEED_DEMO'> {
  /** true when DATABASE_URL is unset and the hub runs PGlite in-process */
  embedded: boolean;
  /** true when an OTLP endpoint is set (and OTEL_SDK_DISABLED is not): src/main.ts loads the SDK */
  tracing: boolean;
  SEED_DEMO: boolean;
}

/** Parses the environment; throws ConfigError with one line naming the first bad variable. */
export function loadConfig(env: Record<string, string | undefined> = process.env): Config {
  const picked: Record<string, string> = {};
  for (const key of Object.keys(envSchema.shape)) {
    const value = env[key];
    if (value !== undefined && value !== '') picked[key] = value;
  }
  const parsed = envSchema.safeParse(picked);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const name = String(issue.path[0] ?? 'environment');
    const shown = name in picked ? ` (got ${JSON.stringify(redact(name, picked[name]!))})` : '';
    throw new ConfigError(`config: ${name} ${issue.message}${shown}`);
  }
  const cfg = parsed.data;
  if (cfg.NODE_ENV === 'production' && !cfg.JWT_SECRET) {
    throw new ConfigError('config: JWT_SECRET is required when NODE_ENV=production');
  }
  if (cfg.REDIS_URL && cfg.REDIS_CLUSTER_NODES) {
    throw new ConfigError(
      'config: set REDIS_URL (one Redis) or REDIS_CLUSTER_NODES (Redis Cluster), not both',
    );
  }
  const embedded = cfg.DATABASE_URL === undefined;
  const tracing =
    !cfg.OTEL_SDK_DISABLED &&
    (cfg.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT ?? cfg.OTEL_EXPORTER_OTLP_ENDPOINT) !== undefined;
  return { ...cfg, embedded, tracing, SEED_DEMO: cfg.SEED_DEMO ?? embedded };
}

function redact(name: string, value: string): string {
  if (name === 'REDIS_CLUSTER_NODES') return value.replace(/\/\/[^/@]*@/g, '//<hidden>@');
  return /SECRET|PASSWORD|URL|^METRICS_TOKEN$/.test(name) ? '<hidden>' : value;
}
