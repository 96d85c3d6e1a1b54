import { type Attributes, Op, QueryTypes, type Sequelize, type WhereOptions } from 'sequelize';
import type { TapeEntry } from '../../domain/energy/tape.js';
import { type MarketTradeModel, models } from '../models/models.js';
import { keysetBefore, keysetPage } from './keyset.js';

export interface TapeFilter {
  zone?: string;
  energyType?: string;
  from?: Date;
  to?: Date;
  limit: number;
  after?: { at: Date; id: string };
}

/** The public tape, newest first, one page: one statement over market_trades' indexes. */
export async function findTape(
  sequelize: Sequelize,
  f: TapeFilter,
): Promise<{ items: TapeEntry[]; more: boolean }> {
  const { MarketTrade } = models(sequelize);
  const where: WhereOptions<MarketTradeModel>[] = [];
  if (f.zone) where.push({ zone: f.zone });
  if (f.energyType) where.push({ energyType: f.energyType });
  if (f.from) where.push({ at: { [Op.gte]: f.from } });
  if (f.to) where.push({ at: { [Op.lt]: f.to } });
  if (f.after) where.push(keysetBefore(sequelize, 'at', f.after.at, f.after.id, 'MarketTrade'));
  const { rows, more } = await keysetPage<Attributes<MarketTradeModel>>(MarketTrade, {
    where,
    orderBy: 'at',
    limit: f.limit,
  });
  return {
    items: rows.map((r) => ({
      id: r.id,
      zone: r.zone,
      energyType: r.energyType,
      deliveryStart: new Date(r.deliveryStart),
      deliveryEnd: new Date(r.deliveryEnd),
      volumeWh: BigInt(r.volumeWh),
      priceE4: BigInt(r.priceE4),
      at: new Date(r.at),
    })),
    more,
  };
}

/** One candle, prices in ten-thousandths and volume in Wh, as decimal text. */
export interface CandleRow {
  start: Date;
  open: string;
  high: string;
  low: string;
  close: string;
  volume: string;
}

/**
 * The candles of a zone and energy type that overlap `[from, to)`, each whole (a `from` or `to` inside
 * a candle does not cut it), in buckets of `minutes` aligned to UTC (15, 60 or 1440), from the 15-minute rollup: its shards and buckets summed, the first and last
 * trade of the candle picked by their time and tape id. Empty buckets are left out.
 */
export function findCandles(
  sequelize: Sequelize,
  q: { zone: string; energyType: string; minutes: number; from: Date; to: Date },
): Promise<CandleRow[]> {
  return sequelize.query<CandleRow>(
    `SELECT date_bin($3 * interval '1 minute', bucket_start, TIMESTAMPTZ '2000-01-01 00:00:00+00') AS start,
       (array_agg(open_e4 ORDER BY open_at, open_id))[1]::text AS open, max(high_e4)::text AS high,
       min(low_e4)::text AS low, (array_agg(close_e4 ORDER BY close_at DESC, close_id DESC))[1]::text AS close,
       sum(volume_wh)::text AS volume
     FROM market_candles
     WHERE zone = $1 AND energy_type = $2
       AND bucket_start >= date_bin($3 * interval '1 minute', $4::timestamptz, TIMESTAMPTZ '2000-01-01 00:00:00+00')
       AND bucket_start < date_bin($3 * interval '1 minute', $5::timestamptz - interval '1 microsecond',
         TIMESTAMPTZ '2000-01-01 00:00:00+00') + $3 * interval '1 minute'
     GROUP BY 1 ORDER BY 1`,
    { bind: [q.zone, q.energyType, q.minutes, q.from, q.to], type: QueryTypes.SELECT },
  );
}

/** One market's summary, prices in ten-thousandths and amounts as decimal text (null: none). */
export interface SummaryRow {
  zone: string;
  energy_type: string;
  last: string | null;
  volume: string;
  notional: string;
  trades: string;
  best_supply: string | null;
  best_demand: string | null;
}

/**
 * The summary of each market of `markets` (zone and energy type pairs): its last trade's price
 * (the tape's newest), the volume, notional and trades of the rollup's buckets since `since`, and
 * the best active supply and demand prices. One statement; each market reads one tape row by
 * index, at most 97 x 8 rollup rows, and its active listings.
 */
export function findSummary(
  sequelize: Sequelize,
  markets: { zone: string; energyType: string }[],
  since: Date,
): Promise<SummaryRow[]> {
  return sequelize.query<SummaryRow>(
    `SELECT m.zone, m.energy_type,
       (SELECT t.price_e4 FROM market_trades t WHERE t.zone = m.zone AND t.energy_type = m.energy_type
        ORDER BY t.at DESC, t.id DESC LIMIT 1)::text AS last,
       c.volume, c.notional, c.trades,
       (SELECT min(l.price_e4) FROM listings l WHERE l.status = 'active' AND l.side = 'supply'
          AND l.zone = m.zone AND l.energy_type = m.energy_type)::text AS best_supply,
       (SELECT max(l.price_e4) FROM listings l WHERE l.status = 'active' AND l.side = 'demand'
          AND l.zone = m.zone AND l.energy_type = m.energy_type)::text AS best_demand
     FROM unnest($1::text[], $2::text[]) AS m(zone, energy_type)
     CROSS JOIN LATERAL (
       SELECT coalesce(sum(volume_wh), 0)::text AS volume, coalesce(sum(notional_e7), 0)::text AS notional,
         coalesce(sum(trades), 0)::text AS trades
       FROM market_candles k WHERE k.zone = m.zone AND k.energy_type = m.energy_type AND k.bucket_start >= $3) c
     ORDER BY m.zone, m.energy_type`,
    {
      bind: [markets.map((m) => m.zone), markets.map((m) => m.energyType), since],
      type: QueryTypes.SELECT,
    },
  );
}
