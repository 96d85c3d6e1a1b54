// The objects of PROTOCOL.md as clients receive them: decimals and times are strings.
// Type-only: the domain's wire types are the one definition; nothing of the domain is bundled.

export type { Session, User } from '../domain/auth/accounts.js';
export type { ListingView as Listing } from '../domain/listing.js';

import type { OfferView, SwapView } from '../domain/swap.js';

export type Offer = OfferView;
/** A swap; `GET /api/v1/swaps/:id` adds the whole offer thread. */
export type Swap = SwapView & { offers?: OfferView[] };

export type { TradeView as Trade } from '../domain/trade.js';
