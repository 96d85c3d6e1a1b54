import { randomUUID } from 'node:crypto';
import { HubError } from './errors.js';
import { changed, isTradable, type Listing, listingEvent, type Trader } from './listing.js';
import { formatKwh } from './quantity.js';
import {
  type Actor,
  offerDeadline,
  type Swap,
  type SwapAction,
  type SwapView,
  swapEvent,
  swapView,
  transition,
  type VoidReason,
} from './swap.js';
import type { UnitOfWork } from './unit-of-work.js';

export interface Terms {
  volumeWh: bigint;
  priceE4: bigint;
  note?: string;
}

function notTradable(listing: Listing): HubError {
  return new HubError(
    'INVALID_STATE',
    listing.status === 'active' ? 'Trading on this listing has closed' : `The listing is ${listing.status}`,
    {
      status: listing.status === 'active' ? 'expired' : listing.status,
    },
  );
}

function checkVolume(listing: Listing, volumeWh: bigint) {
  if (volumeWh > listing.availableWh) {
    throw new HubError('INSUFFICIENT_VOLUME', 'The volume exceeds what the listing has available', {
      availableKwh: formatKwh(listing.availableWh),
    });
  }
}

/** Propose on someone else's active listing: round 1, the owner answers next. */
export async function propose(
  uow: UnitOfWork,
  proposer: Trader,
  listingId: string,
  terms: Terms,
): Promise<SwapView> {
  const actorId = proposer.id;
  const locked = await uow.listings.lockForProposal(listingId, actorId);
  if (!locked) throw new HubError('NOT_FOUND', 'No such listing');
  const { listing } = locked;
  if (!isTradable(listing, uow.now, uow.rules.gateLeadMs)) throw notTradable(listing);
  if (listing.ownerId === actorId) throw new HubError('SELF_SWAP', 'You cannot propose on your own listing');
  checkVolume(listing, terms.volumeWh);
  if (locked.hasOpen) {
    throw new HubError('CONFLICT', 'You already have an open swap on this listing');
  }
  const supply = listing.side === 'supply';
  const swap: Swap = {
    id: randomUUID(),
    listingId,
    initiatorId: actorId,
    initiatorName: proposer.name,
    recipientId: listing.ownerId,
    recipientName: listing.ownerName,
    buyerId: supply ? actorId : listing.ownerId,
    sellerId: supply ? listing.ownerId : actorId,
    status: 'open',
    round: 1,
    nextActorId: listing.ownerId,
    volumeWh: terms.volumeWh,
    priceE4: terms.priceE4,
    expiresAt: offerDeadline(listing, uow.now, uow.rules.offerTtlMs, uow.rules.gateLeadMs),
    acceptedAt: null,
    closeReason: null,
    createdAt: uow.now,
    updatedAt: uow.now,
  };
  await uow.swaps.insert(swap, offerOf(swap, actorId, terms.note));
  uow.emit(swapEvent('swap.proposed', swap));
  return swapView(swap);
}

/**
 * The listing is locked before the swap on every path that needs both (propose, counter, accept,
 * cancel, gate closure), so two transactions never wait on each other in opposite orders.
 */
async function lockListingThenSwap(
  uow: UnitOfWork,
  swapId: string,
): Promise<{ listing: Listing; swap: Swap }> {
  const locked = await uow.swaps.lockWithListing(swapId);
  if (!locked) throw new HubError('NOT_FOUND', 'No such swap');
  return locked;
}

const offerOf = (s: Swap, authorId: string, note = '') => ({
  swapId: s.id,
  round: s.round,
  authorId,
  volumeWh: s.volumeWh,
  priceE4: s.priceE4,
  note,
  createdAt: s.updatedAt,
});

function apply(swap: Swap, action: SwapAction, actor: Actor, now: Date) {
  const t = transition(swap, action, actor, now);
  if (t instanceof HubError) throw t;
  return t;
}

/** Counter: new terms, the next round, the turn handed over, the deadline renewed. */
export async function counter(
  uow: UnitOfWork,
  actorId: string,
  swapId: string,
  round: number,
  terms: Terms,
): Promise<SwapView> {
  const { listing, swap } = await lockListingThenSwap(uow, swapId);
  const t = apply(
    swap,
    {
      kind: 'counter',
      round,
      ...terms,
      expiresAt: offerDeadline(listing, uow.now, uow.rules.offerTtlMs, uow.rules.gateLeadMs),
    },
    { user: actorId },
    uow.now,
  );
  if (!isTradable(listing, uow.now, uow.rules.gateLeadMs)) throw notTradable(listing);
  checkVolume(listing, terms.volumeWh);
  await uow.swaps.update(t.swap);
  await uow.swaps.addOffer(offerOf(t.swap, actorId, terms.note));
  uow.emit(swapEvent(t.event, t.swap));
  return swapView(t.swap);
}

/**
 * Accept, in one transaction: the listing is locked, its available volume checked and reduced
 * (filled at zero), the swap accepted, and the open swaps that no longer fit voided.
 */
export async function accept(
  uow: UnitOfWork,
  actorId: string,
  swapId: string,
  round: number,
): Promise<SwapView> {
  const { listing, swap } = await lockListingThenSwap(uow, swapId);
  const t = apply(swap, { kind: 'accept', round }, { user: actorId }, uow.now);
  if (!isTradable(listing, uow.now, uow.rules.gateLeadMs)) throw notTradable(listing);
  checkVolume(listing, swap.volumeWh);
  const availableWh = listing.availableWh - swap.volumeWh;
  const after = changed(listing, { availableWh, status: availableWh === 0n ? 'filled' : 'active' }, uow.now);
  // only the open swaps that no longer fit are locked and voided; the others keep trading. They
  // are read before the writes, so all the writes go out in one statement at commit.
  const misfits = await uow.swaps.lockOpenOfListing(listing.id, availableWh, swap.id);
  await uow.listings.update(after);
  await uow.swaps.update(t.swap);
  uow.emit(swapEvent(t.event, t.swap));
  uow.emit(listingEvent(after.status === 'filled' ? 'listing.closed' : 'listing.updated', after));
  const reason = after.status === 'filled' ? 'listing_filled' : 'insufficient_volume';
  for (const other of misfits) await voidSwap(uow, other, reason);
  return swapView(t.swap);
}

async function simple(
  uow: UnitOfWork,
  actorId: string,
  swapId: string,
  action: SwapAction,
): Promise<SwapView> {
  const swap = await uow.swaps.lock(swapId);
  if (!swap) throw new HubError('NOT_FOUND', 'No such swap');
  const t = apply(swap, action, { user: actorId }, uow.now);
  await uow.swaps.update(t.swap);
  uow.emit(swapEvent(t.event, t.swap));
  return swapView(t.swap);
}

export const reject = (uow: UnitOfWork, actorId: string, swapId: string, round: number) =>
  simple(uow, actorId, swapId, { kind: 'reject', round });

export const withdraw = (uow: UnitOfWork, actorId: string, swapId: string) =>
  simple(uow, actorId, swapId, { kind: 'withdraw' });

async function voidSwap(uow: UnitOfWork, swap: Swap, reason: VoidReason) {
  const t = apply(swap, { kind: 'void', reason }, 'hub', uow.now);
  await uow.swaps.update(t.swap);
  uow.emit(swapEvent(t.event, t.swap));
}

/** Voids `swaps` (open swaps of a locked listing, locked), each with its event. */
export async function voidSwaps(uow: UnitOfWork, swaps: Swap[], reason: VoidReason): Promise<void> {
  for (const swap of swaps) await voidSwap(uow, swap, reason);
}

/** Voids every open swap of a listing that closed (cancelled, expired); the listing is locked. */
export async function voidOpenSwaps(uow: UnitOfWork, listingId: string, reason: VoidReason): Promise<void> {
  for (const swap of await uow.swaps.lockOpenOfListing(listingId)) await voidSwap(uow, swap, reason);
}

/** The sweep: open swaps past their deadline become expired, at most `limit` per call. */
export async function expireOffers(uow: UnitOfWork, limit: number): Promise<number> {
  const due = await uow.swaps.lockExpired(uow.now, limit);
  for (const swap of due) {
    const t = apply(swap, { kind: 'expire' }, 'hub', uow.now);
    await uow.swaps.update(t.swap);
    uow.emit(swapEvent(t.event, t.swap));
  }
  return due.length;
}
