import { randomUUID } from 'node:crypto';
import { tapeEntry, tapeEvent } from './energy/tape.js';
import {
  checkOwnShare,
  checkTerms,
  checkZones,
  feeSchedule,
  feesAt,
  type LimitGrid,
  type MeterUse,
  marketZone,
  meterZone,
  ownActiveMeter,
  reserveShares,
  slotKey,
} from './energy/trading.js';
import type { MarketProfile, Zone } from './energy/zones.js';
import { HubError } from './errors.js';
import { changed, isTradable, type Listing, listingEvent, slotShares, type Trader } from './listing.js';
import { requireMeter } from './listing-commands.js';
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
import { validationFailed } from './validation.js';

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
  if (listing.allOrNone && volumeWh !== listing.availableWh) {
    throw validationFailed(
      [{ path: 'volumeKwh', message: `must be the whole ${formatKwh(listing.availableWh)} kWh available` }],
      'This listing is all or none: a swap takes its whole available volume',
    );
  }
}

/** The slot length of a (metered) listing's grid. */
const listingGrid = (l: Listing): number => l.slotMinutes ?? 60;

/**
 * What a meter's limit is held on in trades of `listing`: the listing's own slots (stored when it
 * was posted), the cap factor of the meter's zone.
 */
const gridOf = (listing: Listing, zone: Zone): LimitGrid => ({
  slotMinutes: listingGrid(listing),
  capFactorE4: zone.capFactorE4,
});

/** The zone rule again at counter and accept: the configuration may have changed since the proposal. */
function checkSwapZones(
  market: MarketProfile,
  listing: Listing,
  parts: { sellerZone: string; buyerZone: string },
) {
  checkZones(
    market,
    marketZone(market, parts.sellerZone),
    marketZone(market, parts.buyerZone),
    listingGrid(listing),
  );
}

/** The proposer's part of a swap: the meter of the party who is not the listing's owner. */
const proposerMeterId = (s: Swap) => (s.initiatorId === s.buyerId ? s.buyerMeterId : s.sellerMeterId);

/** A swap from before meters (migration 0005) can be rejected or withdrawn, not countered or accepted. */
function swapMeters(swap: Swap): { seller: string; buyer: string; sellerZone: string; buyerZone: string } {
  const { sellerMeterId, buyerMeterId, sellerZone, buyerZone } = swap;
  if (sellerMeterId && buyerMeterId && sellerZone && buyerZone) {
    return { seller: sellerMeterId, buyer: buyerMeterId, sellerZone, buyerZone };
  }
  throw new HubError(
    'INVALID_STATE',
    'This swap was proposed before meters and can no longer be traded; propose again with a meter',
    { status: swap.status, reason: 'no_meter' },
  );
}

/** Propose on someone else's active listing: round 1, the owner answers next. */
export async function propose(
  uow: UnitOfWork,
  proposer: Trader,
  listingId: string,
  meterId: string,
  terms: Terms,
): Promise<SwapView> {
  const actorId = proposer.id;
  const locked = await uow.listings.lockForProposal(listingId, actorId, meterId);
  if (!locked) throw new HubError('NOT_FOUND', 'No such listing');
  const { listing } = locked;
  if (!isTradable(listing, uow.now)) throw notTradable(listing);
  if (listing.ownerId === actorId) throw new HubError('SELF_SWAP', 'You cannot propose on your own listing');
  const ownerMeterId = requireMeter(listing);
  const meter = ownActiveMeter(locked.meter, actorId);
  const { market } = uow.rules;
  const zone = marketZone(market, listing.zone);
  const ownZone = meterZone(market, meter);
  const supply = listing.side === 'supply';
  checkZones(market, supply ? zone : ownZone, supply ? ownZone : zone, listingGrid(listing));
  checkTerms(zone, terms);
  checkVolume(listing, terms.volumeWh);
  const direction = supply ? 'import' : 'export';
  checkOwnShare(meter, gridOf(listing, ownZone), direction, slotShares(listing, terms.volumeWh));
  if (locked.hasOpen) {
    throw new HubError('CONFLICT', 'You already have an open swap on this listing');
  }
  const sellerZone = supply ? zone.id : ownZone.id;
  const buyerZone = supply ? ownZone.id : zone.id;
  const schedule = feeSchedule(market, sellerZone, buyerZone);
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
    expiresAt: offerDeadline(listing, uow.now, uow.rules.offerTtlMs),
    acceptedAt: null,
    closeReason: null,
    createdAt: uow.now,
    updatedAt: uow.now,
    sellerMeterId: supply ? ownerMeterId : meter.id,
    buyerMeterId: supply ? meter.id : ownerMeterId,
    sellerZone,
    buyerZone,
    fees: feesAt(schedule, terms),
    feeSchedule: schedule,
  };
  await uow.swaps.insert(swap, offerOf(swap, actorId, terms.note));
  uow.emit(swapEvent('swap.proposed', swap));
  return swapView(swap);
}

/**
 * The listing is locked before the swap on every path that needs both (propose, counter, accept,
 * cancel, gate closure), so two transactions never wait on each other in opposite orders.
 */
async function lockListingThenSwap(uow: UnitOfWork, swapId: string) {
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
  fees: s.fees,
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
  const { listing, swap, meters } = await lockListingThenSwap(uow, swapId);
  const t = apply(
    swap,
    {
      kind: 'counter',
      round,
      volumeWh: terms.volumeWh,
      priceE4: terms.priceE4,
      expiresAt: offerDeadline(listing, uow.now, uow.rules.offerTtlMs),
    },
    { user: actorId },
    uow.now,
  );
  if (!isTradable(listing, uow.now)) throw notTradable(listing);
  const parts = swapMeters(swap);
  const { market } = uow.rules;
  checkSwapZones(market, listing, parts);
  checkTerms(marketZone(market, listing.zone), terms);
  checkVolume(listing, terms.volumeWh);
  // the owner's share is within its meter's limit (the listing's volume was); the proposer's may not be
  const proposerMeter = meters.find((m) => m.id === proposerMeterId(swap));
  if (proposerMeter) {
    const direction = listing.side === 'supply' ? 'import' : 'export';
    const grid = gridOf(listing, marketZone(market, proposerMeter.zone));
    checkOwnShare(proposerMeter, grid, direction, slotShares(listing, terms.volumeWh));
  }
  // a new offer is charged at the rates of its time
  const schedule = feeSchedule(market, parts.sellerZone, parts.buyerZone);
  const next: Swap = { ...t.swap, fees: feesAt(schedule, terms), feeSchedule: schedule };
  await uow.swaps.update(next);
  await uow.swaps.addOffer(offerOf(next, actorId, terms.note));
  uow.emit(swapEvent(t.event, next));
  return swapView(next);
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
  if (!isTradable(listing, uow.now)) throw notTradable(listing);
  checkVolume(listing, swap.volumeWh);
  const availableWh = listing.availableWh - swap.volumeWh;
  const after = changed(listing, { availableWh, status: availableWh === 0n ? 'filled' : 'active' }, uow.now);
  // only the open swaps that no longer fit are locked and voided; the others keep trading. They
  // are read before the writes, so all the writes go out in one statement at commit.
  const misfits = await uow.swaps.lockOpenOfListing(listing.id, availableWh, swap.id);
  // The meters' slots last: every accept of a trader's meter, on any listing, waits for their
  // locks, so they are held for as few round trips as can be (this read and the commit); the
  // order (listing, swaps, meter slots) is every transaction's (curtailment's too), so no deadlock.
  const reserved = await reserveLimits(uow, listing, swap);
  await uow.listings.update(after);
  await uow.swaps.update(t.swap);
  for (const r of reserved) await uow.meters.setSlots(r.use, r.totals);
  await uow.trades.insertSlots(swap.id, slotShares(listing, swap.volumeWh));
  const tape = tapeEntry(listing, swap, uow.now);
  await uow.trades.insertTape(tape, listing.id);
  uow.emit(swapEvent(t.event, t.swap));
  uow.emit(listingEvent(after.status === 'filled' ? 'listing.closed' : 'listing.updated', after));
  uow.emit(tapeEvent(tape));
  const reason = after.status === 'filled' ? 'listing_filled' : 'insufficient_volume';
  for (const other of misfits) await voidSwap(uow, other, reason);
  return swapView(t.swap);
}

/**
 * The trade's slot shares added to both meters' contracted volumes, each within its limit in every
 * slot, under the lock of their slot rows (and a share lock of the meters): LIMIT_EXCEEDED, or the
 * new totals to write. Checked in the transaction that reduces the listing, so the limit holds under
 * any concurrency, across listings and nodes.
 */
async function reserveLimits(uow: UnitOfWork, listing: Listing, swap: Swap) {
  requireMeter(listing);
  const parts = swapMeters(swap);
  checkSwapZones(uow.rules.market, listing, parts);
  const shares = slotShares(listing, swap.volumeWh);
  const uses: MeterUse[] = [
    { meterId: parts.seller, direction: 'export' },
    { meterId: parts.buyer, direction: 'import' },
  ];
  const { meters, contracted } = await uow.meters.lockSlots(
    uses,
    shares.map((s) => s.start),
  );
  return uses.map((use) => {
    const meter = meters.find((m) => m.id === use.meterId);
    if (meter?.status !== 'active') {
      const who = use.direction === 'export' ? "seller's" : "buyer's";
      throw new HubError('INVALID_STATE', `The ${who} meter is retired`, {
        status: 'retired',
        meterId: use.meterId,
      });
    }
    const grid = gridOf(listing, marketZone(uow.rules.market, meter.zone));
    const totals = reserveShares(meter, grid, use.direction, shares, (start) => {
      // every slot asked for is locked and answered (created at 0 if new): one missing would be
      // counted empty and the limit not checked, so it is an error, never a 0
      const wh = contracted.get(slotKey(use.meterId, use.direction, start));
      if (wh === undefined)
        throw new Error(`no locked slot row for ${use.meterId} at ${start.toISOString()}`);
      return wh;
    });
    return { use, totals };
  });
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
