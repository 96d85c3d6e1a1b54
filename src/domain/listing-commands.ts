import { randomUUID } from 'node:crypto';
import { HubError } from './errors.js';
import {
  changed,
  gateClosure,
  type Listing,
  type ListingView,
  listingEvent,
  listingView,
  type Trader,
} from './listing.js';
import { formatKwh } from './quantity.js';
import type { CreateListingInput } from './schemas.js';
import { voidOpenSwaps, voidSwaps } from './swap-commands.js';
import type { UnitOfWork } from './unit-of-work.js';
import { validationFailed } from './validation.js';

/** The listing rules of PROTOCOL.md that a schema cannot check: they depend on the clock. */
export function checkNewListing(
  input: Pick<CreateListingInput, 'deliveryStart' | 'deliveryEnd'>,
  now: Date,
  gateLeadMs: number,
) {
  const issues = [];
  if (input.deliveryStart.getTime() >= input.deliveryEnd.getTime()) {
    issues.push({ path: 'deliveryEnd', message: 'must be after deliveryStart' });
  }
  if (input.deliveryStart.getTime() - gateLeadMs <= now.getTime()) {
    issues.push({
      path: 'deliveryStart',
      message:
        gateLeadMs > 0
          ? `must be more than ${gateLeadMs / 1000} s from now (the gate closes then)`
          : 'must be in the future',
    });
  }
  if (issues.length) throw validationFailed(issues);
}

export async function createListing(
  uow: UnitOfWork,
  owner: Trader,
  input: CreateListingInput,
): Promise<ListingView> {
  checkNewListing(input, uow.now, uow.rules.gateLeadMs);
  const listing: Listing = {
    id: randomUUID(),
    ownerId: owner.id,
    ownerName: owner.name,
    side: input.side,
    energyType: input.energyType,
    volumeWh: input.volumeKwh,
    availableWh: input.volumeKwh,
    priceE4: input.pricePerKwh,
    currency: uow.rules.currency,
    deliveryStart: input.deliveryStart,
    deliveryEnd: input.deliveryEnd,
    zone: input.zone,
    description: input.description ?? '',
    status: 'active',
    version: 1,
    createdAt: uow.now,
    updatedAt: uow.now,
  };
  await uow.listings.insert(listing);
  uow.emit(listingEvent('listing.created', listing));
  return listingView(listing);
}

/** The owner's active listing before its gate closure, locked: what cancel and amend may change. */
async function lockOwnTradable(uow: UnitOfWork, actorId: string, listingId: string, verb: string) {
  const listing = await uow.listings.lock(listingId);
  if (!listing) throw new HubError('NOT_FOUND', 'No such listing');
  if (listing.ownerId !== actorId) throw new HubError('FORBIDDEN', `Only the owner can ${verb} a listing`);
  if (listing.status !== 'active') {
    throw new HubError('INVALID_STATE', `The listing is ${listing.status}`, { status: listing.status });
  }
  if (uow.now.getTime() >= gateClosure(listing, uow.rules.gateLeadMs)) {
    throw new HubError('INVALID_STATE', 'The gate of this listing has closed', { status: 'expired' });
  }
  return listing;
}

/** Owner only, while active and before gate closure; its open swaps are voided. */
export async function cancelListing(
  uow: UnitOfWork,
  actorId: string,
  listingId: string,
): Promise<ListingView> {
  const listing = await lockOwnTradable(uow, actorId, listingId, 'cancel');
  const cancelled = changed(listing, { status: 'cancelled' }, uow.now);
  await uow.listings.update(cancelled);
  uow.emit(listingEvent('listing.closed', cancelled));
  await voidOpenSwaps(uow, listing.id, 'listing_cancelled');
  return listingView(cancelled);
}

/** A new price or volume (or both) of a listing; at least one is given. */
export interface Amendment {
  priceE4?: bigint;
  volumeWh?: bigint;
}

/**
 * Owner only, while active and before gate closure (PROTOCOL.md, "v1.1 additions"). The volume
 * may not go below what is already accepted; the available volume moves by as much as the volume.
 * Open swaps keep their own terms, and those above the new available volume are voided
 * (`listing_amended`); a listing amended down to what was accepted is filled.
 */
export async function amendListing(
  uow: UnitOfWork,
  actorId: string,
  listingId: string,
  amendment: Amendment,
): Promise<ListingView> {
  const listing = await lockOwnTradable(uow, actorId, listingId, 'amend');
  const volumeWh = amendment.volumeWh ?? listing.volumeWh;
  const priceE4 = amendment.priceE4 ?? listing.priceE4;
  if (volumeWh === listing.volumeWh && priceE4 === listing.priceE4) {
    const message = "must differ from the listing's";
    const given = [
      ...(amendment.priceE4 !== undefined ? [{ path: 'pricePerKwh', message }] : []),
      ...(amendment.volumeWh !== undefined ? [{ path: 'volumeKwh', message }] : []),
    ];
    throw validationFailed(given, 'The amendment changes nothing');
  }
  const acceptedWh = listing.volumeWh - listing.availableWh;
  if (volumeWh < acceptedWh) {
    throw validationFailed([
      { path: 'volumeKwh', message: `must be at least the ${formatKwh(acceptedWh)} kWh already accepted` },
    ]);
  }
  const availableWh = volumeWh - acceptedWh;
  const status = availableWh === 0n ? 'filled' : 'active';
  const amended = changed(listing, { volumeWh, priceE4, availableWh, status }, uow.now);
  // the swaps that no longer fit are read before the writes, so the writes go out together
  const misfits = await uow.swaps.lockOpenOfListing(listing.id, availableWh);
  await uow.listings.update(amended);
  uow.emit(listingEvent(status === 'filled' ? 'listing.closed' : 'listing.updated', amended));
  await voidSwaps(uow, misfits, 'listing_amended');
  return listingView(amended);
}

/** Gate closure: active listings past it become expired, at most `limit` per call. */
export async function expireClosedGates(uow: UnitOfWork, limit: number): Promise<number> {
  const cutoff = new Date(uow.now.getTime() + uow.rules.gateLeadMs);
  const due = await uow.listings.lockGateClosed(cutoff, limit);
  for (const listing of due) {
    const expired = changed(listing, { status: 'expired' }, uow.now);
    await uow.listings.update(expired);
    uow.emit(listingEvent('listing.closed', expired));
    await voidOpenSwaps(uow, listing.id, 'listing_expired');
  }
  return due.length;
}
