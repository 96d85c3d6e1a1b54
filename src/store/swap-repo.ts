import { QueryTypes, type Sequelize, type Transaction } from 'sequelize';
import type { Offer, Swap } from '../domain/swap.js';
import type { SwapRepo } from '../domain/unit-of-work.js';

export interface SwapRow {
  id: string;
  listing_id: string;
  initiator_id: string;
  recipient_id: string;
  buyer_id: string;
  seller_id: string;
  status: Swap['status'];
  round: number;
  next_actor_id: string | null;
  volume_wh: string;
  price_e4: string;
  expires_at: Date;
  accepted_at: Date | null;
  close_reason: Swap['closeReason'];
  created_at: Date;
  updated_at: Date;
}

export const SWAP_COLUMNS = `id, listing_id, initiator_id, recipient_id, buyer_id, seller_id, status, round,
  next_actor_id, volume_wh, price_e4, expires_at, accepted_at, close_reason, created_at, updated_at`;

export function toSwap(r: SwapRow): Swap {
  return {
    id: r.id,
    listingId: r.listing_id,
    initiatorId: r.initiator_id,
    recipientId: r.recipient_id,
    buyerId: r.buyer_id,
    sellerId: r.seller_id,
    status: r.status,
    round: r.round,
    nextActorId: r.next_actor_id,
    volumeWh: BigInt(r.volume_wh),
    priceE4: BigInt(r.price_e4),
    expiresAt: new Date(r.expires_at),
    acceptedAt: r.accepted_at ? new Date(r.accepted_at) : null,
    closeReason: r.close_reason,
    createdAt: new Date(r.created_at),
    updatedAt: new Date(r.updated_at),
  };
}

/** The columns a swap's life changes, in the order of `changing`. */
const CHANGING =
  'status, round, next_actor_id, volume_wh, price_e4, expires_at, accepted_at, close_reason, updated_at';
const changing = (s: Swap) => [
  s.status,
  s.round,
  s.nextActorId,
  s.volumeWh.toString(),
  s.priceE4.toString(),
  s.expiresAt,
  s.acceptedAt,
  s.closeReason,
  s.updatedAt,
];

/** The swaps and offers of one transaction. */
export function swapRepo(sequelize: Sequelize, transaction: Transaction): SwapRepo {
  const rows = (sql: string, bind: unknown[]) =>
    sequelize.query<SwapRow>(sql, { bind, transaction, type: QueryTypes.SELECT });
  const exec = (sql: string, bind: unknown[]) => sequelize.query(sql, { bind, transaction });
  const addOffer = (o: Offer) =>
    exec(
      `INSERT INTO offers (swap_id, round, author_id, volume_wh, price_e4, note, created_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7)`,
      [o.swapId, o.round, o.authorId, o.volumeWh.toString(), o.priceE4.toString(), o.note, o.createdAt],
    );
  return {
    async insert(s, offer) {
      // the swap and its first offer in one statement
      await exec(
        `WITH swap AS (
           INSERT INTO swaps (id, listing_id, initiator_id, recipient_id, buyer_id, seller_id, created_at, ${CHANGING})
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16))
         INSERT INTO offers (swap_id, round, author_id, volume_wh, price_e4, note, created_at)
         VALUES ($1, $9, $17, $11, $12, $18, $7)`,
        [
          s.id,
          s.listingId,
          s.initiatorId,
          s.recipientId,
          s.buyerId,
          s.sellerId,
          s.createdAt,
          ...changing(s),
          offer.authorId,
          offer.note,
        ],
      );
    },
    async lock(id) {
      const [r] = await rows(`SELECT ${SWAP_COLUMNS} FROM swaps WHERE id = $1 FOR UPDATE`, [id]);
      return r && toSwap(r);
    },
    async update(s) {
      await exec(`UPDATE swaps SET (${CHANGING}) = ($2, $3, $4, $5, $6, $7, $8, $9, $10) WHERE id = $1`, [
        s.id,
        ...changing(s),
      ]);
    },
    async addOffer(o) {
      await addOffer(o);
    },
    async hasOpen(listingId, initiatorId) {
      const found = await rows(
        `SELECT id FROM swaps WHERE listing_id = $1 AND initiator_id = $2 AND status = 'open'`,
        [listingId, initiatorId],
      );
      return found.length > 0;
    },
    async lockOpenOfListing(listingId, overWh) {
      const found = await rows(
        `SELECT ${SWAP_COLUMNS} FROM swaps WHERE listing_id = $1 AND status = 'open' AND volume_wh > $2
         ORDER BY id FOR UPDATE`,
        [listingId, (overWh ?? 0n).toString()],
      );
      return found.map(toSwap);
    },
    async lockExpired(now, limit) {
      const found = await rows(
        `SELECT ${SWAP_COLUMNS} FROM swaps WHERE status = 'open' AND expires_at <= $1
         ORDER BY expires_at LIMIT $2 FOR UPDATE SKIP LOCKED`,
        [now, limit],
      );
      return found.map(toSwap);
    },
  };
}
