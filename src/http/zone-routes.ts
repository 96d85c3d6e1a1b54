import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { MarketProfile } from '../domain/energy/zones.js';
import { errors, zoneSchema } from './schemas.js';

export interface ZoneRouteDeps {
  profile: MarketProfile;
}

/** /api/v1/zones: the zones of the market and their rules, from MARKET_CONFIG or the built-in default. */
export const zoneRoutes: FastifyPluginAsyncZod<ZoneRouteDeps> = async (app, { profile }) => {
  // the profile is fixed for the life of the node: its view is made once
  const items = profile.view();
  app.get(
    '/zones',
    {
      schema: {
        tags: ['market'],
        summary: 'The zones of the market with their slot grid, trading rules, fees and settlement',
        security: [{ bearer: [] }],
        querystring: z.strictObject({}),
        response: { 200: z.object({ items: z.array(zoneSchema) }), ...errors(400, 401, 503) },
      },
    },
    async () => ({ items }),
  );
};
