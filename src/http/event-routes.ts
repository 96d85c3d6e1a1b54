import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { toEnvelope } from '../domain/events.js';
import { eventIdInput } from '../domain/schemas.js';
import type { EventReader } from '../store/outbox/event-log.js';
import { errors, queryInt } from './schemas.js';

const eventSchema = z
  .object({ id: z.string(), type: z.string(), at: z.iso.datetime(), data: z.unknown() })
  .meta({ id: 'Event' });

/** GET /api/v1/events: the caller's own events, ascending, for catching up after a reconnect. */
export const eventRoutes: FastifyPluginAsyncZod<{ events: EventReader }> = async (app, { events }) => {
  app.get(
    '/events',
    {
      schema: {
        tags: ['events'],
        summary: 'Events addressed to you after an id, ascending',
        description:
          'Only events below the delivery horizon are listed, so paging by the last id never skips one.',
        security: [{ bearer: [] }],
        querystring: z.strictObject({
          after: eventIdInput.optional(),
          limit: queryInt(1, 1000, 100),
        }),
        response: {
          200: z.object({ items: z.array(eventSchema), hasMore: z.boolean() }),
          ...errors(400, 401, 503),
        },
      },
    },
    async (req) => {
      const after = BigInt(req.query.after ?? '0');
      const found = await events.userEvents(req.userId, after, req.query.limit + 1);
      return {
        items: found.slice(0, req.query.limit).map(toEnvelope),
        hasMore: found.length > req.query.limit,
      };
    },
  );
};
