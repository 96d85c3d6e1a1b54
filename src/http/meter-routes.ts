import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { MAX_METERS_PER_TRADER, type Meters, meterInput, meterSlotsQuery } from '../domain/energy/meters.js';
import type { MarketProfile } from '../domain/energy/zones.js';
import { errors, idParams, meterSchema, meterSlotSchema } from './schemas.js';

export interface MeterRouteDeps {
  meters: Meters;
  /** whether the user is an operator now (who may read any meter) */
  isOperator: (userId: string) => Promise<boolean>;
  /** the market's zones, which a new meter's zone must be one of */
  profile: MarketProfile;
}

const noQuery = z.strictObject({});

/**
 * /api/v1/meters: a trader's metering points and their per-slot trading limits. A meter is its
 * owner's alone; another trader's is NOT_FOUND. There is no REST rate limit besides the auth
 * routes', as for the listing routes.
 */
export const meterRoutes: FastifyPluginAsyncZod<MeterRouteDeps> = async (
  app,
  { meters, profile, isOperator },
) => {
  app.post(
    '/meters',
    {
      schema: {
        tags: ['meters'],
        summary: 'Register a meter',
        description: `An externalId registered already, by anyone, is CONFLICT; so is a meter past the ${MAX_METERS_PER_TRADER} a trader may register (retired ones count).`,
        security: [{ bearer: [] }],
        body: meterInput(profile),
        response: { 201: meterSchema, ...errors(400, 401, 409, 503) },
      },
    },
    async (req, reply) => reply.status(201).send(await meters.register(req.userId, req.body)),
  );

  app.get(
    '/meters',
    {
      schema: {
        tags: ['meters'],
        summary: 'Your meters, retired ones too, in the order you registered them',
        security: [{ bearer: [] }],
        querystring: noQuery,
        response: { 200: z.object({ items: z.array(meterSchema) }), ...errors(400, 401, 503) },
      },
    },
    async (req) => ({ items: await meters.list(req.userId) }),
  );

  app.get(
    '/meters/:id',
    {
      schema: {
        tags: ['meters'],
        summary: 'One of your meters (an operator: any meter)',
        security: [{ bearer: [] }],
        params: idParams,
        querystring: noQuery,
        response: { 200: meterSchema, ...errors(400, 401, 404, 503) },
      },
    },
    async (req) => meters.get(req.userId, req.params.id, await isOperator(req.userId)),
  );

  app.delete(
    '/meters/:id',
    {
      schema: {
        tags: ['meters'],
        summary: 'Retire one of your meters',
        description: 'A meter retired already is INVALID_STATE.',
        security: [{ bearer: [] }],
        params: idParams,
        response: { 200: meterSchema, ...errors(400, 401, 404, 409, 503) },
      },
    },
    async (req) => meters.retire(req.userId, req.params.id),
  );

  app.get(
    '/meters/:id/slots',
    {
      schema: {
        tags: ['meters'],
        summary: "Every slot of the meter's zone grid in [from, to) with its limits and contracted volumes",
        description:
          'from and to on the zone grid, at most 7 days apart. Limit per slot: capacity x slotHours x ' +
          'capFactor, rounded down to the Wh.',
        security: [{ bearer: [] }],
        params: idParams,
        querystring: meterSlotsQuery,
        response: { 200: z.object({ items: z.array(meterSlotSchema) }), ...errors(400, 401, 404, 409, 503) },
      },
    },
    async (req) => ({ items: await meters.slots(req.userId, req.params.id, req.query) }),
  );
};
