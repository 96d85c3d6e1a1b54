import type { ListingView } from './listing.js';
import { cancelListing, createListing } from './listing-commands.js';
import type { CreateListingInput } from './schemas.js';
import type { SwapView } from './swap.js';
import * as swaps from './swap-commands.js';
import type { UnitOfWork } from './unit-of-work.js';

/** Runs a command in one transaction with its events and, given a key, its idempotency record. */
export interface CommandPort {
  run<R>(
    req: { userId: string; command: string; key?: string; payload: unknown },
    fn: (uow: UnitOfWork) => Promise<R>,
  ): Promise<R>;
  /** runs an accept, maybe in one transaction with other accepts of its listing; else `run` */
  runAccept?(
    req: { userId: string; command: string; key?: string; payload: unknown },
    swapId: string,
    fn: (uow: UnitOfWork) => Promise<SwapView>,
  ): Promise<SwapView>;
  /** told of each swap proposed or countered (its listing, for runAccept) */
  seen?(swap: SwapView): void;
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

  propose(userId: string, listingId: string, terms: swaps.Terms, key?: string): Promise<SwapView> {
    return this.commands
      .run({ userId, command: 'swap:propose', key, payload: { listingId, ...terms } }, (uow) =>
        swaps.propose(uow, userId, listingId, terms),
      )
      .then(this.saw);
  }

  counter(
    userId: string,
    swapId: string,
    round: number,
    terms: swaps.Terms,
    key?: string,
  ): Promise<SwapView> {
    return this.commands
      .run({ userId, command: 'swap:counter', key, payload: { swapId, round, ...terms } }, (uow) =>
        swaps.counter(uow, userId, swapId, round, terms),
      )
      .then(this.saw);
  }

  accept(userId: string, swapId: string, round: number, key?: string): Promise<SwapView> {
    const req = { userId, command: 'swap:accept', key, payload: { swapId, round } };
    const fn = (uow: UnitOfWork) => swaps.accept(uow, userId, swapId, round);
    return this.commands.runAccept ? this.commands.runAccept(req, swapId, fn) : this.commands.run(req, fn);
  }

  private readonly saw = (swap: SwapView): SwapView => {
    this.commands.seen?.(swap);
    return swap;
  };

  reject(userId: string, swapId: string, round: number, key?: string): Promise<SwapView> {
    return this.commands.run({ userId, command: 'swap:reject', key, payload: { swapId, round } }, (uow) =>
      swaps.reject(uow, userId, swapId, round),
    );
  }

  withdraw(userId: string, swapId: string, key?: string): Promise<SwapView> {
    return this.commands.run({ userId, command: 'swap:withdraw', key, payload: { swapId } }, (uow) =>
      swaps.withdraw(uow, userId, swapId),
    );
  }
}
