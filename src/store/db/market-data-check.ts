import { QueryTypes, type Sequelize } from 'sequelize';
import type { MarketProfile } from '../../domain/energy/zones.js';
import { StartupError } from './database.js';

/**
 * Refuses a market configuration that would re-grid what is still to be delivered: a zone whose
 * `slotMinutes` differs from the grid of its active listings, or of open swaps and trades of its
 * meters whose delivery has not ended or that are not yet settled. The per-slot limits and the
 * settlement are held per slot start; a listing
 * keeps the grid it was posted on, and trades on two grids in one zone would be counted apart, so
 * a zone's slot length can change only once its market on the old grid is delivered. Other
 * changes (fees, lead, step, tick, bounds, capFactor) apply to what comes next.
 */
export async function checkMarketAgainstData(sequelize: Sequelize, profile: MarketProfile): Promise<void> {
  const rows = await sequelize.query<{ zone: string; slot_minutes: number; n: number }>(
    `SELECT zone, slot_minutes, count(*)::int AS n FROM (
       SELECT l.zone, l.slot_minutes FROM listings l WHERE l.status = 'active' AND l.slot_minutes IS NOT NULL
       UNION ALL
       SELECT m.zone, l.slot_minutes FROM swaps s JOIN listings l ON l.id = s.listing_id
         JOIN meters m ON m.id = s.seller_meter_id OR m.id = s.buyer_meter_id
       WHERE l.slot_minutes IS NOT NULL AND (
         (s.status IN ('open', 'accepted') AND l.delivery_end > now())
         OR EXISTS (SELECT 1 FROM trade_slots ts WHERE ts.swap_id = s.id AND ts.status = 'confirmed'))
     ) live GROUP BY zone, slot_minutes ORDER BY zone, slot_minutes`,
    { type: QueryTypes.SELECT },
  );
  for (const r of rows) {
    const zone = profile.zone(r.zone);
    if (zone && zone.slotMinutes !== r.slot_minutes) {
      throw new StartupError(
        `MARKET_CONFIG: zone ${zone.id} has slotMinutes ${zone.slotMinutes}, but ${r.n} of its listings, swaps or ` +
          `trades still to be delivered are on its ${r.slot_minutes}-minute grid; keep ${r.slot_minutes} until ` +
          'they are delivered',
      );
    }
  }
}
