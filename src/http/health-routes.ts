import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';

/** Named readiness probes: each answers true when its dependency responds. */
export type HealthChecks = Record<string, () => Promise<boolean>>;

const status = z.object({ status: z.enum(['ok', 'unavailable']), checks: z.record(z.string(), z.boolean()) });

export const healthRoutes: FastifyPluginAsyncZod<{ checks: HealthChecks }> = async (app, { checks }) => {
  app.get(
    '/healthz',
    {
      schema: {
        tags: ['health'],
        summary: 'The process is alive',
        response: { 200: z.object({ status: z.literal('ok') }) },
      },
    },
    async () => ({ status: 'ok' as const }),
  );
  app.get(
    '/readyz',
    {
      schema: {
        tags: ['health'],
        summary: 'The database (and Redis, when configured) answer',
        response: { 200: status, 503: status },
      },
    },
    async (_req, reply) => {
      const names = Object.keys(checks);
      const results = await Promise.all(names.map((n) => withTimeout(checks[n]!(), 2000)));
      const out = Object.fromEntries(names.map((n, i) => [n, results[i]!]));
      const ok = results.every(Boolean);
      return reply.status(ok ? 200 : 503).send({ status: ok ? 'ok' : 'unavailable', checks: out });
    },
  );
};

function withTimeout(p: Promise<boolean>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<boolean>((resolve) => {
    timer = setTimeout(() => resolve(false), ms);
  });
  return Promise.race([p.catch(() => false), timeout]).finally(() => clearTimeout(timer));
}
