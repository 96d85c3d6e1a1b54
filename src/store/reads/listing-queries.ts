import { QueryTypes, type Sequelize } from 'sequelize';
import type { EnergyType, Listing, ListingStatus, Side } from '../../domain/listing.js';
import { LISTING_COLUMNS, type ListingRow, toListing } from '../commands/listing-repo.js';

/** The market filters of GET /api/v1/listings, parsed. */
export interface ListingFilter {
  side?: Side;
  energyTypes?: EnergyType[];
  zones?: string[];
  minPriceE4?: bigint;
  maxPriceE4?: bigint;
  minAvailableWh?: bigint;
  deliveryFrom?: Date;
  deliveryTo?: Date;
  ownerId?: string;
  statuses: ListingStatus[];
  limit: number;
  /** keyset position: the last item of the previous page */
  after?: { createdAt: Date; id: string };
}

/**
 * One page, newest first, keyed on (created_at, id): a page starts strictly after the previous
 * page's last row, so rows inserted meanwhile never repeat or shift what comes next.
 */
export async function findListings(
  sequelize: Sequelize,
  f: ListingFilter,
): Promise<{ items: Listing[]; more: boolean }> {
  const where: string[] = [];
  const bind: unknown[] = [];
  const p = (v: unknown) => {
    bind.push(v);
    return `$${bind.length}`;
  };
  where.push(
    f.statuses.length === 1 ? `status = ${p(f.statuses[0])}` : `status = ANY(${p(f.statuses)}::text[])`,
  );
  if (f.side) where.push(`side = ${p(f.side)}`);
  if (f.energyTypes?.length) {
    where.push(
      f.energyTypes.length === 1
        ? `energy_type = ${p(f.energyTypes[0])}`
        : `energy_type = ANY(${p(f.energyTypes)}::text[])`,
    );
  }
  if (f.zones?.length) {
    where.push(f.zones.length === 1 ? `zone = ${p(f.zones[0])}` : `zone = ANY(${p(f.zones)}::text[])`);
  }
  if (f.minPriceE4 !== undefined) where.push(`price_e4 >= ${p(f.minPriceE4.toString())}`);
  if (f.maxPriceE4 !== undefined) where.push(`price_e4 <= ${p(f.maxPriceE4.toString())}`);
  if (f.minAvailableWh !== undefined) where.push(`available_wh >= ${p(f.minAvailableWh.toString())}`);
  if (f.deliveryFrom) where.push(`delivery_end > ${p(f.deliveryFrom)}`);
  if (f.deliveryTo) where.push(`delivery_start < ${p(f.deliveryTo)}`);
  if (f.ownerId) where.push(`owner_id = ${p(f.ownerId)}`);
  if (f.after) where.push(`(created_at, id) < (${p(f.after.createdAt)}, ${p(f.after.id)}::uuid)`);
  const rows = await sequelize.query<ListingRow>(
    `SELECT ${LISTING_COLUMNS} FROM listings WHERE ${where.join(' AND ')}
     ORDER BY created_at DESC, id DESC LIMIT ${p(f.limit + 1)}`,
    { bind, type: QueryTypes.SELECT },
  );
  return { items: rows.slice(0, f.limit).map(toListing), more: rows.length > f.limit };
}

export async function findListing(sequelize: Sequelize, id: string): Promise<Listing | undefined> {
  const [row] = await sequelize.query<ListingRow>(`SELECT ${LISTING_COLUMNS} FROM listings WHERE id = $1`, {
    bind: [id],
    type: QueryTypes.SELECT,
  });
  return row && toListing(row);
}
