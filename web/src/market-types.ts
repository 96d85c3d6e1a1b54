// The energy market's objects (PROTOCOL-MARKET.md) as the dashboard reads them: the bundled
// client's types (one definition, the hub's own), under the names the dashboard's modules use.
import type { Fees, Listing, Meter, MeterSlot, Offer, Slot, Swap, Trade } from '../../src/client/index.js';

/** Money flows of a swap's terms; every amount a decimal string with 2 decimals. */
export type FeesView = Fees;
/** One slot's share of a listing's or a trade's volume. */
export type SlotShare = Slot;
export type MarketListing = Listing;
export type MarketSwap = Swap;
export type MarketOffer = Offer;
export type MarketTrade = Trade;
export type { Meter, MeterSlot };

/** The LIMIT_EXCEEDED error's details. */
export interface LimitDetails {
  meterId: string;
  direction?: 'export' | 'import';
  slotStart: string;
  limitKwh: string;
  contractedKwh: string;
  requestedKwh: string;
}
