import type { MigrationContext } from '../migrate.js';

/**
 * The tape's 15-minute rollup (docs/decisions.md, "Candles"): per zone, energy type, 15-minute
 * bucket of trade time and shard, the trades, volume, notional, high and low, and the first and
 * last trade (time, tape id, price). Raised in each accept's transaction, in the shard of the
 * listing (a listing's accepts are serial already; different listings spread over 8 shards, so the
 * rollup does not serialise accepts of one market). Candles of 15 minutes, an hour and a day are
 * sums of its rows, whatever the history's size. Trades already on the tape are rolled up here.
 */
export async function up({ context: { run } }: { context: MigrationContext }): Promise<void> {
  await run(`
    CREATE TABLE market_candles (
      zone         text NOT NULL,
      energy_type  text NOT NULL,
      bucket_start timestamptz NOT NULL,
      shard        smallint NOT NULL CHECK (shard BETWEEN 0 AND 7),
      trades       integer NOT NULL,
      volume_wh    bigint NOT NULL,
      notional_e7  numeric NOT NULL,
      high_e4      bigint NOT NULL,
      low_e4       bigint NOT NULL,
      open_at      timestamptz NOT NULL,
      open_id      uuid NOT NULL,
      open_e4      bigint NOT NULL,
      close_at     timestamptz NOT NULL,
      close_id     uuid NOT NULL,
      close_e4     bigint NOT NULL,
      PRIMARY KEY (zone, energy_type, bucket_start, shard)
    );

    INSERT INTO market_candles
      SELECT zone, energy_type, date_bin('15 minutes', at, TIMESTAMPTZ '2000-01-01 00:00:00+00') AS b, 0,
        count(*), sum(volume_wh), sum(volume_wh::numeric * price_e4), max(price_e4), min(price_e4),
        min(at), (array_agg(id ORDER BY at, id))[1], (array_agg(price_e4 ORDER BY at, id))[1],
        max(at), (array_agg(id ORDER BY at DESC, id DESC))[1], (array_agg(price_e4 ORDER BY at DESC, id DESC))[1]
      FROM market_trades GROUP BY zone, energy_type, b;
  `);
}
