import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import type { Sequelize } from 'sequelize';
import { z } from 'zod';
import { rankMatches, tradableZones } from '../domain/energy/matching.js';
import { roundHalfEven } from '../domain/energy/money.js';
import { tapeView } from '../domain/energy/tape.js';
import type { MarketProfile } from '../domain/energy/zones.js';
import { HubError } from '../domain/errors.js';
import { ENERGY_TYPES, listingView } from '../domain/listing.js';
import { formatKwh, formatPrice } from '../domain/quantity.js';
import { timeInput, zoneInput } from '../domain/schemas.js';
import { findListing, findMatchCandidates } from '../store/reads/listing-queries.js';
import { findCandles, findSummary, findTape } from '../store/reads/tape-queries.js';
import {
  cursorParam,
  errors,
  idParams,
  listingSchema,
  nextTimeCursor,
  page,
  queryInt,
  timeCursor,
} from './schemas.js';

/** Longest window of a tape query: 31 days (and the hour a clock change adds). */
const MAX_WINDOW_MS = 31 * 86_400_000 + 3_600_000;

const tapeQuery = z
  .strictObject({
    zone: zoneInput.optional(),
    energyType: z.enum(ENERGY_TYPES).optional(),
    from: timeInput.optional(),
    to: timeInput.optional(),
    limit: queryInt(1, 100, 50),
    cursor: cursorParam.optional(),
  })
  .superRefine(({ from, to }, ctx) => {
    if (!from || !to) return;
    const span = to.getTime() - from.getTime();
    if (span <= 0) ctx.addIssue({ code: 'custom', path: ['to'], message: 'must be after from' });
    else if (span > MAX_WINDOW_MS)
      ctx.addIssue({ code: 'custom', path: ['to'], message: 'must be at most 31 days after from' });
  });

const tapeSchema = z
  .object({
    id: z.uuid().meta({ description: "the tape's own id: not a swap's, a listing's or anyone's" }),
    zone: z.string(),
    energyType: z.string(),
    deliveryStart: z.iso.datetime(),
    deliveryEnd: z.iso.datetime(),
    volumeKwh: z.string(),
    pricePerKwh: z.string(),
    at: z.iso.datetime(),
  })
  .meta({ id: 'TapeTrade' });

/**
 * /api/v1/market: the market's data for everyone signed in (PROTOCOL-MARKET.md, "Market data and
 * matching"). The public tape: every trade, anonymized, newest first.
 */
/** Candle intervals, their minutes, and the longest window of each (a week of 15-minute candles). */
const INTERVALS = {
  '15m': { minutes: 15, maxDays: 7 },
  '1h': { minutes: 60, maxDays: 31 },
  '1d': { minutes: 1440, maxDays: 366 },
};

const candleQuery = z
  .strictObject({
    zone: zoneInput,
    energyType: z.enum(ENERGY_TYPES),
    interval: z.enum(['15m', '1h', '1d']),
    from: timeInput,
    to: timeInput,
  })
  .superRefine(({ from, to, interval }, ctx) => {
    const span = to.getTime() - from.getTime();
    const { maxDays } = INTERVALS[interval];
    if (span <= 0) ctx.addIssue({ code: 'custom', path: ['to'], message: 'must be after from' });
    else if (span > maxDays * 86_400_000 + 3_600_000)
      ctx.addIssue({
        code: 'custom',
        path: ['to'],
        message: `must be at most ${maxDays} days after from for ${interval} candles`,
      });
  });

const candleSchema = z
  .object({
    start: z.iso.datetime(),
    open: z.string(),
    high: z.string(),
    low: z.string(),
    close: z.string(),
    volume: z.string().meta({ description: 'kWh traded in the candle' }),
  })
  .meta({ id: 'Candle' });

const summaryQuery = z.strictObject({
  zone: zoneInput.optional(),
  energyType: z.enum(ENERGY_TYPES).optional(),
});

const summarySchema = z
  .object({
    zone: z.string(),
    energyType: z.string(),
    lastPrice: z.string().nullable(),
    vwap24h: z.string().nullable(),
    volume24hKwh: z.string(),
    trades24h: z.number().int(),
    bestSupplyPrice: z.string().nullable(),
    bestDemandPrice: z.string().nullable(),
  })
  .meta({ id: 'MarketSummary' });

const QUARTER_MS = 900_000;

const matchQuery = z.strictObject({ limit: queryInt(1, 50, 20) });

const matchSchema = listingSchema
  .extend({
    landedPricePerKwh: z.string().meta({
      description:
        "the price per kWh the listing's owner would land at with this match, fees included, rounded half-to-even to 4 decimals",
    }),
  })
  .meta({ id: 'ListingMatch' });

export const marketRoutes: FastifyPluginAsyncZod<{ sequelize: Sequelize; profile: MarketProfile }> = async (
  app,
  { sequelize, profile },
) => {
  app.get(
    '/market/summary',
    {
      schema: {
        tags: ['market'],
        summary:
          'Per zone and energy type: the last price, the 24-hour VWAP, volume and trades, the best supply and demand',
        description:
          'The 24 hours are those of the 15-minute buckets of trade time from the one 24 hours ago to the current one. ' +
          'A market with no trade and no active listing is left out.',
        security: [{ bearer: [] }],
        querystring: summaryQuery,
        response: { 200: z.object({ items: z.array(summarySchema) }), ...errors(400, 401, 503) },
      },
    },
    async (req) => {
      const zone = req.query.zone === undefined ? undefined : profile.zone(req.query.zone);
      if (req.query.zone !== undefined && !zone) return { items: [] };
      const zones = zone ? [zone.id] : profile.zones.map((z) => z.id);
      const types = req.query.energyType ? [req.query.energyType] : [...ENERGY_TYPES];
      const markets = zones.flatMap((z) => types.map((energyType) => ({ zone: z, energyType })));
      const since = new Date(Math.floor((Date.now() - 86_400_000) / QUARTER_MS) * QUARTER_MS);
      const rows = await findSummary(sequelize, markets, since);
      return {
        items: rows
          .filter((r) => r.last !== null || r.best_supply !== null || r.best_demand !== null)
          .map((r) => {
            const volume = BigInt(r.volume);
            return {
              zone: r.zone,
              energyType: r.energy_type,
              lastPrice: r.last === null ? null : formatPrice(BigInt(r.last)),
              // the notional is exact (Wh x price e4): its ratio to the volume, rounded half-to-even
              vwap24h: volume === 0n ? null : formatPrice(roundHalfEven(BigInt(r.notional), volume)),
              volume24hKwh: formatKwh(volume),
              trades24h: Number(r.trades),
              bestSupplyPrice: r.best_supply === null ? null : formatPrice(BigInt(r.best_supply)),
              bestDemandPrice: r.best_demand === null ? null : formatPrice(BigInt(r.best_demand)),
            };
          }),
      };
    },
  );

  app.get(
    '/market/candles',
    {
      schema: {
        tags: ['market'],
        summary:
          "A market's candles of 15 minutes, an hour or a day of trade time, aligned to UTC; empty ones left out",
        description:
          'Every candle that overlaps [from, to), whole: a `from` or `to` inside a candle does not cut it. At most 7 days of 15m, 31 days of 1h, 366 days of 1d candles.',
        security: [{ bearer: [] }],
        querystring: candleQuery,
        response: { 200: z.object({ items: z.array(candleSchema) }), ...errors(400, 401, 503) },
      },
    },
    async (req) => {
      const q = req.query;
      const rows = await findCandles(sequelize, {
        ...q,
        zone: profile.zoneId(q.zone),
        minutes: INTERVALS[q.interval].minutes,
      });
      return {
        items: rows.map((r) => ({
          start: new Date(r.start).toISOString(),
          open: formatPrice(BigInt(r.open)),
          high: formatPrice(BigInt(r.high)),
          low: formatPrice(BigInt(r.low)),
          close: formatPrice(BigInt(r.close)),
          volume: formatKwh(BigInt(r.volume)),
        })),
      };
    },
  );

  app.get(
    '/market/trades',
    {
      schema: {
        tags: ['market'],
        summary: 'The public tape: every trade, newest first, with no party, meter, listing or swap id',
        description: '`from` and `to` (the trades accepted in [from, to)) at most 31 days apart.',
        security: [{ bearer: [] }],
        querystring: tapeQuery,
        response: { 200: page(tapeSchema), ...errors(400, 401, 503) },
      },
    },
    async (req) => {
      const q = req.query;
      const { items, more } = await findTape(sequelize, {
        zone: q.zone === undefined ? undefined : profile.zoneId(q.zone),
        energyType: q.energyType,
        from: q.from,
        to: q.to,
        limit: q.limit,
        after: timeCursor(q.cursor),
      });
      const last = items.at(-1);
      return { items: items.map(tapeView), nextCursor: nextTimeCursor(more, last) };
    },
  );

  app.get(
    '/listings/:id/matches',
    {
      schema: {
        tags: ['market'],
        summary: 'Listings that could trade with this one, best landed price for its owner first',
        description:
          'Active listings of the other side and the same energy type, before their gate, overlapping the ' +
          "delivery window, in the listing's zone or a zone linked by inter-zone wheeling the way the energy " +
          "would flow; ranked by the price the listing's owner would land at, fees included (lowest first for " +
          'a demand, highest first for a supply), then the older. None for a listing that is no longer tradable.',
        security: [{ bearer: [] }],
        params: idParams,
        querystring: matchQuery,
        response: { 200: z.object({ items: z.array(matchSchema) }), ...errors(400, 401, 404, 503) },
      },
    },
    async (req) => {
      const listing = await findListing(sequelize, req.params.id);
      if (!listing) throw new HubError('NOT_FOUND', 'No such listing');
      const now = new Date();
      if (listing.status !== 'active' || listing.meterId === null || listing.gateClosesAt <= now)
        return { items: [] };
      const zones = tradableZones(profile, listing.zone, listing.side);
      const limit = req.query.limit;
      const candidates = await findMatchCandidates(sequelize, listing, zones, now, limit);
      return {
        items: rankMatches(profile, listing, candidates, limit).map((m) => ({
          ...listingView(m.listing, req.userId),
          landedPricePerKwh: formatPrice(m.landedE4),
        })),
      };
    },
  );
};
