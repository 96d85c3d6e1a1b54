// The public tape (PROTOCOL-MARKET.md, "Market data and matching"): every trade as the market may
// see it. Its id is the tape's own; no party, meter, listing or swap id is on it.
import { randomUUID } from 'node:crypto';
import type { EventDraft } from '../events.js';
import type { Listing } from '../listing.js';
import { formatKwh, formatPrice } from '../quantity.js';
import type { Swap } from '../swap.js';

export interface TapeEntry {
  id: string;
  zone: string;
  energyType: string;
  deliveryStart: Date;
  deliveryEnd: Date;
  volumeWh: bigint;
  priceE4: bigint;
  at: Date;
}

export interface TapeView {
  id: string;
  zone: string;
  energyType: string;
  deliveryStart: string;
  deliveryEnd: string;
  volumeKwh: string;
  pricePerKwh: string;
  at: string;
}

/** The tape's entry of an accepted swap: its listing's market and window, its terms, its time. */
export const tapeEntry = (
  listing: Pick<Listing, 'zone' | 'energyType' | 'deliveryStart' | 'deliveryEnd'>,
  swap: Pick<Swap, 'volumeWh' | 'priceE4'>,
  at: Date,
): TapeEntry => ({
  id: randomUUID(),
  zone: listing.zone,
  energyType: listing.energyType,
  deliveryStart: listing.deliveryStart,
  deliveryEnd: listing.deliveryEnd,
  volumeWh: swap.volumeWh,
  priceE4: swap.priceE4,
  at,
});

export const tapeView = (e: TapeEntry): TapeView => ({
  id: e.id,
  zone: e.zone,
  energyType: e.energyType,
  deliveryStart: e.deliveryStart.toISOString(),
  deliveryEnd: e.deliveryEnd.toISOString(),
  volumeKwh: formatKwh(e.volumeWh),
  pricePerKwh: formatPrice(e.priceE4),
  at: e.at.toISOString(),
});

/** `market.trade`: to the feed subscribers whose filter matches the trade's type and zone (any side); nobody's personal event. */
export const tapeEvent = (e: TapeEntry): EventDraft => ({
  type: 'market.trade',
  data: tapeView(e),
  users: [],
  market: { energyType: e.energyType, zone: e.zone },
});
