// The objects of PROTOCOL.md as clients receive them: decimals and times are strings.
// Type-only: the domain's wire types are the one definition; nothing of the domain is bundled.

export type { Session, User } from '../domain/auth/accounts.js';
export type { ListingView as Listing } from '../domain/listing.js';

export interface Offer {
  round: number;
  authorId: string;
  volumeKwh: string;
  pricePerKwh: string;
  note: string;
  createdAt: string;
}

export interface Swap {
  id: string;
  listingId: string;
  initiatorId: string;
  recipientId: string;
  buyerId: string;
  sellerId: string;
  status: 'open' | 'accepted' | 'rejected' | 'withdrawn' | 'expired' | 'voided';
  round: number;
  nextActorId: string | null;
  volumeKwh: string;
  pricePerKwh: string;
  expiresAt: string;
  createdAt: string;
  updatedAt: string;
  acceptedAt?: string;
  notional?: string;
  reason?: string;
  offers?: Offer[];
}
