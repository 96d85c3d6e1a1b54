import { randomUUID } from 'node:crypto';
import { matchLock, tradableZones } from './energy/matching.js';
import { checkSlotWindow } from './energy/slots.js';
import {
  checkOwnShare,
  type Direction,
  marketZone,
  meterZone,
  ownActiveMeter,
  termIssues,
} from './energy/trading.js';
import type { Zone } from './energy/zones.js';
import { HubError } from './errors.js';
import {
  changed,
  type Listing,
  type ListingView,
  listingEvent,
  listingView,
  slotShares,
  type Trader,
} from './listing.js';
import { formatKwh } from './quantity.js';
import type { CreateListingInput } from './schemas.js';
import { voidOpenSwaps, voidSwaps } from './swap-commands.js';
import type { UnitOfWork } from './unit-of-work.js';
import { type Issue, validationFailed } from './validation.js';

const MINUTE_MS = 60_000;

/** The meter's direction for a listing's owner: a supply listing's energy leaves its meter. */
export const ownerDirection = (l: Pick<Listing, 'side'>): Direction =>
  l.side === 'supply' ? 'export' : 'import';

/**
 * The listing rules of PROTOCOL.md and PROTOCOL-MARKET.md that a schema cannot check: the zone's
 * slot grid, its gate (which depends on the clock), its step, tick and bounds. Every issue at once.
 */
export function checkNewListing(
  input: Pick<CreateListingInput, 'deliveryStart' | 'deliveryEnd' | 'volumeKwh' | 'pricePerKwh' | 'zone'>,
  now: Date,
  zone: Zone,
) {
  const issues: Issue[] = [];
  if (input.zone !== undefined && input.zone.toLowerCase() !== zone.id.toLowerCase()) {
    issues.push({ path: 'zone', message: `must be the zone of the meter, ${zone.id} (or be left out)` });
  }
  const window = checkSlotWindow(input.deliveryStart, input.deliveryEnd, zone.slotMinutes);
  if (!window.ok) issues.push({ path: window.path, message: window.message });
  const leadMs = zone.gateLeadMinutes * MINUTE_MS;
  if (input.deliveryStart.getTime() - leadMs <= now.getTime()) {
    issues.push({
      path: 'deliveryStart',
      message:
        leadMs > 0
          ? `must be more than ${zone.gateLeadMinutes} minutes from now (the gate of zone ${zone.id} closes then)`
          : 'must be in the future',
    });
  }
  issues.push(...termIssues(zone, { volumeWh: input.volumeKwh, priceE4: input.pricePerKwh }));
  if (issues.length) throw validationFailed(issues);
}

export async function createListing(
  uow: UnitOfWork,
  owner: Trader,
  input: CreateListingInput,
): Promise<ListingView> {
  // the matching lock rides with the meter's read: the listings it crosses are found at commit
  const lock = matchLock(input.energyType, input.side);
  const meter = ownActiveMeter(await uow.meters.lockShared(input.meterId, lock), owner.id);
  const zone = meterZone(uow.rules.market, meter);
  checkNewListing(input, uow.now, zone);
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
    zone: zone.id,
    description: input.description ?? '',
    status: 'active',
    version: 1,
    createdAt: uow.now,
    updatedAt: uow.now,
    meterId: meter.id,
    slotMinutes: zone.slotMinutes,
    allOrNone: input.allOrNone ?? false,
    gateClosesAt: new Date(input.deliveryStart.getTime() - zone.gateLeadMinutes * MINUTE_MS),
  };
  // its own largest slot share within its meter's limit, or it could never be traded
  checkOwnShare(meter, zone, ownerDirection(listing), slotShares(listing, listing.volumeWh));
  await uow.listings.insert(listing);
  uow.emit(listingEvent('listing.created', listing));
  await uow.listings.notifyMatches(listing, tradableZones(uow.rules.market, zone.id, listing.side));
  return listingView(listing, owner.id);
}

/**
 * A listing posted before meters (migration 0005) stays readable and cancellable, but cannot be
 * traded or amended: it has no meter to hold limits against (docs/decisions.md).
 */
export function requireMeter(listing: Listing): string {
  if (listing.meterId !== null) return listing.meterId;
  throw new HubError(
    'INVALID_STATE',
    'This listing was posted before meters and can no longer be traded; post it again with a meter',
    { status: listing.status, reason: 'no_meter' },
  );
}

/** The owner's active listing before its gate closure, locked: what cancel and amend may change. */
async function lockOwnTradable(uow: UnitOfWork, actorId: string, listingId: string, verb: string) {
  const listing = await uow.listings.lock(listingId);
  if (!listing) throw new HubError('NOT_FOUND', 'No such listing');
  if (listing.ownerId !== actorId) throw new HubError('FORBIDDEN', `Only the owner can ${verb} a listing`);
  if (listing.status !== 'active') {
    throw new HubError('INVALID_STATE', `The listing is ${listing.status}`, { status: listing.status });
  }
  if (uow.now.getTime() >= listing.gateClosesAt.getTime()) {
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
  return listingView(cancelled, actorId);
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
  const meterId = requireMeter(listing);
  const zone = marketZone(uow.rules.market, listing.zone);
  const issues = termIssues(zone, { volumeWh: amendment.volumeWh, priceE4: amendment.priceE4 });
  if (issues.length) throw validationFailed(issues);
  if (volumeWh > listing.volumeWh) {
    // a larger volume has larger slot shares: still within the owner's meter's limit
    const meter = ownActiveMeter(await uow.meters.lockShared(meterId), actorId);
    const grid = { slotMinutes: listing.slotMinutes ?? zone.slotMinutes, capFactorE4: zone.capFactorE4 };
    checkOwnShare(meter, grid, ownerDirection(listing), slotShares(listing, volumeWh));
  }
  const availableWh = volumeWh - acceptedWh;
  const status = availableWh === 0n ? 'filled' : 'active';
  const amended = changed(listing, { volumeWh, priceE4, availableWh, status }, uow.now);
  // the swaps that no longer fit are read before the writes, so the writes go out together; on an
  // all-or-none listing, that is every open swap not for exactly the new available volume
  const misfits = listing.allOrNone
    ? (await uow.swaps.lockOpenOfListing(listing.id)).filter((s) => s.volumeWh !== availableWh)
    : await uow.swaps.lockOpenOfListing(listing.id, availableWh);
  await uow.listings.update(amended);
  uow.emit(listingEvent(status === 'filled' ? 'listing.closed' : 'listing.updated', amended));
  await voidSwaps(uow, misfits, 'listing_amended');
  return listingView(amended, actorId);
}

/** Gate closure: active listings past it become expired, at most `limit` per call. */
export async function expireClosedGates(uow: UnitOfWork, limit: number): Promise<number> {
  const due = await uow.listings.lockGateClosed(uow.now, limit);
  for (const listing of due) {
    const expired = changed(listing, { status: 'expired' }, uow.now);
    await uow.listings.update(expired);
    uow.emit(listingEvent('listing.closed', expired));
    await voidOpenSwaps(uow, listing.id, 'listing_expired');
  }
  return due.length;
}
