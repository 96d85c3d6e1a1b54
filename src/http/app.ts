import cors from '@fastify/cors';
import helmet from '@fastify/helmet';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import Fastify, { type FastifyBaseLogger, type FastifyInstance, LogController } from 'fastify';
import {
  jsonSchemaTransform,
  jsonSchemaTransformObject,
  serializerCompiler,
  validatorCompiler,
  type ZodTypeProvider,
} from 'fastify-type-provider-zod';
import type { Logger } from 'pino';
import type { Sequelize } from 'sequelize';
import type { Accounts } from '../domain/auth/accounts.js';
import { Meters } from '../domain/energy/meters.js';
import { Readings } from '../domain/energy/readings.js';
import type { MarketProfile } from '../domain/energy/zones.js';
import type { Market } from '../domain/market.js';
import type { HubMetrics } from '../metrics.js';
import type { CommandRunner } from '../store/commands/command-runner.js';
import { createMeterStore } from '../store/meters/meter-store.js';
import { createReadingStore } from '../store/meters/reading-store.js';
import { createTargetStore } from '../store/notify/target-store.js';
import type { EventReader } from '../store/outbox/event-log.js';
import type { AuthLimits } from './auth-limits.js';
import { authRoutes } from './auth-routes.js';
import { installAuthentication } from './authenticate.js';
import { type TrustProxy, trustFunction } from './client-address.js';
import { serveDashboard } from './dashboard.js';
import { installErrorHandling } from './error-envelope.js';
import { eventRoutes } from './event-routes.js';
import { type HealthChecks, healthRoutes } from './health-routes.js';
import { historyRoutes } from './history-routes.js';
import { installJsonBody } from './json-body.js';
import { listingRoutes } from './listing-routes.js';
import { marketRoutes } from './market-routes.js';
import { meterRoutes } from './meter-routes.js';
import { type NotifyRouteDeps, notifyRoutes } from './notify-routes.js';
import { installObservability } from './observability.js';
import { installOperatorGuard } from './operator-guard.js';
import { readingRoutes } from './reading-routes.js';
import { settlementRoutes } from './settlement-routes.js';
import { zoneRoutes } from './zone-routes.js';

/** What the HTTP side needs from the hub; wired in src/hub.ts. */
export interface HttpDeps {
  log: Logger;
  health: HealthChecks;
  metrics: HubMetrics;
  /** origins besides the hub's own allowed to call the API from a browser */
  corsOrigins: string[];
  accounts: Accounts;
  authLimits: AuthLimits;
  market: Market;
  /** runs the store's own commands (an operator's curtailment) with events and idempotency */
  runner: CommandRunner;
  /** the market's zones and their rules (MARKET_CONFIG) */
  profile: MarketProfile;
  sequelize: Sequelize;
  events: EventReader;
  /** largest accepted request body in bytes; @default 65536 */
  bodyLimit?: number;
  /** a connection is closed when it has not sent a whole request head this long; @default 10000 */
  headersTimeoutMs?: number;
  /** a request (head and body) not received whole in this time is cut; @default 30000 */
  requestTimeoutMs?: number;
  /** most lines of one GET /statements; @default 20000 */
  statementMaxLines?: number;
  /** the bearer token GET /metrics requires; unset: no /metrics */
  metricsToken?: string;
  /** which proxies may name the client in X-Forwarded-For (`req.ip`); @default false */
  trustProxy?: TrustProxy;
  /** webhooks and push subscriptions (PROTOCOL-PUSH.md): the VAPID key and the URL rules */
  notify: Omit<NotifyRouteDeps, 'targets'>;
}

/**
 * An idle keep-alive connection is closed after this long. Fastify's default, kept: above the 60 s idle
 * timeout of common load balancers, so a balancer never reuses a connection the hub is closing.
 */
const KEEP_ALIVE_TIMEOUT_MS = 72_000;

/** Builds the Fastify app: every route, the error envelope and the OpenAPI document. */
export async function buildHttpApp(deps: HttpDeps): Promise<FastifyInstance> {
  const requestTimeout = deps.requestTimeoutMs ?? 30_000;
  // Node refuses a head timeout longer than the whole request's
  const headersTimeout = Math.min(deps.headersTimeoutMs ?? 10_000, requestTimeout);
  const app = Fastify({
    loggerInstance: deps.log as FastifyBaseLogger,
    bodyLimit: deps.bodyLimit ?? 64 * 1024,
    // Slow clients cannot hold connections: Node answers 408 and closes a connection whose head (or
    // whole request) has not arrived in time. These count only while a request is being received:
    // a request waiting for its answer (a Socket.IO long-poll) and upgraded websockets are not cut.
    requestTimeout,
    keepAliveTimeout: KEEP_ALIVE_TIMEOUT_MS,
    http: {
      headersTimeout,
      // Node checks these timeouts every 30 s by default, which would let a 10 s limit run to 40 s
      connectionsCheckingInterval: Math.max(50, Math.min(1000, Math.floor(headersTimeout / 4))),
    },
    trustProxy: deps.trustProxy ? trustFunction(deps.trustProxy) : false,
    // one line per request is written by our own hook (with user and latency), not Fastify's pair
    logController: new LogController({ disableRequestLogging: true }),
    return503OnClosing: true,
    forceCloseConnections: true,
  });
  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);
  installErrorHandling(app);
  // numbers are read from the body's text: one of more than 15 significant digits is refused, not rounded
  installJsonBody(app);
  installObservability(app, deps.metrics, deps.metricsToken);
  await app.register(cors, { origin: deps.corsOrigins.length ? deps.corsOrigins : false, credentials: true });
  await app.register(helmet, {
    contentSecurityPolicy: {
      directives: {
        defaultSrc: ["'self'"],
        scriptSrc: ["'self'"],
        // uPlot and the dashboard set element styles
        styleSrc: ["'self'", "'unsafe-inline'"],
        imgSrc: ["'self'", 'data:'],
        connectSrc: ["'self'"],
        objectSrc: ["'none'"],
        frameAncestors: ["'none'"],
        baseUri: ["'self'"],
        formAction: ["'self'"],
      },
    },
  });

  await app.register(swagger, {
    openapi: {
      info: { title: 'RenEx Hub API', version: '1.0.0', description: 'REST side of PROTOCOL.md v1' },
      components: {
        securitySchemes: { bearer: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' } },
      },
    },
    transform: jsonSchemaTransform,
    // the schemas named with .meta({id}) become components/schemas that the routes reference
    transformObject: jsonSchemaTransformObject,
  });
  await app.register(swaggerUi, { routePrefix: '/docs', staticCSP: true });
  app.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger());

  // after CORS and helmet, whose onRequest hooks put their headers on a 401 too; before any route:
  // it protects every /api/v1 route but register, login and refresh
  installAuthentication(app, deps.accounts);
  // every route under /api/v1/operator/ is an operator's alone, checked after authentication
  installOperatorGuard(app, deps.accounts);
  const typed = app.withTypeProvider<ZodTypeProvider>();
  await typed.register(healthRoutes, { checks: deps.health });
  await typed.register(authRoutes, { prefix: '/api/v1', accounts: deps.accounts, limits: deps.authLimits });
  await typed.register(listingRoutes, {
    prefix: '/api/v1',
    market: deps.market,
    sequelize: deps.sequelize,
    profile: deps.profile,
  });
  await typed.register(historyRoutes, { prefix: '/api/v1', sequelize: deps.sequelize });
  await typed.register(eventRoutes, { prefix: '/api/v1', events: deps.events });
  await typed.register(zoneRoutes, { prefix: '/api/v1', profile: deps.profile });
  await typed.register(marketRoutes, { prefix: '/api/v1', sequelize: deps.sequelize, profile: deps.profile });
  const meters = new Meters(createMeterStore(deps.sequelize), deps.profile);
  await typed.register(meterRoutes, {
    prefix: '/api/v1',
    meters,
    profile: deps.profile,
    isOperator: async (userId) => (await deps.accounts.me(userId)).roles.includes('operator'),
  });
  const readings = new Readings(createReadingStore(deps.sequelize), deps.profile);
  await typed.register(readingRoutes, { prefix: '/api/v1', readings });
  await typed.register(settlementRoutes, {
    prefix: '/api/v1',
    runner: deps.runner,
    profile: deps.profile,
    sequelize: deps.sequelize,
    maxStatementLines: deps.statementMaxLines ?? 20_000,
  });
  await typed.register(notifyRoutes, {
    prefix: '/api/v1',
    targets: createTargetStore(deps.sequelize),
    ...deps.notify,
  });
  await serveDashboard(app);
  return app;
}
