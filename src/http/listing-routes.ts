import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import type { Sequelize } from 'sequelize';
import { z } from 'zod';
import type { MarketProfile } from '../domain/energy/zones.js';
import { HubError } from '../domain/errors.js';
import { ENERGY_TYPES, LISTING_STATUSES, listingView, SIDES } from '../domain/listing.js';
import type { Market } from '../domain/market.js';
import { createListingBody, kwhInput, priceInput, timeInput, zoneInput } from '../domain/schemas.js';
import { validationFailed } from '../domain/validation.js';
import { findListing, findListings } from '../store/reads/listing-queries.js';
import {
  commaList,
  cursorParam,
  decodeCursor,
  encodeCursor,
  errors,
  idempotencyHeaders,
  idParams,
  listingSchema,
  page,
  queryInt,
} from './schemas.js';

export interface ListingRouteDeps {
  market: Market;
  sequelize: Sequelize;
  profile: MarketProfile;
}

const listQuery = z.strictObject({
  side: z.enum(SIDES).optional(),
  energyType: commaList(z.enum(ENERGY_TYPES), ENERGY_TYPES.length).optional(),
  zone: commaList(zoneInput, 20).optional(),
  minPrice: priceInput.optional(),
  maxPrice: priceInput.optional(),
  minVolumeKwh: kwhInput.optional().describe('least availableKwh'),
  deliveryFrom: timeInput
    .optional()
    .describe('listings whose delivery window overlaps [deliveryFrom, deliveryTo)'),
  deliveryTo: timeInput.optional(),
  owner: z.literal('me').optional(),
  status: commaList(z.enum(LISTING_STATUSES), LISTING_STATUSES.length).optional().describe('default active'),
  limit: queryInt(1, 100, 20),
  cursor: cursorParam.optional(),
});

const listingCursor = z.tuple([timeInput, z.uuid()]);

/** /api/v1/listings: the market, and posting and cancelling listings. */
export const listingRoutes: FastifyPluginAsyncZod<ListingRouteDeps> = async (
  app,
  { market, sequelize, profile },
) => {
  app.get(
    '/listings',
    {
      schema: {
        tags: ['listings'],
        summary: 'The market: listings newest first, filtered, in pages',
        security: [{ bearer: [] }],
        querystring: listQuery,
        response: { 200: page(listingSchema), ...errors(400, 401, 503) },
      },
    },
    async (req) => {
      const q = req.query;
      let after: { createdAt: Date; id: string } | undefined;
      if (q.cursor !== undefined) {
        const c = decodeCursor(q.cursor, listingCursor);
        if (!c) throw validationFailed([{ path: 'cursor', message: 'is not a cursor this API gave' }]);
        after = { createdAt: c[0], id: c[1] };
      }
      const { items, more } = await findListings(sequelize, {
        side: q.side,
        energyTypes: q.energyType,
        // as stored, whatever the letter case asked (PROTOCOL-MARKET.md: zone ids compare so)
        zones: q.zone?.map((z) => profile.zoneId(z)),
        minPriceE4: q.minPrice,
        maxPriceE4: q.maxPrice,
        minAvailableWh: q.minVolumeKwh,
        deliveryFrom: q.deliveryFrom,
        deliveryTo: q.deliveryTo,
        ownerId: q.owner === 'me' ? req.userId : undefined,
        statuses: q.status ?? ['active'],
        limit: q.limit,
        after,
      });
      const last = items[items.length - 1];
      return {
        items: items.map((l) => listingView(l, req.userId)),
        nextCursor: more && last ? encodeCursor([last.createdAt.toISOString(), last.id]) : null,
      };
    },
  );

  app.get(
    '/listings/:id',
    {
      schema: {
        tags: ['listings'],
        summary: 'One listing',
        security: [{ bearer: [] }],
        params: idParams,
        response: { 200: listingSchema, ...errors(400, 401, 404, 503) },
      },
    },
    async (req) => {
      const listing = await findListing(sequelize, req.params.id);
      if (!listing) throw new HubError('NOT_FOUND', 'No such listing');
      return listingView(listing, req.userId);
    },
  );

  app.post(
    '/listings',
    {
      schema: {
        tags: ['listings'],
        summary: 'Post a listing',
        description: 'Same rules as the socket command listing:create; Idempotency-Key works like requestId.',
        security: [{ bearer: [] }],
        headers: idempotencyHeaders,
        body: createListingBody,
        response: { 201: listingSchema, ...errors(400, 401, 409, 422, 429, 503) },
      },
    },
    async (req, reply) => {
      const listing = await market.createListing(
        { id: req.userId, name: req.displayName },
        req.body,
        req.headers['idempotency-key'],
      );
      return reply.status(201).send(listing);
    },
  );

  app.delete(
    '/listings/:id',
    {
      schema: {
        tags: ['listings'],
        summary: 'Cancel your listing; its open swaps are voided',
        security: [{ bearer: [] }],
        headers: idempotencyHeaders,
        params: idParams,
        response: { 200: listingSchema, ...errors(400, 401, 403, 404, 409, 429, 503) },
      },
    },
    async (req) => market.cancelListing(req.userId, req.params.id, req.headers['idempotency-key']),
  );
};
