import type { EventDraft } from './events.js';
import type { Listing } from './listing.js';

export type { Listing };

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
  update(listing: Listing): Promise<void>;
  /** active listings whose gate has closed by `cutoff`, locked; rows other nodes hold are skipped */
  lockGateClosed(cutoff: Date, limit: number): Promise<Listing[]>;
}

/**
 * What a command handler works with: the repositories of one transaction and an event sink. The
 * changes and the events emitted commit together or not at all.
 */
export interface UnitOfWork {
  now: Date;
  rules: MarketRules;
  listings: ListingRepo;
  emit(event: EventDraft): void;
}
