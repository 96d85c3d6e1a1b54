import { randomUUID } from 'node:crypto';
import { HubError } from './errors.js';
import {
  changed,
  gateClosure,
  type Listing,
  type ListingView,
  listingEvent,
  listingView,
} from './listing.js';
import type { CreateListingInput } from './schemas.js';
import { voidOpenSwaps } from './swap-commands.js';
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
  ownerId: string,
  input: CreateListingInput,
): Promise<ListingView> {
  checkNewListing(input, uow.now, uow.rules.gateLeadMs);
  const listing: Listing = {
    id: randomUUID(),
    ownerId,
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

/** Owner only, while active and before gate closure; its open swaps are voided. */
export async function cancelListing(
  uow: UnitOfWork,
  actorId: string,
  listingId: string,
): Promise<ListingView> {
  const listing = await uow.listings.lock(listingId);
  if (!listing) throw new HubError('NOT_FOUND', 'No such listing');
  if (listing.ownerId !== actorId) throw new HubError('FORBIDDEN', 'Only the owner can cancel a listing');
  if (listing.status !== 'active') {
    throw new HubError('INVALID_STATE', `The listing is ${listing.status}`, { status: listing.status });
  }
  if (uow.now.getTime() >= gateClosure(listing, uow.rules.gateLeadMs)) {
    throw new HubError('INVALID_STATE', 'The gate of this listing has closed', { status: 'expired' });
  }
  const cancelled = changed(listing, { status: 'cancelled' }, uow.now);
  await uow.listings.update(cancelled);
  uow.emit(listingEvent('listing.closed', cancelled));
  await voidOpenSwaps(uow, listing.id, 'listing_cancelled');
  return listingView(cancelled);
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
