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
 * The candles of a zone and energy type over `[from, to)` in buckets of `minutes` aligned to UTC
 * (15, 60 or 1440), from the 15-minute rollup: its shards and buckets summed, the first and last
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
       AND bucket_start < $5
     GROUP BY 1 ORDER BY 1`,
    { bind: [q.zone, q.energyType, q.minutes, q.from, q.to], type: QueryTypes.SELECT },
  );
}
