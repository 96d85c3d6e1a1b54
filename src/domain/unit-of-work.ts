import type { AdvisoryLock } from './energy/matching.js';
import type { Meter } from './energy/meters.js';
import type { SlotShare } from './energy/slots.js';
import type { TapeEntry } from './energy/tape.js';
import type { MeterUse } from './energy/trading.js';
import type { MarketProfile } from './energy/zones.js';
import type { EventDraft } from './events.js';
import type { Listing } from './listing.js';
import type { Offer, Swap } from './swap.js';

export type { Listing, Offer, Swap };

/** Settings of the market the rules depend on. */
export interface MarketRules {
  /** the zones and their rules: grid, gate lead, step, tick, bounds, limits' cap factor, fees */
  market: MarketProfile;
  /** an offer lives this long after its latest round */
  offerTtlMs: number;
  currency: string;
}

/** Listings as one transaction sees them. */
export interface ListingRepo {
  insert(listing: Listing): Promise<void>;
  /** reads and locks the listing for the rest of the transaction */
  lock(id: string): Promise<Listing | undefined>;
  /**
   * reads and locks the listing, and tells whether `proposerId` has an open swap on it (as of the
   * read; a race past it meets the one-open-swap constraint when the command commits)
   */
  lockForProposal(
    id: string,
    proposerId: string,
    meterId: string,
  ): Promise<{ listing: Listing; hasOpen: boolean; meter?: Meter } | undefined>;
  update(listing: Listing): Promise<void>;
  /**
   * tells the owners of the active listings a new `listing` crosses, in `zones` (at most
   * MAX_MATCH_NOTICES, the best-crossing first), with a `listing.matched` event each, written with
   * the command's own; a command that calls it must have taken the matching lock (`matchLock`)
   * in an earlier statement, so it sees every crossing listing committed before it
   */
  notifyMatches(listing: Listing, zones: string[]): Promise<void>;
  /** active listings whose gate has closed by `now`, locked; rows other nodes hold are skipped */
  lockGateClosed(now: Date, limit: number): Promise<Listing[]>;
}

/** Swaps and their offers as one transaction sees them. */
export interface SwapRepo {
  insert(swap: Swap, offer: Offer): Promise<void>;
  lock(id: string): Promise<Swap | undefined>;
  /**
   * locks a swap and its listing in one round trip, the listing first; with the swap's meters as
   * they are (not locked: accept locks them with their slots)
   */
  lockWithListing(id: string): Promise<{ listing: Listing; swap: Swap; meters: Meter[] } | undefined>;
  update(swap: Swap): Promise<void>;
  addOffer(offer: Offer): Promise<void>;
  /**
   * the open swaps of a listing, locked (the listing is locked first); only those above `overWh`
   * if given, and never `exceptId`
   */
  lockOpenOfListing(listingId: string, overWh?: bigint, exceptId?: string): Promise<Swap[]>;
  /** open swaps past their deadline, locked; rows other nodes hold are skipped */
  lockExpired(now: Date, limit: number): Promise<Swap[]>;
}

/** Meters and their per-slot contracted volumes as one transaction sees them. */
export interface MeterRepo {
  /**
   * the meter, share-locked for the rest of the transaction: a retirement waits for it; with
   * `lock`, that advisory lock is taken too, in the same statement
   */
  lockShared(id: string, lock?: AdvisoryLock): Promise<Meter | undefined>;
  /**
   * the contracted volume of each use in each slot, by `slotKey`, locked for the rest of the
   * transaction (rows are created empty as needed, all in one fixed order), with the uses' meters
   * share-locked
   */
  lockSlots(uses: MeterUse[], starts: Date[]): Promise<{ meters: Meter[]; contracted: Map<string, bigint> }>;
  /** sets a use's contracted volumes in slots it locked */
  setSlots(use: MeterUse, totals: SlotShare[]): Promise<void>;
}

/** Trades' slots as one transaction sees them. */
export interface TradeRepo {
  /** stores an accepted trade's slots (its flat split), confirmed, nothing curtailed */
  insertSlots(swapId: string, shares: SlotShare[]): Promise<void>;
  /**
   * puts a trade on the public tape and into its candles' rollup, in the shard of `listingId` (the
   * accepts of one listing are serial already; those of different listings spread over the shards)
   */
  insertTape(entry: TapeEntry, listingId: string): Promise<void>;
}

/**
 * What a command handler works with: the repositories of one transaction and an event sink. The
 * changes and the events emitted commit together or not at all. Writes may reach the database
 * later than their call (with the next read or at commit), never out of order.
 */
export interface UnitOfWork {
  now: Date;
  rules: MarketRules;
  listings: ListingRepo;
  swaps: SwapRepo;
  meters: MeterRepo;
  trades: TradeRepo;
  emit(event: EventDraft): void;
}
