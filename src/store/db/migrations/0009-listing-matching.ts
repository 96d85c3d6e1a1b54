import type { MigrationContext } from '../migrate.js';

/**
 * Active listings by market and price (PROTOCOL-MARKET.md, "Market data and matching"): the best
 * supply and demand prices of the summary read one end of it, a listing's matches read each
 * tradable zone's best prices from it, and a new listing finds the listings it crosses by a range
 * on it. Partial, like the gate's index: closed listings, most of the table in time, stay out.
 */
export async function up({ context: { run } }: { context: MigrationContext }): Promise<void> {
  await run(`
    CREATE INDEX listings_price_idx ON listings (zone, energy_type, side, price_e4) WHERE status = 'active';
  `);
}
