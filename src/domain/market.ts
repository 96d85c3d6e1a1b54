import type { ListingView, Trader } from './listing.js';
import { type Amendment, amendListing, cancelListing, createListing } from './listing-commands.js';
import type { CreateListingInput } from './schemas.js';
import type { SwapView } from './swap.js';
import * as swaps from './swap-commands.js';
import type { UnitOfWork } from './unit-of-work.js';

/** One command of one user, as the store runs it; `key` is its requestId or Idempotency-Key. */
export interface CommandRequest {
  userId: string;
  /** the command name, part of what a key is bound to */
  command: string;
  key?: string;
  /** the parsed payload without its key; a repeat of the key with another payload is CONFLICT */
  payload: unknown;
  /**
   * Set when the command reads and writes only this swap's listing and that listing's swaps, and
   * inserts nothing (accept). A store may then run it in one transaction with other commands
   * confined to the same listing; the command cannot tell.
   */
  confinedTo?: { swapId: string };
}

/** Runs a command in one transaction with its events and, given a key, its idempotency record. */
export interface CommandPort {
  run<R>(req: CommandRequest, fn: (uow: UnitOfWork) => Promise<R>): Promise<R>;
}

/**
 * The commands of the market, as both transports call them: the socket passes its requestId, REST
 * its Idempotency-Key. Each returns the protocol view once committed.
 */
export class Market {
  constructor(private readonly commands: CommandPort) {}

  createListing(owner: Trader, input: CreateListingInput, key?: string): Promise<ListingView> {
    return this.commands.run({ userId: owner.id, command: 'listing:create', key, payload: input }, (uow) =>
      createListing(uow, owner, input),
    );
  }

  cancelListing(userId: string, listingId: string, key?: string): Promise<ListingView> {
    return this.commands.run({ userId, command: 'listing:cancel', key, payload: { listingId } }, (uow) =>
      cancelListing(uow, userId, listingId),
    );
  }

  amendListing(userId: string, listingId: string, amendment: Amendment, key?: string): Promise<ListingView> {
    return this.commands.run(
      { userId, command: 'listing:amend', key, payload: { listingId, ...amendment } },
      (uow) => amendListing(uow, userId, listingId, amendment),
    );
  }

  propose(
    proposer: Trader,
    listingId: string,
    meterId: string,
    terms: swaps.Terms,
    key?: string,
  ): Promise<SwapView> {
    return this.commands.run(
      { userId: proposer.id, command: 'swap:propose', key, payload: { listingId, meterId, ...terms } },
      (uow) => swaps.propose(uow, proposer, listingId, meterId, terms),
    );
  }

  counter(
    userId: string,
    swapId: string,
    round: number,
    terms: swaps.Terms,
    key?: string,
  ): Promise<SwapView> {
    return this.commands.run(
      { userId, command: 'swap:counter', key, payload: { swapId, round, ...terms } },
      (uow) => swaps.counter(uow, userId, swapId, round, terms),
    );
  }

  accept(userId: string, swapId: string, round: number, key?: string): Promise<SwapView> {
    return this.commands.run(
      { userId, command: 'swap:accept', key, payload: { swapId, round }, confinedTo: { swapId } },
      (uow) => swaps.accept(uow, userId, swapId, round),
    );
  }

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
