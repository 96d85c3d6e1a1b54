import type { EventDraft, ListingEventType } from './events.js';
import { formatKwh, formatPrice } from './quantity.js';

export const SIDES = ['supply', 'demand'] as const;
export const ENERGY_TYPES = ['solar', 'wind', 'hydro', 'biomass', 'geothermal', 'other'] as const;
export const LISTING_STATUSES = ['active', 'filled', 'cancelled', 'expired'] as const;

export type Side = (typeof SIDES)[number];
export type EnergyType = (typeof ENERGY_TYPES)[number];
export type ListingStatus = (typeof LISTING_STATUSES)[number];

/** A listing inside the hub: quantities in integer units (Wh, 1/10,000 currency). */
export interface Listing {
  id: string;
  ownerId: string;
  /** the owner's display name when the listing was posted (names do not change) */
  ownerName: string;
  side: Side;
  energyType: EnergyType;
  volumeWh: bigint;
  availableWh: bigint;
  priceE4: bigint;
  currency: string;
  deliveryStart: Date;
  deliveryEnd: Date;
  zone: string;
  description: string;
  status: ListingStatus;
  version: number;
  createdAt: Date;
  updatedAt: Date;
}

/** A listing as PROTOCOL.md shows it. */
export interface ListingView {
  id: string;
  ownerId: string;
  ownerName: string;
  side: Side;
  energyType: EnergyType;
  volumeKwh: string;
  availableKwh: string;
  pricePerKwh: string;
  currency: string;
  deliveryStart: string;
  deliveryEnd: string;
  zone: string;
  description: string;
  status: ListingStatus;
  version: number;
  createdAt: string;
  updatedAt: string;
}

export function listingView(l: Listing): ListingView {
  return {
    id: l.id,
    ownerId: l.ownerId,
    ownerName: l.ownerName,
    side: l.side,
    energyType: l.energyType,
    volumeKwh: formatKwh(l.volumeWh),
    availableKwh: formatKwh(l.availableWh),
    pricePerKwh: formatPrice(l.priceE4),
    currency: l.currency,
    deliveryStart: l.deliveryStart.toISOString(),
    deliveryEnd: l.deliveryEnd.toISOString(),
    zone: l.zone,
    description: l.description,
    status: l.status,
    version: l.version,
    createdAt: l.createdAt.toISOString(),
    updatedAt: l.updatedAt.toISOString(),
  };
}

/** A trader as a command knows them: the id, and the display name shown to others. */
export interface Trader {
  id: string;
  name: string;
}

/** When trading on a listing ends: deliveryStart minus the lead time. */
export const gateClosure = (l: Pick<Listing, 'deliveryStart'>, gateLeadMs: number): number =>
  l.deliveryStart.getTime() - gateLeadMs;

/** Active and before its gate closure: the only state in which it can be traded. */
export const isTradable = (l: Listing, now: Date, gateLeadMs: number): boolean =>
  l.status === 'active' && now.getTime() < gateClosure(l, gateLeadMs);

/** The event for a change of a listing, addressed to its owner and routed to the market. */
export function listingEvent(type: ListingEventType, l: Listing): EventDraft {
  return {
    type,
    data: listingView(l),
    users: [l.ownerId],
    market: { energyType: l.energyType, zone: l.zone, side: l.side },
  };
}

/** A new state of the listing: version up by one, updatedAt now. */
export function changed(
  l: Listing,
  patch: Partial<Pick<Listing, 'availableWh' | 'status' | 'volumeWh' | 'priceE4'>>,
  now: Date,
): Listing {
  return { ...l, ...patch, version: l.version + 1, updatedAt: now };
}
