import { Op, type Sequelize, type WhereOptions } from 'sequelize';
import type { TradeSlot } from '../../domain/energy/settlement.js';
import type { Listing } from '../../domain/listing.js';
import type { Offer, Swap, SwapStatus } from '../../domain/swap.js';
import type { TradeListing } from '../../domain/trade.js';
import { models, type SwapModel } from '../models/models.js';
import { type ListingRecord, type OfferRecord, type SwapRecord, toOffer, toSwap } from '../models/records.js';
import { keysetBefore, keysetPage } from './keyset.js';
import { findTradeSlots } from './trade-slot-queries.js';

/** A keyset position: the sort time and id of the last item of the previous page. */
export interface After {
  at: Date;
  id: string;
}

export interface SwapFilter {
  userId: string;
  statuses?: SwapStatus[];
  role?: 'initiator' | 'recipient';
  listingId?: string;
  limit: number;
  after?: After;
}

/** The caller's swaps, latest activity first, one statement whatever the page size. */
export async function findSwaps(
  sequelize: Sequelize,
  f: SwapFilter,
): Promise<{ items: Swap[]; more: boolean }> {
  const where: WhereOptions<SwapModel>[] = [
    f.role === 'initiator'
      ? { initiatorId: f.userId }
      : f.role === 'recipient'
        ? { recipientId: f.userId }
        : { [Op.or]: [{ initiatorId: f.userId }, { recipientId: f.userId }] },
  ];
  if (f.statuses?.length) where.push({ status: { [Op.in]: f.statuses } });
  if (f.listingId) where.push({ listingId: f.listingId });
  if (f.after) where.push(keysetBefore(sequelize, 'updated_at', f.after.at, f.after.id));
  const { rows, more } = await keysetPage<SwapRecord>(models(sequelize).Swap, {
    where,
    orderBy: 'updatedAt',
    limit: f.limit,
  });
  return { items: rows.map(toSwap), more };
}

/** One swap of the caller with its whole thread: two statements, whatever the number of rounds. */
export async function findSwapWithOffers(
  sequelize: Sequelize,
  userId: string,
  swapId: string,
): Promise<{ swap: Swap; offers: Offer[] } | undefined> {
  const { Swap, Offer } = models(sequelize);
  const row = (await Swap.findOne({
    where: { id: swapId, [Op.or]: [{ initiatorId: userId }, { recipientId: userId }] },
    raw: true,
  })) as SwapRecord | null;
  if (!row) return undefined;
  const offers = (await Offer.findAll({
    where: { swapId },
    order: [['round', 'ASC']],
    raw: true,
  })) as unknown as OfferRecord[];
  return { swap: toSwap(row), offers: offers.map(toOffer) };
}

/** An accepted swap seen from one side, with what the ledger needs of its listing. */
export interface TradeRecord {
  swap: Swap;
  listing: TradeListing;
  /** its slots as stored (none for a trade from before meters) */
  slots: TradeSlot[];
}

const TRADE_LISTING = [
  'energyType',
  'zone',
  'deliveryStart',
  'deliveryEnd',
  'currency',
  'slotMinutes',
] as const;

/** The caller's trades, newest acceptance first, one statement per page (the listing joined). */
export async function findTrades(
  sequelize: Sequelize,
  userId: string,
  limit: number,
  after?: After,
): Promise<{ items: TradeRecord[]; more: boolean }> {
  const { Swap, Listing } = models(sequelize);
  const where: WhereOptions<SwapModel>[] = [
    { status: 'accepted' },
    { [Op.or]: [{ buyerId: userId }, { sellerId: userId }] },
  ];
  if (after) where.push(keysetBefore(sequelize, 'accepted_at', after.at, after.id, 'Swap'));
  const { rows, more } = await keysetPage<
    SwapRecord & { Listing: Pick<ListingRecord, (typeof TRADE_LISTING)[number]> }
  >(Swap, {
    where,
    orderBy: 'acceptedAt',
    limit,
    include: [{ model: Listing, attributes: [...TRADE_LISTING], required: true }],
  });
  const slots = await findTradeSlots(
    sequelize,
    rows.map((r) => r.id),
  );
  return {
    items: rows.map((r) => ({
      slots: slots.get(r.id) ?? [],
      swap: toSwap(r),
      listing: {
        energyType: r.Listing.energyType as Listing['energyType'],
        zone: r.Listing.zone,
        deliveryStart: new Date(r.Listing.deliveryStart),
        deliveryEnd: new Date(r.Listing.deliveryEnd),
        currency: r.Listing.currency,
        slotMinutes: r.Listing.slotMinutes,
      },
    })),
    more,
  };
}
