import type { FeesView } from './energy/fees.js';
import type { FeeSchedule } from './energy/trading.js';
import { HubError } from './errors.js';
import type { EventDraft, SwapEventType } from './events.js';
import type { Listing } from './listing.js';
import { formatKwh, formatNotional, formatPrice } from './quantity.js';
import { validationFailed } from './validation.js';

export const SWAP_STATUSES = ['open', 'accepted', 'rejected', 'withdrawn', 'expired', 'voided'] as const;
export type SwapStatus = (typeof SWAP_STATUSES)[number];
export type VoidReason =
  | 'listing_filled'
  | 'listing_cancelled'
  | 'listing_expired'
  | 'insufficient_volume'
  | 'listing_amended';

/** A swap inside the hub; volumes and prices are the current terms (the latest offer). */
export interface Swap {
  id: string;
  listingId: string;
  initiatorId: string;
  initiatorName: string;
  /** the listing owner */
  recipientId: string;
  recipientName: string;
  buyerId: string;
  sellerId: string;
  status: SwapStatus;
  round: number;
  nextActorId: string | null;
  volumeWh: bigint;
  priceE4: bigint;
  expiresAt: Date;
  acceptedAt: Date | null;
  closeReason: VoidReason | null;
  createdAt: Date;
  updatedAt: Date;
  /** the parties' meters and their zones; null on swaps from before meters */
  sellerMeterId: string | null;
  buyerMeterId: string | null;
  sellerZone: string | null;
  buyerZone: string | null;
  /** the fees of the current terms (fixed once accepted); null on swaps from before fees */
  fees: FeesView | null;
  /** the fee rates of the current terms, taken with the latest offer; null on swaps from before fees */
  feeSchedule: FeeSchedule | null;
}

/** One round of the negotiation thread. */
export interface Offer {
  swapId: string;
  round: number;
  authorId: string;
  volumeWh: bigint;
  priceE4: bigint;
  note: string;
  createdAt: Date;
  /** the fees of this offer's terms; null on offers from before fees */
  fees: FeesView | null;
}

export interface SwapView {
  id: string;
  listingId: string;
  initiatorId: string;
  initiatorName: string;
  recipientId: string;
  recipientName: string;
  buyerId: string;
  sellerId: string;
  status: SwapStatus;
  round: number;
  nextActorId: string | null;
  volumeKwh: string;
  pricePerKwh: string;
  expiresAt: string;
  createdAt: string;
  updatedAt: string;
  sellerMeterId: string | null;
  buyerMeterId: string | null;
  fees: FeesView | null;
  acceptedAt?: string;
  notional?: string;
  reason?: VoidReason;
}

export interface OfferView {
  round: number;
  authorId: string;
  volumeKwh: string;
  pricePerKwh: string;
  note: string;
  createdAt: string;
  fees: FeesView | null;
}

export function swapView(s: Swap): SwapView {
  const view: SwapView = {
    id: s.id,
    listingId: s.listingId,
    initiatorId: s.initiatorId,
    initiatorName: s.initiatorName,
    recipientId: s.recipientId,
    recipientName: s.recipientName,
    buyerId: s.buyerId,
    sellerId: s.sellerId,
    status: s.status,
    round: s.round,
    nextActorId: s.nextActorId,
    volumeKwh: formatKwh(s.volumeWh),
    pricePerKwh: formatPrice(s.priceE4),
    expiresAt: s.expiresAt.toISOString(),
    createdAt: s.createdAt.toISOString(),
    updatedAt: s.updatedAt.toISOString(),
    sellerMeterId: s.sellerMeterId,
    buyerMeterId: s.buyerMeterId,
    fees: s.fees,
  };
  if (s.status === 'accepted' && s.acceptedAt) {
    view.acceptedAt = s.acceptedAt.toISOString();
    view.notional = formatNotional(s.volumeWh, s.priceE4);
  }
  if (s.status === 'voided' && s.closeReason) view.reason = s.closeReason;
  return view;
}

export const offerView = (o: Offer): OfferView => ({
  round: o.round,
  authorId: o.authorId,
  volumeKwh: formatKwh(o.volumeWh),
  pricePerKwh: formatPrice(o.priceE4),
  note: o.note,
  createdAt: o.createdAt.toISOString(),
  fees: o.fees,
});

/** The event of a swap change, addressed to both parties. */
export function swapEvent(type: SwapEventType, s: Swap): EventDraft {
  return { type, data: swapView(s), users: [s.initiatorId, s.recipientId] };
}

/** An offer's deadline: the offer TTL from now, never after the listing's gate closure. */
export function offerDeadline(listing: Listing, now: Date, offerTtlMs: number): Date {
  return new Date(Math.min(now.getTime() + offerTtlMs, listing.gateClosesAt.getTime()));
}

/** What one can do to a swap. Propose creates one; the others move an existing one. */
export type SwapAction =
  | { kind: 'counter'; round: number; volumeWh: bigint; priceE4: bigint; expiresAt: Date }
  | { kind: 'accept'; round: number }
  | { kind: 'reject'; round: number }
  | { kind: 'withdraw' }
  | { kind: 'expire' }
  | { kind: 'void'; reason: VoidReason };

/** The actor of an action: a party's user id, or the hub itself (sweeps, listing changes). */
export type Actor = { user: string } | 'hub';

export type Transition = { swap: Swap; event: SwapEventType };

const EVENT_OF: Record<SwapAction['kind'], SwapEventType> = {
  counter: 'swap.countered',
  accept: 'swap.accepted',
  reject: 'swap.rejected',
  withdraw: 'swap.withdrawn',
  expire: 'swap.expired',
  void: 'swap.voided',
};

/**
 * The swap state machine: from (swap, action, actor, now) to the next swap and its event, or a
 * protocol error. Pure: listing volume checks belong to the command that holds the listing.
 */
export function transition(swap: Swap, action: SwapAction, actor: Actor, now: Date): Transition | HubError {
  const hub = actor === 'hub';
  const userId = hub ? undefined : actor.user;
  if (!hub && userId !== swap.initiatorId && userId !== swap.recipientId) {
    return new HubError('NOT_FOUND', 'No such swap'); // a stranger learns nothing
  }
  const userAction = action.kind !== 'expire' && action.kind !== 'void';
  if (hub === userAction)
    return new HubError('FORBIDDEN', `Only ${hub ? 'a party' : 'the hub'} can ${action.kind} a swap`);
  if (swap.status !== 'open') {
    return new HubError('INVALID_STATE', `The swap is ${swap.status}`, { status: swap.status });
  }
  const expired = now.getTime() >= swap.expiresAt.getTime();
  if (userAction && expired)
    return new HubError('INVALID_STATE', 'The swap has expired', { status: 'expired' });
  if (action.kind === 'expire' && !expired)
    return new HubError('INVALID_STATE', 'The swap has not expired yet');

  if (action.kind === 'counter' || action.kind === 'accept' || action.kind === 'reject') {
    if (userId !== swap.nextActorId) return new HubError('NOT_YOUR_TURN', 'The other party must act next');
    if (action.round !== swap.round) {
      return new HubError('CONFLICT', `The swap is at round ${swap.round}; answer the terms you have seen`, {
        round: swap.round,
      });
    }
  }
  if (action.kind === 'counter' && action.volumeWh === swap.volumeWh && action.priceE4 === swap.priceE4) {
    // the same terms again would only reset the clock and pass the turn back: accept them instead
    const message = 'A counter must change the price or the volume';
    return validationFailed(
      [
        { path: 'pricePerKwh', message },
        { path: 'volumeKwh', message },
      ],
      `${message}; to agree to these terms, accept them`,
    );
  }
  if (action.kind === 'withdraw' && userId === swap.nextActorId) {
    return new HubError(
      'FORBIDDEN',
      'Only the author of the latest offer can withdraw it; reject it instead',
    );
  }

  const base = { ...swap, updatedAt: now };
  let next: Swap;
  switch (action.kind) {
    case 'counter':
      next = {
        ...base,
        round: swap.round + 1,
        nextActorId: userId === swap.initiatorId ? swap.recipientId : swap.initiatorId,
        volumeWh: action.volumeWh,
        priceE4: action.priceE4,
        expiresAt: action.expiresAt,
      };
      break;
    case 'accept':
      next = { ...base, status: 'accepted', nextActorId: null, acceptedAt: now };
      break;
    case 'reject':
      next = { ...base, status: 'rejected', nextActorId: null };
      break;
    case 'withdraw':
      next = { ...base, status: 'withdrawn', nextActorId: null };
      break;
    case 'expire':
      next = { ...base, status: 'expired', nextActorId: null };
      break;
    case 'void':
      next = { ...base, status: 'voided', nextActorId: null, closeReason: action.reason };
      break;
  }
  return { swap: next, event: EVENT_OF[action.kind] };
}
