import type { MigrationContext } from '../migrate.js';

/**
 * The public tape of one energy type in every zone (`GET /api/v1/market/trades?energyType=`),
 * newest first, as one index range. Without it the query walked `market_trades_at_idx` from the
 * newest trade and read each row to test its type: a type seldom traded, or not at all, read the
 * whole tape for one page. (A zone alone needs none: the planner takes `market_trades_at_idx` for a
 * busy zone and `market_trades_market_idx` for a quiet one.)
 * Built inside the migration's transaction (not CONCURRENTLY, which cannot run in one): accepts
 * wait while it builds, 0.8 s for a tape of 1,000,000 trades on the benchmarks' box.
 */
export async function up({ context: { run } }: { context: MigrationContext }): Promise<void> {
  await run(`CREATE INDEX market_trades_type_idx ON market_trades (energy_type, at DESC, id DESC)`);
}
