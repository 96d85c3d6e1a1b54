import type { Listing, ListingRepo } from '../../domain/unit-of-work.js';
import type { CommandStatements } from './command-statements.js';

/** A listings row as PostgreSQL returns it (bigint as text). */
export interface ListingRow {
  id: string;
  owner_id: string;
  side: Listing['side'];
  energy_type: Listing['energyType'];
  volume_wh: string;
  available_wh: string;
  price_e4: string;
  currency: string;
  delivery_start: Date;
  delivery_end: Date;
  zone: string;
  description: string;
  status: Listing['status'];
  version: number;
  created_at: Date;
  updated_at: Date;
}

export const LISTING_COLUMNS = `id, owner_id, side, energy_type, volume_wh, available_wh, price_e4, currency,
  delivery_start, delivery_end, zone, description, status, version, created_at, updated_at`;

export function toListing(r: ListingRow): Listing {
  return {
    id: r.id,
    ownerId: r.owner_id,
    side: r.side,
    energyType: r.energy_type,
    volumeWh: BigInt(r.volume_wh),
    availableWh: BigInt(r.available_wh),
    priceE4: BigInt(r.price_e4),
    currency: r.currency,
    deliveryStart: new Date(r.delivery_start),
    deliveryEnd: new Date(r.delivery_end),
    zone: r.zone,
    description: r.description,
    status: r.status,
    version: r.version,
    createdAt: new Date(r.created_at),
    updatedAt: new Date(r.updated_at),
  };
}

/** `columns` of `alias` as `<alias>_<column>`, to read two tables' rows from one result. */
export function prefixed(columns: string, alias: string): string {
  return columns
    .split(',')
    .map((c) => `${alias}.${c.trim()} AS ${alias}_${c.trim()}`)
    .join(', ');
}

/** The row of `alias` out of a result read with `prefixed`. */
export function unprefixed<R>(row: Record<string, unknown>, alias: string): R {
  const out: Record<string, unknown> = {};
  const p = `${alias}_`;
  for (const k in row) if (k.startsWith(p)) out[k.slice(p.length)] = row[k];
  return out as R;
}

/** The update of a listing's changing state, as a pending write of `statements`. */
export const writeListingUpdate = (statements: CommandStatements, l: Listing) =>
  statements.write(
    `listings:${l.id}`,
    'UPDATE listings SET available_wh = $2, status = $3, version = $4, updated_at = $5 WHERE id = $1',
    [l.id, l.availableWh.toString(), l.status, l.version, l.updatedAt],
    'update',
  );

/** The listings of one command. */
export function listingRepo(statements: CommandStatements): ListingRepo {
  const rows = (sql: string, bind: unknown[]) => statements.read<ListingRow>(sql, bind);
  return {
    async insert(l) {
      await statements.write(
        `listings:${l.id}`,
        `INSERT INTO listings (${LISTING_COLUMNS})
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)`,
        [
          l.id,
          l.ownerId,
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
        ],
      );
    },
    async lock(id) {
      const [row] = await rows(`SELECT ${LISTING_COLUMNS} FROM listings WHERE id = $1 FOR UPDATE`, [id]);
      return row && toListing(row);
    },
    async lockForProposal(id, proposerId) {
      // the open-swap check reads the statement's snapshot, taken before a wait for the lock: a
      // proposal committed meanwhile is caught by swaps_open_per_proposer_key instead
      const [row] = await statements.read<ListingRow & { has_open: boolean }>(
        `SELECT ${LISTING_COLUMNS}, EXISTS (SELECT 1 FROM swaps s
           WHERE s.listing_id = listings.id AND s.initiator_id = $2 AND s.status = 'open') AS has_open
         FROM listings WHERE id = $1 FOR UPDATE`,
        [id, proposerId],
      );
      return row && { listing: toListing(row), hasOpen: row.has_open };
    },
    async update(l) {
      await writeListingUpdate(statements, l);
    },
    async lockGateClosed(cutoff, limit) {
      const found = await rows(
        `SELECT ${LISTING_COLUMNS} FROM listings
         WHERE status = 'active' AND delivery_start <= $1
         ORDER BY delivery_start LIMIT $2 FOR UPDATE SKIP LOCKED`,
        [cutoff, limit],
      );
      return found.map(toListing);
    },
  };
}
