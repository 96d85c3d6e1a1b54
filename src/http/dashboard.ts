import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import fastifyStatic from '@fastify/static';
import type { FastifyInstance } from 'fastify';

/** Where `npm run build` puts the dashboard: dist/web beside the compiled hub, or under the working directory. */
export function dashboardDir(): string | undefined {
  const candidates = [fileURLToPath(new URL('../web', import.meta.url)), path.resolve('dist/web')];
  return candidates.find((dir) => existsSync(path.join(dir, 'index.html')));
}

/**
 * Serves the built dashboard at `/`. Hashed assets are immutable for a year; index.html is
 * revalidated on every load so a new build is picked up at once.
 */
export async function serveDashboard(app: FastifyInstance): Promise<void> {
  const root = dashboardDir();
  if (!root) {
    app.get('/', { schema: { hide: true } }, async (_req, reply) =>
      reply.type('text/plain').send('The dashboard is not built: run `npm run build`.\n'),
    );
    return;
  }
  await app.register(fastifyStatic, {
    root,
    prefix: '/',
    index: 'index.html',
    wildcard: false,
    cacheControl: false,
    setHeaders(res, file) {
      const immutable = file.includes(`${path.sep}assets${path.sep}`);
      res.header('cache-control', immutable ? 'public, max-age=31536000, immutable' : 'no-cache');
    },
  });
}
