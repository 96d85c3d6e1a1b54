import type { ListingView } from './listing.js';
import { cancelListing, createListing } from './listing-commands.js';
import type { CreateListingInput } from './schemas.js';
import type { UnitOfWork } from './unit-of-work.js';

/** Runs a command in one transaction with its events and, given a key, its idempotency record. */
export interface CommandPort {
  run<R>(
    req: { userId: string; command: string; key?: string; payload: unknown },
    fn: (uow: UnitOfWork) => Promise<R>,
  ): Promise<R>;
}

/**
 * The commands of the market, as both transports call them: the socket passes its requestId, REST
 * its Idempotency-Key. Each returns the protocol view once committed.
 */
export class Market {
  constructor(private readonly commands: CommandPort) {}

  createListing(userId: string, input: CreateListingInput, key?: string): Promise<ListingView> {
    return this.commands.run({ userId, command: 'listing:create', key, payload: input }, (uow) =>
      createListing(uow, userId, input),
    );
  }

  cancelListing(userId: string, listingId: string, key?: string): Promise<ListingView> {
    return this.commands.run({ userId, command: 'listing:cancel', key, payload: { listingId } }, (uow) =>
      cancelListing(uow, userId, listingId),
    );
  }
}
