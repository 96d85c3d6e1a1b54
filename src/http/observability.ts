import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { unauthenticated } from '../domain/auth/tokens.js';
import type { HubMetrics } from '../metrics.js';

/**
 * One log line and metrics per HTTP request, and GET /metrics for a scraper holding `metricsToken`
 * (`Authorization: Bearer <token>`): the counters tell about the business. Without a token the route
 * does not exist (404, like any unknown path).
 */
export function installObservability(app: FastifyInstance, metrics: HubMetrics, metricsToken?: string): void {
  app.addHook('onResponse', async (req, reply) => {
    const route = req.routeOptions.url ?? 'unmatched';
    metrics.httpRequests.inc({ route, status: reply.statusCode });
    if (reply.statusCode === 429) metrics.rateLimited.inc({ kind: 'http' });
    if (route === '/metrics' || route === '/healthz' || route === '/readyz') return;
    req.log.info(
      {
        method: req.method,
        route,
        userId: req.userId,
        status: reply.statusCode,
        ms: Math.round(reply.elapsedTime * 10) / 10,
      },
      'request',
    );
  });

  if (metricsToken === undefined) return;
  const expected = digest(metricsToken);
  app.get(
    '/metrics',
    {
      schema: { hide: true },
      onRequest: async (req: FastifyRequest) => {
        const m = /^Bearer (\S+)$/.exec(req.headers.authorization ?? '');
        if (!m)
          throw unauthenticated(
            req.headers.authorization ? 'invalid' : 'missing',
            'A metrics token is required',
          );
        // digests of equal length, compared in constant time: neither the token nor its length leaks
        if (!timingSafeEqual(digest(m[1]!), expected))
          throw unauthenticated('invalid', 'The metrics token is not valid');
      },
    },
    async (_req, reply) => reply.type(metrics.registry.contentType).send(await metrics.registry.metrics()),
  );
}

const digest = (token: string): Buffer => createHash('sha256').update(token).digest();
