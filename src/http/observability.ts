import type { FastifyInstance } from 'fastify';
import type { HubMetrics } from '../metrics.js';

/** One log line and metrics per HTTP request, and GET /metrics. */
export function installObservability(app: FastifyInstance, metrics: HubMetrics): void {
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

  app.get('/metrics', { schema: { hide: true } }, async (_req, reply) =>
    reply.type(metrics.registry.contentType).send(await metrics.registry.metrics()),
  );
}
