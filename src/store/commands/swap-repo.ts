import type { Meter } from '../../domain/energy/meters.js';
import { storeFeeSchedule } from '../../domain/energy/trading.js';
import { HubError } from '../../domain/errors.js';
import type { Offer, Swap } from '../../domain/swap.js';
import type { Listing, SwapRepo } from '../../domain/unit-of-work.js';
import {
  camelColumns,
  LISTING_COLUMNS,
  type ListingRecord,
  type MeterRecord,
  SWAP_COLUMNS,
  type SwapRecord,
  toListing,
  toMeter,
  toSwap,
  unprefixed,
} from '../models/records.js';
import type { CommandStatements } from './command-statements.js';
import { meterJson } from './listing-repo.js';

/** The columns of a swap read by a command, under their attribute names. */
const SWAP_SELECT = camelColumns(SWAP_COLUMNS);

/** The columns a swap's life changes, in the order of `changing`. */
const CHANGING =
  'status, round, next_actor_id, volume_wh, price_e4, expires_at, accepted_at, close_reason, updated_at, fees, fee_schedule';
const json = (v: unknown) => (v === null ? null : JSON.stringify(v));
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
  json(s.fees),
  json(s.feeSchedule && storeFeeSchedule(s.feeSchedule)),
];

/** The update of a swap's changing state, as a pending write of `statements`. */
export const writeSwapUpdate = (statements: CommandStatements, s: Swap) =>
  statements.write(
    `swaps:${s.id}`,
    `UPDATE swaps SET (${CHANGING}) = ($2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) WHERE id = $1`,
    [s.id, ...changing(s)],
    'update',
  );

/**
 * Swaps with their listing, locked in one statement, and each swap's meters as they are (not
 * locked). FOR UPDATE OF l, s locks in that order (PostgreSQL locks the row marks in the order of
 * the OF list): the listing before the swaps, as on every other path (docs/swaps.md).
 */
async function lockSwapsWithListing(statements: CommandStatements, where: string, bind: unknown[]) {
  const rows = await statements.read<Record<string, unknown>>(
    `SELECT ${camelColumns(LISTING_COLUMNS, 'l')}, ${camelColumns(SWAP_COLUMNS, 's')},
       ${meterJson('id = s.seller_meter_id', false)} AS "sellerMeter",
       ${meterJson('id = s.buyer_meter_id', false)} AS "buyerMeter"
     FROM swaps s JOIN listings l ON l.id = s.listing_id
     WHERE ${where} FOR UPDATE OF l, s`,
    bind,
  );
  return rows.map((r) => ({
    listing: toListing(unprefixed<ListingRecord>(r, 'l')),
    swap: toSwap(unprefixed<SwapRecord>(r, 's')),
    meters: [r.sellerMeter, r.buyerMeter].filter((m) => m != null).map((m) => toMeter(m as MeterRecord)),
  }));
}

/** A listing and those of `swapIds` that are its swaps, locked in one statement. */
export async function lockSwapsOfListing(
  statements: CommandStatements,
  listingId: string,
  swapIds: string[],
): Promise<{ listing: Listing; swaps: Swap[]; meters: Meter[] } | undefined> {
  const found = await lockSwapsWithListing(statements, 's.id = ANY($1::uuid[]) AND l.id = $2', [
    swapIds,
    listingId,
  ]);
  if (!found.length) return undefined;
  return {
    listing: found[0]!.listing,
    swaps: found.map((f) => f.swap),
    meters: found.flatMap((f) => f.meters),
  };
}

/** The open swaps of a (locked) listing above `overWh` but `exceptIds`, locked. */
export async function lockOpenOfListingExcept(
  statements: CommandStatements,
  listingId: string,
  overWh: bigint,
  exceptIds: string[],
): Promise<Swap[]> {
  const rows = await statements.read<SwapRecord>(
    `SELECT ${SWAP_SELECT} FROM swaps WHERE listing_id = $1 AND status = 'open' AND volume_wh > $2
       AND id <> ALL($3::uuid[])
     ORDER BY id FOR UPDATE`,
    [listingId, overWh.toString(), exceptIds],
  );
  return rows.map(toSwap);
}

/** Violations of swap constraints a command can meet in a race, as the answer it gets. */
export const SWAP_CONSTRAINT_ERRORS: Record<string, () => HubError> = {
  swaps_open_per_proposer_key: () =>
    new HubError('CONFLICT', 'You already have an open swap on this listing'),
};

/** The swaps and offers of one command. */
export function swapRepo(statements: CommandStatements): SwapRepo {
  const rows = (sql: string, bind: unknown[]) => statements.read<SwapRecord>(sql, bind);
  const addOffer = (o: Offer) =>
    statements.write(
      `offers:${o.swapId}:${o.round}`,
      `INSERT INTO offers (swap_id, round, author_id, volume_wh, price_e4, note, created_at, fees)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
      [
        o.swapId,
        o.round,
        o.authorId,
        o.volumeWh.toString(),
        o.priceE4.toString(),
        o.note,
        o.createdAt,
        json(o.fees),
      ],
    );
  return {
    async insert(s, offer) {
      // with its first offer: both go out in the command's next statement
      await statements.write(
        `swaps:${s.id}`,
        `INSERT INTO swaps (id, listing_id, initiator_id, initiator_name, recipient_id, recipient_name, buyer_id,
           seller_id, created_at, seller_meter_id, buyer_meter_id, seller_zone, buyer_zone, ${CHANGING})
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22, $23, $24)`,
        [
          s.id,
          s.listingId,
          s.initiatorId,
          s.initiatorName,
          s.recipientId,
          s.recipientName,
          s.buyerId,
          s.sellerId,
          s.createdAt,
          s.sellerMeterId,
          s.buyerMeterId,
          s.sellerZone,
          s.buyerZone,
          ...changing(s),
        ],
      );
      await addOffer(offer);
    },
    async lock(id) {
      const [r] = await rows(`SELECT ${SWAP_SELECT} FROM swaps WHERE id = $1 FOR UPDATE`, [id]);
      return r && toSwap(r);
    },
    async lockWithListing(id) {
      const [found] = await lockSwapsWithListing(statements, 's.id = $1', [id]);
      return found;
    },
    async update(s) {
      await writeSwapUpdate(statements, s);
    },
    async addOffer(o) {
      await addOffer(o);
    },
    lockOpenOfListing(listingId, overWh, exceptId) {
      return lockOpenOfListingExcept(statements, listingId, overWh ?? 0n, exceptId ? [exceptId] : []);
    },
    async lockExpired(now, limit) {
      const found = await rows(
        `SELECT ${SWAP_SELECT} FROM swaps WHERE status = 'open' AND expires_at <= $1
         ORDER BY expires_at LIMIT $2 FOR UPDATE SKIP LOCKED`,
        [now, limit],
      );
      return found.map(toSwap);
    },
  };
}
