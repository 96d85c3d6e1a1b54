import type { SlotShare } from '../../domain/energy/slots.js';
import type { TapeEntry } from '../../domain/energy/tape.js';
import type { TradeRepo } from '../../domain/unit-of-work.js';
import type { CommandStatements } from './command-statements.js';

/** The insert of an accepted trade's slots, as a pending write (one statement whatever the slot count). */
export const writeTradeSlots = (statements: CommandStatements, swapId: string, shares: SlotShare[]) =>
  statements.write(
    `trade_slots:${swapId}`,
    `INSERT INTO trade_slots (swap_id, slot_start, volume_wh)
     SELECT $1, s, v FROM unnest($2::timestamptz[], $3::bigint[]) AS x(s, v)`,
    [swapId, shares.map((s) => s.start.toISOString()), shares.map((s) => s.wh.toString())],
  );

/** The rollup's shards: a listing's accepts share one, different listings spread over all. */
const SHARDS = 8;
const shardOf = (listingId: string): number => Number.parseInt(listingId.slice(0, 2), 16) % SHARDS;

/** The 15-minute bucket of trade time `at` (UTC), as `date_bin` aligns it. */
const bucketOf = (at: Date): Date => new Date(Math.floor(at.getTime() / 900_000) * 900_000);

/**
 * A trade added to its 15-minute candle row (in its shard): one upsert. Two trades of one row in a
 * transaction (a group commit) go out in two statements, as CommandStatements does for one row.
 */
const writeCandle = (statements: CommandStatements, e: TapeEntry, shard: number) => {
  const bucket = bucketOf(e.at);
  return statements.write(
    `market_candles:${e.zone}:${e.energyType}:${bucket.getTime()}:${shard}`,
    `INSERT INTO market_candles AS c (zone, energy_type, bucket_start, shard, trades, volume_wh, notional_e7, high_e4,
       low_e4, open_at, open_id, open_e4, close_at, close_id, close_e4)
     VALUES ($1, $2, $3::timestamptz, $4::smallint, 1, $5::bigint, $5::numeric * $6::bigint, $6::bigint, $6::bigint,
       $7::timestamptz, $8::uuid, $6::bigint, $7::timestamptz, $8::uuid, $6::bigint)
     ON CONFLICT (zone, energy_type, bucket_start, shard) DO UPDATE SET
       trades = c.trades + 1, volume_wh = c.volume_wh + EXCLUDED.volume_wh,
       notional_e7 = c.notional_e7 + EXCLUDED.notional_e7,
       high_e4 = GREATEST(c.high_e4, EXCLUDED.high_e4), low_e4 = LEAST(c.low_e4, EXCLUDED.low_e4),
       open_at = CASE WHEN (EXCLUDED.open_at, EXCLUDED.open_id) < (c.open_at, c.open_id) THEN EXCLUDED.open_at ELSE c.open_at END,
       open_id = CASE WHEN (EXCLUDED.open_at, EXCLUDED.open_id) < (c.open_at, c.open_id) THEN EXCLUDED.open_id ELSE c.open_id END,
       open_e4 = CASE WHEN (EXCLUDED.open_at, EXCLUDED.open_id) < (c.open_at, c.open_id) THEN EXCLUDED.open_e4 ELSE c.open_e4 END,
       close_at = CASE WHEN (EXCLUDED.close_at, EXCLUDED.close_id) > (c.close_at, c.close_id) THEN EXCLUDED.close_at ELSE c.close_at END,
       close_id = CASE WHEN (EXCLUDED.close_at, EXCLUDED.close_id) > (c.close_at, c.close_id) THEN EXCLUDED.close_id ELSE c.close_id END,
       close_e4 = CASE WHEN (EXCLUDED.close_at, EXCLUDED.close_id) > (c.close_at, c.close_id) THEN EXCLUDED.close_e4 ELSE c.close_e4 END`,
    [e.zone, e.energyType, bucket, shard, e.volumeWh.toString(), e.priceE4.toString(), e.at, e.id],
  );
};

/** The trades of one command. */
export const tradeRepo = (statements: CommandStatements): TradeRepo => ({
  insertSlots: (swapId, shares) => writeTradeSlots(statements, swapId, shares),
  async insertTape(e, listingId) {
    await statements.write(
      `market_trades:${e.id}`,
      `INSERT INTO market_trades (id, zone, energy_type, delivery_start, delivery_end, volume_wh, price_e4, at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
      [
        e.id,
        e.zone,
        e.energyType,
        e.deliveryStart,
        e.deliveryEnd,
        e.volumeWh.toString(),
        e.priceE4.toString(),
        e.at,
      ],
    );
    await writeCandle(statements, e, shardOf(listingId));
  },
});
