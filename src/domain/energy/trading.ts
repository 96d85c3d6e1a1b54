// The energy market's rules on listings and swaps (PROTOCOL-MARKET.md, "Zones", "Meters and trading
// limits", "Fees"): the zone's grid, step, tick and bounds; the meter a party names; the per-slot
// limits; the fees of a swap's terms. Pure: the commands read and lock what these rules look at.
import { HubError } from '../errors.js';
import { formatKwh, formatPrice, formatUnits, KWH_SCALE, PRICE_SCALE } from '../quantity.js';
import { type Issue, validationFailed } from '../validation.js';
import { computeFees, type FeesView, feesView } from './fees.js';
import { type Meter, slotLimitWh } from './meters.js';
import type { SlotShare } from './slots.js';
import type { MarketProfile, Zone, ZoneFees } from './zones.js';

/** Which way energy flows at a meter in a trade: the seller's meter exports, the buyer's imports. */
export type Direction = 'export' | 'import';

/** A meter and the direction of its part in a trade. */
export interface MeterUse {
  meterId: string;
  direction: Direction;
}

/** The key of one meter's contracted volume in one slot and direction. */
export const slotKey = (meterId: string, direction: Direction, start: Date): string =>
  `${meterId}/${direction}/${start.getTime()}`;

/** The zone of `id` in the market, or INVALID_STATE when the configuration no longer has it. */
export function marketZone(market: MarketProfile, id: string): Zone {
  const zone = market.zone(id);
  if (!zone) {
    throw new HubError('INVALID_STATE', `The zone ${id} is not in the market any more`, { zone: id });
  }
  return zone;
}

/**
 * A volume and a price by the zone's rules: the volume a multiple of its step, the price a multiple
 * of its tick within its bounds. The issues name `volumePath` and `pricePath`.
 */
export function termIssues(
  zone: Zone,
  terms: { volumeWh?: bigint; priceE4?: bigint },
  paths = { volume: 'volumeKwh', price: 'pricePerKwh' },
): Issue[] {
  const issues: Issue[] = [];
  const { volumeWh, priceE4 } = terms;
  if (volumeWh !== undefined && volumeWh % zone.minStepWh !== 0n) {
    issues.push({
      path: paths.volume,
      message: `must be a multiple of ${formatUnits(zone.minStepWh, KWH_SCALE)} kWh (the step of zone ${zone.id})`,
    });
  }
  if (priceE4 !== undefined) {
    if (priceE4 % zone.priceTickE4 !== 0n) {
      issues.push({
        path: paths.price,
        message: `must be a multiple of ${formatUnits(zone.priceTickE4, PRICE_SCALE)} (the tick of zone ${zone.id})`,
      });
    } else if (priceE4 < zone.minPriceE4 || priceE4 > zone.maxPriceE4) {
      issues.push({
        path: paths.price,
        message: `must be from ${formatPrice(zone.minPriceE4)} to ${formatPrice(zone.maxPriceE4)} (the bounds of zone ${zone.id})`,
      });
    }
  }
  return issues;
}

/** Throws VALIDATION_FAILED with `termIssues`, if any. */
export function checkTerms(zone: Zone, terms: { volumeWh?: bigint; priceE4?: bigint }): void {
  const issues = termIssues(zone, terms);
  if (issues.length) throw validationFailed(issues);
}

/**
 * The meter `ownerId` names in a listing or proposal: theirs and active, or VALIDATION_FAILED at
 * `meterId` (a stranger's meter reads as one that does not exist).
 */
export function ownActiveMeter(meter: Meter | undefined, ownerId: string): Meter {
  if (!meter || meter.ownerId !== ownerId) {
    throw validationFailed([{ path: 'meterId', message: 'must be one of your meters (GET /api/v1/meters)' }]);
  }
  if (meter.status !== 'active') {
    throw validationFailed([{ path: 'meterId', message: 'must be an active meter; this one is retired' }]);
  }
  return meter;
}

/**
 * The zone of an active meter named in a listing or proposal: a meter whose zone the market no
 * longer has (the hub restarted with another MARKET_CONFIG) cannot trade: VALIDATION_FAILED at
 * `meterId`, as the contract has a zone not in the configuration.
 */
export function meterZone(market: MarketProfile, meter: Meter): Zone {
  const zone = market.zone(meter.zone);
  if (zone) return zone;
  throw validationFailed([
    {
      path: 'meterId',
      message: `must be a meter of a zone of the market; zone ${meter.zone} is no longer one`,
    },
  ]);
}

/** The grid a limit is held on: the listing's slot length, the meter's zone's cap factor. */
export interface LimitGrid {
  slotMinutes: number;
  capFactorE4: bigint;
}

/** A meter's limit in one slot of `grid` for one direction, in Wh. */
export const limitOf = (meter: Meter, grid: LimitGrid, direction: Direction): bigint =>
  slotLimitWh(direction === 'export' ? meter.exportCapacityW : meter.importCapacityW, grid);

function limitExceeded(
  meter: Meter,
  direction: Direction,
  slot: SlotShare,
  limitWh: bigint,
  contractedWh: bigint,
): HubError {
  return new HubError(
    'LIMIT_EXCEEDED',
    `The ${direction} of meter ${meter.externalId} in the slot at ${slot.start.toISOString()} would exceed its limit ` +
      `of ${formatKwh(limitWh)} kWh`,
    {
      meterId: meter.id,
      direction,
      slotStart: slot.start.toISOString(),
      limitKwh: formatKwh(limitWh),
      contractedKwh: formatKwh(contractedWh),
      requestedKwh: formatKwh(slot.wh),
    },
  );
}

/**
 * A listing, proposal or counter whose own slot share alone exceeds its meter's limit could never
 * be accepted: LIMIT_EXCEEDED at once (the first slot holds the largest share of a flat split).
 */
export function checkOwnShare(
  meter: Meter,
  grid: LimitGrid,
  direction: Direction,
  shares: SlotShare[],
): void {
  const limitWh = limitOf(meter, grid, direction);
  const over = shares.find((s) => s.wh > limitWh);
  if (over) throw limitExceeded(meter, direction, over, limitWh, 0n);
}

/**
 * The contracted volumes after a trade's `shares` are added to a meter's, each slot within its
 * limit, or LIMIT_EXCEEDED naming the first slot over it. `contracted` gives what the meter has in
 * a slot now (locked by the caller).
 */
export function reserveShares(
  meter: Meter,
  grid: LimitGrid,
  direction: Direction,
  shares: SlotShare[],
  contracted: (start: Date) => bigint,
): SlotShare[] {
  const limitWh = limitOf(meter, grid, direction);
  return shares.map((share) => {
    const now = contracted(share.start);
    if (now + share.wh > limitWh) throw limitExceeded(meter, direction, share, limitWh, now);
    return { start: share.start, wh: now + share.wh };
  });
}

/**
 * Whether a seller in `sellerZone` and a buyer in `buyerZone` may trade on a listing of `slotMinutes`
 * slots: within one zone, or across zones when the other zone has the same slot length and an
 * inter-zone wheeling charge is configured from the seller's zone to the buyer's; otherwise
 * ZONE_MISMATCH. Checked at proposal, counter and accept (the configuration may have changed).
 */
export function checkZones(
  market: MarketProfile,
  sellerZone: Zone,
  buyerZone: Zone,
  slotMinutes: number,
): void {
  if (sellerZone.id === buyerZone.id) return;
  const mismatch = (why: string) =>
    new HubError(
      'ZONE_MISMATCH',
      `Energy cannot be traded from zone ${sellerZone.id} to zone ${buyerZone.id}: ${why}`,
      {
        sellerZone: sellerZone.id,
        buyerZone: buyerZone.id,
      },
    );
  const other = sellerZone.slotMinutes === slotMinutes ? buyerZone : sellerZone;
  if (other.slotMinutes !== slotMinutes) {
    throw mismatch(
      `zone ${other.id} trades ${other.slotMinutes}-minute slots, the listing ${slotMinutes}-minute ones`,
    );
  }
  if (market.wheeling(sellerZone.id, buyerZone.id) === undefined) {
    throw mismatch('no inter-zone wheeling is configured that way');
  }
}

/**
 * The fee rates a swap's terms are charged at: each side its own meter's zone's fees, and the
 * inter-zone charge from the seller's zone to the buyer's. Taken from the configuration with each
 * offer and kept with the swap, so a trade is settled (or curtailed) at the rates it was agreed at,
 * whatever the configuration says later.
 */
export interface FeeSchedule {
  buyer: ZoneFees;
  seller: ZoneFees;
  interZonePerKwhE4?: bigint;
}

/** The fee rates between a seller in `sellerZone` and a buyer in `buyerZone` now; ZONE_MISMATCH without a link. */
export function feeSchedule(market: MarketProfile, sellerZone: string, buyerZone: string): FeeSchedule {
  const seller = marketZone(market, sellerZone);
  const buyer = marketZone(market, buyerZone);
  const interZone = seller.id === buyer.id ? undefined : market.wheeling(seller.id, buyer.id);
  if (seller.id !== buyer.id && interZone === undefined) {
    // never a cross-zone trade without its charge (checkZones refuses it first)
    throw new HubError(
      'ZONE_MISMATCH',
      `No inter-zone wheeling is configured from zone ${seller.id} to zone ${buyer.id}`,
      {
        sellerZone: seller.id,
        buyerZone: buyer.id,
      },
    );
  }
  return { buyer: buyer.fees, seller: seller.fees, interZonePerKwhE4: interZone };
}

/** The fees of a volume and price at a schedule's rates. */
export const feesAt = (schedule: FeeSchedule, terms: { volumeWh: bigint; priceE4: bigint }): FeesView =>
  feesView(computeFees({ volumeWh: terms.volumeWh, priceE4: terms.priceE4, ...schedule }));

/** A schedule as stored (jsonb): every amount a decimal string. */
export interface StoredFeeSchedule {
  buyer: Record<keyof ZoneFees, string>;
  seller: Record<keyof ZoneFees, string>;
  interZonePerKwhE4: string | null;
}

const storeZoneFees = (f: ZoneFees): Record<keyof ZoneFees, string> => ({
  wheelingBuyerPerKwhE4: f.wheelingBuyerPerKwhE4.toString(),
  wheelingSellerPerKwhE4: f.wheelingSellerPerKwhE4.toString(),
  platformPercentE4: f.platformPercentE4.toString(),
  platformCapPerKwhE4: f.platformCapPerKwhE4.toString(),
});
const loadZoneFees = (f: Record<keyof ZoneFees, string>): ZoneFees => ({
  wheelingBuyerPerKwhE4: BigInt(f.wheelingBuyerPerKwhE4),
  wheelingSellerPerKwhE4: BigInt(f.wheelingSellerPerKwhE4),
  platformPercentE4: BigInt(f.platformPercentE4),
  platformCapPerKwhE4: BigInt(f.platformCapPerKwhE4),
});

export const storeFeeSchedule = (s: FeeSchedule): StoredFeeSchedule => ({
  buyer: storeZoneFees(s.buyer),
  seller: storeZoneFees(s.seller),
  interZonePerKwhE4: s.interZonePerKwhE4 === undefined ? null : s.interZonePerKwhE4.toString(),
});

export const loadFeeSchedule = (s: StoredFeeSchedule): FeeSchedule => ({
  buyer: loadZoneFees(s.buyer),
  seller: loadZoneFees(s.seller),
  interZonePerKwhE4: s.interZonePerKwhE4 === null ? undefined : BigInt(s.interZonePerKwhE4),
});
