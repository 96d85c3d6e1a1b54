import type { MigrationContext } from '../migrate.js';

/**
 * The public tape (PROTOCOL-MARKET.md, "Market data and matching"): one row per trade, written in
 * the accept's transaction, with its own id (a random UUID, so nothing on the tape leads back to a
 * swap, a listing, a meter or a party) and only what the market may see. Newest first, overall or
 * by zone and energy type. Trades accepted before this migration are put on the tape too.
 */
export async function up({ context: { run } }: { context: MigrationContext }): Promise<void> {
  await run(`
    CREATE TABLE market_trades (
      id             uuid PRIMARY KEY,
      zone           text NOT NULL,
      energy_type    text NOT NULL,
      delivery_start timestamptz NOT NULL,
      delivery_end   timestamptz NOT NULL,
      volume_wh      bigint NOT NULL CHECK (volume_wh > 0),
      price_e4       bigint NOT NULL CHECK (price_e4 >= 0),
      at             timestamptz NOT NULL
    );
    CREATE INDEX market_trades_at_idx ON market_trades (at DESC, id DESC);
    CREATE INDEX market_trades_market_idx ON market_trades (zone, energy_type, at DESC, id DESC);

    INSERT INTO market_trades (id, zone, energy_type, delivery_start, delivery_end, volume_wh, price_e4, at)
      SELECT gen_random_uuid(), l.zone, l.energy_type, l.delivery_start, l.delivery_end, s.volume_wh, s.price_e4,
        coalesce(s.accepted_at, s.updated_at)
      FROM swaps s JOIN listings l ON l.id = s.listing_id WHERE s.status = 'accepted';
  `);
}
