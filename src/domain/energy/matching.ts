// Matching (PROTOCOL-MARKET.md, "Market data and matching"): which listings could trade with a
// listing, in what order its owner sees them, and which existing listings a new one crosses.
import type { Listing, Side } from '../listing.js';
import { landedExact, landedPriceE4 } from './fees.js';
import { feeSchedule } from './trading.js';
import type { MarketProfile } from './zones.js';

/** Most `listing.matched` events one new listing sends: the owners of the best-crossing listings first. */
export const MAX_MATCH_NOTICES = 1000;

export const otherSide = (side: Side): Side => (side === 'supply' ? 'demand' : 'supply');

/**
 * The zones whose listings of the other side a listing in `zoneId` on `side` can trade with: its
 * own, and each zone on the same slot grid with inter-zone wheeling the way the energy would flow
 * (the seller's zone to the buyer's), as `swap:propose` checks it. None for a zone no longer
 * configured.
 */
export function tradableZones(market: MarketProfile, zoneId: string, side: Side): string[] {
  const own = market.zone(zoneId);
  if (!own) return [];
  const zones = [own.id];
  for (const z of market.zones) {
    if (z.id === own.id || z.slotMinutes !== own.slotMinutes) continue;
    const [from, to] = side === 'supply' ? [own.id, z.id] : [z.id, own.id];
    if (market.wheeling(from, to) !== undefined) zones.push(z.id);
  }
  return zones;
}

/** An advisory lock a command takes, shared or not. */
export interface AdvisoryLock {
  name: string;
  shared: boolean;
}

/**
 * The advisory lock every listing creation of an energy type takes before it looks for the
 * listings it crosses: of a supply and a demand created at once, the second to take it sees the
 * first committed, so the first's owner hears of the second (docs/decisions.md, "Matching").
 * Supplies take it shared and demands alone: a supply and a demand never hold it together, while
 * supplies (which never cross each other) never wait for each other.
 */
export const matchLock = (energyType: string, side: Side): AdvisoryLock => ({
  name: `listing-match:${energyType}`,
  shared: side === 'supply',
});

/** A listing suggested to the owner of another, with the price they would land at. */
export interface Match {
  listing: Listing;
  /** per kWh, fees included, rounded to the price's scale */
  landedE4: bigint;
}

/**
 * `candidates` (listings of the other side in tradable zones) ranked for the owner of `listing`:
 * best landed price first (the lowest a buyer pays, the highest a seller keeps; compared exactly),
 * then the older listing, then the id; at most `limit`.
 */
export function rankMatches(
  market: MarketProfile,
  listing: Listing,
  candidates: Listing[],
  limit: number,
): Match[] {
  const buyer = listing.side === 'demand';
  const ranked = candidates.map((c) => {
    const schedule = buyer
      ? feeSchedule(market, c.zone, listing.zone)
      : feeSchedule(market, listing.zone, c.zone);
    return { listing: c, exact: landedExact(schedule, c.priceE4, buyer ? 'buyer' : 'seller') };
  });
  ranked.sort((a, b) => {
    if (a.exact !== b.exact) return a.exact < b.exact === buyer ? -1 : 1;
    const t = a.listing.createdAt.getTime() - b.listing.createdAt.getTime();
    if (t !== 0) return t;
    return a.listing.id < b.listing.id ? -1 : a.listing.id > b.listing.id ? 1 : 0;
  });
  return ranked.slice(0, limit).map((r) => ({ listing: r.listing, landedE4: landedPriceE4(r.exact) }));
}

/**
 * Whether `existing` is a listing whose owner hears of the new `listing` (`listing.matched`): active
 * and tradable (before its gate, volume left, a meter), of another owner, the other side and the
 * same energy type, in one of `zones`, overlapping the delivery window, and its price crossing
 * (supply at or below demand). ListingRepo.notifyMatches asks the same in SQL.
 */
export function crosses(listing: Listing, existing: Listing, zones: string[], now: Date): boolean {
  const e = existing;
  if (e.status !== 'active' || e.gateClosesAt <= now || e.availableWh <= 0n || e.meterId === null)
    return false;
  if (
    e.ownerId === listing.ownerId ||
    e.side !== otherSide(listing.side) ||
    e.energyType !== listing.energyType
  ) {
    return false;
  }
  if (!zones.includes(e.zone)) return false;
  if (e.deliveryStart >= listing.deliveryEnd || e.deliveryEnd <= listing.deliveryStart) return false;
  return listing.side === 'supply' ? e.priceE4 >= listing.priceE4 : e.priceE4 <= listing.priceE4;
}
