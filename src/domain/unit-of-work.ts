import type { EventDraft } from './events.js';
import type { Listing } from './listing.js';
import type { Offer, Swap } from './swap.js';

export type { Listing, Offer, Swap };

/** Settings of the market the rules depend on. */
export interface MarketRules {
  /** trading on a listing ends this long before its deliveryStart */
  gateLeadMs: number;
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
  ): Promise<{ listing: Listing; hasOpen: boolean } | undefined>;
  update(listing: Listing): Promise<void>;
  /** active listings whose gate has closed by `cutoff`, locked; rows other nodes hold are skipped */
  lockGateClosed(cutoff: Date, limit: number): Promise<Listing[]>;
}

/** Swaps and their offers as one transaction sees them. */
export interface SwapRepo {
  insert(swap: Swap, offer: Offer): Promise<void>;
  lock(id: string): Promise<Swap | undefined>;
  /** locks a swap and its listing in one round trip, the listing first */
  lockWithListing(id: string): Promise<{ listing: Listing; swap: Swap } | undefined>;
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
  emit(event: EventDraft): void;
}
