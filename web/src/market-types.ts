// The energy market's objects (PROTOCOL-MARKET.md) as the dashboard reads them: the bundled
// client's types (one definition, the hub's own), under the names the dashboard's modules use.
import type {
  Fees,
  Listing,
  Meter,
  MeterSlot,
  Offer,
  Slot,
  StatementLine,
  StatementTotals,
  Swap,
  Trade,
} from '../../src/client/index.js';

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

/** A trade's share of one slot: contracted, and once settled the allocations and what settled. */
export type TradeSlotView = MarketTrade['slots'][number];
/** A settled trade's money (the settled slots summed); every amount a decimal string, 2 decimals. */
export type TradeSettlement = NonNullable<MarketTrade['settlement']>;
/** A trade's lifecycle as the hub names it (curtailment shows in the slots' curtailedKwh). */
export type TradeStatus = MarketTrade['status'];

/** One line of GET /api/v1/statements: one settled trade slot from the trader's side. */
export type { StatementLine };

export interface Statement {
  items: StatementLine[];
  totals: StatementTotals;
}

/** One settled slot of a zone, as GET /api/v1/operator/settlements reports it (`sum` is "0.00"). */
export interface SettledSlotReport {
  slotStart: string;
  zone: string;
  settledKwh: string;
  buyersPay: string;
  sellersReceive: string;
  gridOperatorReceives: string;
  platformReceives: string;
  sum: string;
}

/** A VALIDATION_FAILED issue of a readings upload: `row` 1 is the first data row, 0 the whole upload. */
export interface ReadingIssue {
  row?: number;
  path: string;
  message: string;
}

// --- market data (PROTOCOL-MARKET.md, "Market data and matching") ------------------------------
// The candles and the summary mirror the hub's response schemas (the tape's type is the client's).

/** One trade of the public tape (GET /api/v1/market/trades, the `market.trade` event). */
export type { TapeTrade } from '../../src/client/index.js';

/** One candle of GET /api/v1/market/candles: prices at the price scale, volume in kWh. */
export interface Candle {
  start: string;
  open: string;
  high: string;
  low: string;
  close: string;
  volume: string;
}

export type CandleInterval = '15m' | '1h' | '1d';

/** One market (zone and energy type) of GET /api/v1/market/summary. */
export interface MarketSummary {
  zone: string;
  energyType: string;
  lastPrice: string | null;
  vwap24h: string | null;
  volume24hKwh: string;
  trades24h: number;
  bestSupplyPrice: string | null;
  bestDemandPrice: string | null;
}

/** A suggestion of GET /api/v1/listings/:id/matches: the price with the fees the owner would pay or bear. */
export type ListingMatch = Listing & { landedPricePerKwh: string };

/** `listing.matched`: a new listing (`matchId`) crosses the price of the trader's `listingId`. */
export interface ListingMatched {
  listingId: string;
  matchId: string;
}
