import { flatSplit } from './energy/slots.js';
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
  /** the owner's meter the energy leaves or enters; null on listings from before meters */
  meterId: string | null;
  /** the length of its zone's slots when it was posted; null on listings from before meters */
  slotMinutes: number | null;
  /** a swap must take the whole available volume (a block order) */
  allOrNone: boolean;
  /** when trading on it ends: deliveryStart minus its zone's gate lead when it was posted */
  gateClosesAt: Date;
}

/** One slot's share of a volume, as listings and trades show it. */
export interface SlotView {
  start: string;
  volumeKwh: string;
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
  allOrNone: boolean;
  slots: SlotView[];
  /** shown to the owner only (never in the market's events) */
  meterId?: string;
}

/**
 * The flat delivery of `volumeWh` over the listing's slots (PROTOCOL-MARKET.md): a listing from
 * before meters, which has no slot grid, delivers it in one share from its deliveryStart.
 */
export function slotShares(
  l: Pick<Listing, 'deliveryStart' | 'deliveryEnd' | 'slotMinutes'>,
  volumeWh: bigint,
) {
  if (l.slotMinutes === null) return [{ start: l.deliveryStart, wh: volumeWh }];
  const slots = (l.deliveryEnd.getTime() - l.deliveryStart.getTime()) / (l.slotMinutes * 60_000);
  return flatSplit(volumeWh, l.deliveryStart, slots, l.slotMinutes);
}

export const slotViews = (
  l: Pick<Listing, 'deliveryStart' | 'deliveryEnd' | 'slotMinutes'>,
  volumeWh: bigint,
): SlotView[] =>
  slotShares(l, volumeWh).map((s) => ({ start: s.start.toISOString(), volumeKwh: formatKwh(s.wh) }));

/** The listing as `viewerId` sees it: its meter is shown to its owner only. */
export function listingView(l: Listing, viewerId?: string): ListingView {
  const view: ListingView = {
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
    allOrNone: l.allOrNone,
    slots: slotViews(l, l.volumeWh),
  };
  if (viewerId !== undefined && viewerId === l.ownerId && l.meterId !== null) view.meterId = l.meterId;
  return view;
}

/** A trader as a command knows them: the id, and the display name shown to others. */
export interface Trader {
  id: string;
  name: string;
}

/** Active and before its gate closure: the only state in which it can be traded. */
export const isTradable = (l: Listing, now: Date): boolean =>
  l.status === 'active' && now.getTime() < l.gateClosesAt.getTime();

/** The event for a change of a listing, addressed to its owner and routed to the market. */
export function listingEvent(type: ListingEventType, l: Listing): EventDraft {
  return {
    type,
    data: listingView(l), // no meter: the market sees the event too
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
