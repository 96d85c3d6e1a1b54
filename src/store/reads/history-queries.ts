import { QueryTypes, type Sequelize } from 'sequelize';
import type { Listing } from '../../domain/listing.js';
import type { Offer, Swap, SwapStatus } from '../../domain/swap.js';
import { SWAP_COLUMNS, type SwapRow, toSwap } from '../commands/swap-repo.js';

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
  const bind: unknown[] = [f.userId];
  const p = (v: unknown) => {
    bind.push(v);
    return `$${bind.length}`;
  };
  const where = [
    f.role === 'initiator'
      ? 'initiator_id = $1'
      : f.role === 'recipient'
        ? 'recipient_id = $1'
        : '(initiator_id = $1 OR recipient_id = $1)',
  ];
  if (f.statuses?.length) where.push(`status = ANY(${p(f.statuses)}::text[])`);
  if (f.listingId) where.push(`listing_id = ${p(f.listingId)}`);
  if (f.after) where.push(`(updated_at, id) < (${p(f.after.at)}, ${p(f.after.id)}::uuid)`);
  const rows = await sequelize.query<SwapRow>(
    `SELECT ${SWAP_COLUMNS} FROM swaps WHERE ${where.join(' AND ')}
     ORDER BY updated_at DESC, id DESC LIMIT ${p(f.limit + 1)}`,
    { bind, type: QueryTypes.SELECT },
  );
  return { items: rows.slice(0, f.limit).map(toSwap), more: rows.length > f.limit };
}

interface OfferRow {
  round: number;
  author_id: string;
  volume_wh: string;
  price_e4: string;
  note: string;
  created_at: Date;
}

/** One swap of the caller with its whole thread: two statements, whatever the number of rounds. */
export async function findSwapWithOffers(
  sequelize: Sequelize,
  userId: string,
  swapId: string,
): Promise<{ swap: Swap; offers: Offer[] } | undefined> {
  const [row] = await sequelize.query<SwapRow>(
    `SELECT ${SWAP_COLUMNS} FROM swaps WHERE id = $1 AND (initiator_id = $2 OR recipient_id = $2)`,
    { bind: [swapId, userId], type: QueryTypes.SELECT },
  );
  if (!row) return undefined;
  const offers = await sequelize.query<OfferRow>(
    'SELECT round, author_id, volume_wh, price_e4, note, created_at FROM offers WHERE swap_id = $1 ORDER BY round',
    { bind: [swapId], type: QueryTypes.SELECT },
  );
  return {
    swap: toSwap(row),
    offers: offers.map((o) => ({
      swapId,
      round: o.round,
      authorId: o.author_id,
      volumeWh: BigInt(o.volume_wh),
      priceE4: BigInt(o.price_e4),
      note: o.note,
      createdAt: new Date(o.created_at),
    })),
  };
}

/** An accepted swap seen from one side, with what the ledger needs of its listing. */
export interface TradeRecord {
  swap: Swap;
  listing: Pick<Listing, 'energyType' | 'zone' | 'deliveryStart' | 'deliveryEnd' | 'currency'>;
}

/** The caller's trades, newest acceptance first, one statement per page. */
export async function findTrades(
  sequelize: Sequelize,
  userId: string,
  limit: number,
  after?: After,
): Promise<{ items: TradeRecord[]; more: boolean }> {
  const bind: unknown[] = [userId, limit + 1];
  let keyset = '';
  if (after) {
    bind.push(after.at, after.id);
    keyset = 'AND (s.accepted_at, s.id) < ($3, $4::uuid)';
  }
  const rows = await sequelize.query<
    SwapRow & { l_energy_type: string; l_zone: string; l_start: Date; l_end: Date; l_currency: string }
  >(
    `SELECT ${SWAP_COLUMNS.split(',')
      .map((c) => `s.${c.trim()}`)
      .join(', ')},
            l.energy_type AS l_energy_type, l.zone AS l_zone, l.delivery_start AS l_start,
            l.delivery_end AS l_end, l.currency AS l_currency
     FROM swaps s JOIN listings l ON l.id = s.listing_id
     WHERE s.status = 'accepted' AND (s.buyer_id = $1 OR s.seller_id = $1) ${keyset}
     ORDER BY s.accepted_at DESC, s.id DESC LIMIT $2`,
    { bind, type: QueryTypes.SELECT },
  );
  return {
    items: rows.slice(0, limit).map((r) => ({
      swap: toSwap(r),
      listing: {
        energyType: r.l_energy_type as Listing['energyType'],
        zone: r.l_zone,
        deliveryStart: new Date(r.l_start),
        deliveryEnd: new Date(r.l_end),
        currency: r.l_currency,
      },
    })),
    more: rows.length > limit,
  };
}
