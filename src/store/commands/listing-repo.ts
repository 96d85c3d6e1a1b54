import { MAX_MATCH_NOTICES, otherSide } from '../../domain/energy/matching.js';
import type { Listing, ListingRepo } from '../../domain/unit-of-work.js';
import {
  camelColumns,
  LISTING_COLUMNS,
  type ListingRecord,
  METER_COLUMNS,
  type MeterRecord,
  toListing,
  toMeter,
} from '../models/records.js';
import { DERIVED_EVENT_POSITION } from '../outbox/event-log.js';
import type { CommandStatements } from './command-statements.js';

/** The columns of a listing read by a command, under their attribute names. */
export const LISTING_SELECT = camelColumns(LISTING_COLUMNS);

/** The update of a listing's changing state, as a pending write of `statements`. */
export const writeListingUpdate = (statements: CommandStatements, l: Listing) =>
  statements.write(
    `listings:${l.id}`,
    `UPDATE listings SET volume_wh = $2, available_wh = $3, price_e4 = $4, status = $5, version = $6, updated_at = $7
     WHERE id = $1`,
    [
      l.id,
      l.volumeWh.toString(),
      l.availableWh.toString(),
      l.priceE4.toString(),
      l.status,
      l.version,
      l.updatedAt,
    ],
    'update',
  );

/** A meter's columns as one JSON object, read by a subquery that share-locks the row unless `lock` is false. */
export const meterJson = (where: string, lock = true) =>
  `(SELECT row_to_json(m) FROM (SELECT ${camelColumns(METER_COLUMNS)} FROM meters WHERE ${where}${lock ? ' FOR SHARE' : ''}) m)`;

/** The listings of one command. */
export function listingRepo(statements: CommandStatements): ListingRepo {
  const rows = (sql: string, bind: unknown[]) => statements.read<ListingRecord>(sql, bind);
  return {
    async insert(l) {
      await statements.write(
        `listings:${l.id}`,
        `INSERT INTO listings (${LISTING_COLUMNS})
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21)`,
        [
          l.id,
          l.ownerId,
          l.ownerName,
          l.side,
          l.energyType,
          l.volumeWh.toString(),
          l.availableWh.toString(),
          l.priceE4.toString(),
          l.currency,
          l.deliveryStart,
          l.deliveryEnd,
          l.zone,
          l.description,
          l.status,
          l.version,
          l.createdAt,
          l.updatedAt,
          l.meterId,
          l.slotMinutes,
          l.allOrNone,
          l.gateClosesAt,
        ],
      );
    },
    async notifyMatches(l, zones) {
      // the new listing's side crosses the other's price: a supply's at or above it, a demand's at or below
      const supply = l.side === 'supply';
      await statements.write(
        `listing_matches:${l.id}`,
        `INSERT INTO events (id, type, at, user_a, user_b, data)
         SELECT (pg_current_xact_id()::text::bigint << 16) + ${DERIVED_EVENT_POSITION} + row_number() OVER (ORDER BY e.price_e4 ${supply ? 'DESC' : 'ASC'}, e.created_at, e.id) - 1,
           'listing.matched', $1, e.owner_id, NULL, jsonb_build_object('listingId', e.id, 'matchId', $2::uuid)
         FROM (SELECT id, owner_id, price_e4, created_at FROM listings
               WHERE status = 'active' AND zone = ANY($3::text[]) AND energy_type = $4 AND side = $5
                 AND owner_id <> $6 AND delivery_start < $7 AND delivery_end > $8 AND gate_closes_at > $1
                 AND available_wh > 0 AND meter_id IS NOT NULL AND price_e4 ${supply ? '>=' : '<='} $9
               ORDER BY price_e4 ${supply ? 'DESC' : 'ASC'}, created_at, id LIMIT ${MAX_MATCH_NOTICES}) e`,
        [
          l.createdAt,
          l.id,
          zones,
          l.energyType,
          otherSide(l.side),
          l.ownerId,
          l.deliveryEnd,
          l.deliveryStart,
          l.priceE4.toString(),
        ],
      );
    },
    async lock(id) {
      const [row] = await rows(`SELECT ${LISTING_SELECT} FROM listings WHERE id = $1 FOR UPDATE`, [id]);
      return row && toListing(row);
    },
    async lockForProposal(id, proposerId, meterId) {
      // the open-swap check reads the statement's snapshot, taken before a wait for the lock: a
      // proposal committed meanwhile is caught by swaps_open_per_proposer_key instead. The
      // proposer's meter rides along, share-locked (a retirement waits for the proposal); only
      // the proposer's own: a stranger's meter is neither shown nor locked.
      const [row] = await statements.read<ListingRecord & { hasOpen: boolean; meter: MeterRecord | null }>(
        `SELECT ${LISTING_SELECT}, EXISTS (SELECT 1 FROM swaps s
           WHERE s.listing_id = listings.id AND s.initiator_id = $2 AND s.status = 'open') AS "hasOpen",
           ${meterJson('id = $3 AND owner_id = $2')} AS meter
         FROM listings WHERE id = $1 FOR UPDATE`,
        [id, proposerId, meterId],
      );
      return (
        row && {
          listing: toListing(row),
          hasOpen: row.hasOpen,
          meter: row.meter ? toMeter(row.meter) : undefined,
        }
      );
    },
    async update(l) {
      await writeListingUpdate(statements, l);
    },
    async lockGateClosed(now, limit) {
      const found = await rows(
        `SELECT ${LISTING_SELECT} FROM listings
         WHERE status = 'active' AND gate_closes_at <= $1
         ORDER BY gate_closes_at LIMIT $2 FOR UPDATE SKIP LOCKED`,
        [now, limit],
      );
      return found.map(toListing);
    },
  };
}
